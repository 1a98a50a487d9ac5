"""Work on a second CPU: a value worked out by a forked copy of this process while this one goes on.

A check of a large var-store spends much of its time reading YAML and decoding certificates, and the two versions
of a file are independent. :func:`start` forks a child (through :mod:`multiprocessing`'s ``fork`` context: the
work and all it reads are inherited, nothing is pickled on the way in) that works the value out and sends it back
pickled; :meth:`Pending.result` waits for it. A child started with a sequel (:func:`start_staged`) goes on after
its value: it works on what any later question about the value needs, and answers the one question this process
asks (:meth:`Staged.ask`), or none.

The second CPU only ever changes how long a run takes, never what it finds: whatever goes wrong in the child (an
exception, a value that does not pickle, a child that was killed), :meth:`Pending.result` works the value out in
this process instead, where an error is raised as it would have been without a child. The child says nothing: it
starts with SIGINT and SIGTERM blocked, sends its standard streams (Python's and the descriptors) to
``/dev/null``, ignores Ctrl-C (this process stops it), and leaves through ``os._exit`` without running this
process's clean-ups: an error's text, or a traceback, could quote a secret.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

T = TypeVar("T")
Q = TypeVar("Q")
U = TypeVar("U")


@dataclass(frozen=True)
class Sequel(Generic[Q, U]):
    """What a child goes on with after it sent its value (:func:`start_staged`): ``meanwhile``, pieces of the work
    that any question will need, done until the question comes, then ``answer`` for the question. The question
    can be long (a pipe holds 64 KiB): the child reads it as soon as it comes, and the asking never waits for the
    child's work."""

    meanwhile: Iterable[object]
    answer: Callable[[Q], U]


#: The signals a child must not act on before its streams are closed (a traceback on the terminal).
_HELD = {signal.SIGINT, signal.SIGTERM}

#: Values this process worked out itself because a child it started sent none (and the work did not fail here
#: either): a run whose children all answer leaves it unchanged. The tests that force the second CPU check it.
fallbacks = 0


def cpus() -> int:
    """The CPUs this process may use: those it may run on, capped by a cgroup v2 CPU quota (a container limited
    to one CPU on a large host)."""
    affinity = getattr(os, "sched_getaffinity", None)
    count = len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text(encoding="ascii").split()[:2]
    except (OSError, ValueError):
        return count
    if quota == "max" or not quota.isdigit() or not period.isdigit() or int(period) == 0:
        return count
    return max(1, min(count, int(quota) // int(period)))


def available() -> bool:
    """Whether a child can work in parallel: Linux (``fork`` is its start method; macOS's system frameworks are
    not safe to fork), a second CPU, and no other thread running (its locks would be held for ever in the
    child)."""
    threading = sys.modules.get("threading")
    alone = threading is None or threading.active_count() == 1
    return sys.platform == "linux" and alone and cpus() > 1


@dataclass(frozen=True)
class _Child:
    """A forked child: its process, the pipe it answers through and, for a child with a sequel, the pipe this
    process asks through."""

    process: BaseProcess
    answers: Connection
    questions: Connection | None = None

    def stop(self) -> None:
        self.answers.close()
        if self.questions is not None:
            self.questions.close()
        self.process.terminate()
        self.process.join()

    def receive(self) -> bytes:
        """The child's next message; empty when it died before it answered. An interrupt while waiting stops it."""
        try:
            return self.answers.recv_bytes()
        except (EOFError, OSError):
            return b""
        except BaseException:  # an interrupt while waiting: the child goes with this process
            self.stop()
            raise


class Pending(Generic[T]):
    """A value being worked out, by a child when ``child`` is given: :meth:`result` gives it."""

    def __init__(self, work: Callable[[], T], *, child: _Child | None = None) -> None:
        self._work = work
        self._child = child

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop a child whose value was not asked for (the run ended early, on an error or an interrupt)."""
        child, self._child = self._child, None
        if child is not None:
            child.stop()

    def meanwhile(self, work: Iterable[object]) -> None:
        """Do ``work`` (each item a small piece of what this process would do later anyway) until the child's
        value is ready or the work is done: the time this process would spend waiting."""
        if self._child is None:
            return
        answers = self._child.answers
        for _ in work:
            if answers.poll():
                return

    def result(self) -> T:
        """The value: the child's, or (when there is no child, or it failed) worked out here."""
        child, self._child = self._child, None
        if child is None:
            return self._work()
        payload = child.receive()
        self._done(child, payload)
        return self._loaded(payload)

    def _done(self, child: _Child, payload: bytes) -> None:
        """The child's part is over once it has sent this message (``payload``)."""
        child.answers.close()
        child.process.join()

    def _loaded(self, payload: bytes) -> T:
        global fallbacks  # noqa: PLW0603 - a count of the whole process, for the tests
        try:
            value: T = pickle.loads(payload)  # noqa: S301 - written by this process's own child, through its pipe
        except Exception:  # no value (an empty message), or none that loads: work it out here
            value = self._work()
            fallbacks += 1
        return value


class Staged(Pending[T], Generic[T, Q, U]):
    """A value being worked out by a child that goes on with its sequel: :meth:`ask` it one question about the
    value, after :meth:`result`. Without a child, or when it failed, the sequel runs here on this process's value."""

    def __init__(
        self, work: Callable[[], T], sequel: Callable[[T], Sequel[Q, U]], *, child: _Child | None = None
    ) -> None:
        super().__init__(work, child=child)
        self._sequel = sequel
        self._asked: _Child | None = None  # the child, after its value, until it is asked (or stopped)
        self._value: tuple[T] | None = None

    def close(self) -> None:
        super().close()
        asked, self._asked = self._asked, None
        if asked is not None:
            asked.stop()

    def _done(self, child: _Child, payload: bytes) -> None:
        if payload:
            self._asked = child  # it goes on with the sequel, and waits for the question
        else:
            child.stop()

    def result(self) -> T:
        if self._value is None:
            self._value = (super().result(),)
        return self._value[0]

    def ask(self, question: Q) -> Pending[U]:
        """The answer to ``question`` about the value (:meth:`result`): from the child when it is still there
        (it has been working on it meanwhile), else worked out here."""
        value = self.result()
        child, self._asked = self._asked, None

        def here() -> U:
            return self._sequel(value).answer(question)

        if child is None or child.questions is None:
            return Pending(here)
        with contextlib.suppress(OSError):  # the child has gone (its sequel failed): result() gets no answer
            child.questions.send_bytes(pickle.dumps(question, protocol=pickle.HIGHEST_PROTOCOL))
        child.questions.close()
        return Pending(here, child=child)


def start(work: Callable[[], T]) -> Pending[T]:
    """``work()`` worked out in a forked child when :func:`available`, else when the result is asked for."""
    if not available():
        return Pending(work)
    return Pending(work, child=_fork(work, None))


def start_staged(work: Callable[[], T], sequel: Callable[[T], Sequel[Q, U]]) -> Staged[T, Q, U]:
    """:func:`start`, with a child that then goes on with ``sequel(value)`` and answers one question with it."""
    if not available():
        return Staged(work, sequel)
    return Staged(work, sequel, child=_fork(work, sequel))


def _fork(work: Callable[[], object], sequel: Callable[[Any], Sequel[Any, Any]] | None) -> _Child:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    answers, answer_end = context.Pipe(duplex=False)
    question_end, questions = context.Pipe(duplex=False) if sequel is not None else (None, None)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # what this process buffered must not be written a second time by the child
    process = context.Process(target=_answer, args=(work, sequel, answer_end, question_end), daemon=True)
    with _signals_held():
        process.start()
    answer_end.close()
    if question_end is not None:
        question_end.close()
    return _Child(process=process, answers=answers, questions=questions)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM blocked while the child is forked: it starts with them blocked, and this process gets
    any that came meanwhile when they are unblocked."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _answer(
    work: Callable[[], object],
    sequel: Callable[[Any], Sequel[Any, Any]] | None,
    answers: Connection,
    questions: Connection | None,
) -> None:
    """In the child: send ``work()`` pickled, or an empty message when it cannot be had; with a sequel, then work
    on it until the question comes, and send the answer, or an empty message. Never a word."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops the child
    devnull = open(os.devnull, "w")  # noqa: SIM115 - the child's streams until it exits
    for descriptor in (1, 2):
        os.dup2(devnull.fileno(), descriptor)
    sys.stdout = sys.stderr = devnull
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    value = _send(answers, work)
    if sequel is None or questions is None or value is _FAILED:
        return
    try:
        follow = sequel(value)
        for _ in follow.meanwhile:
            if questions.poll():
                break
        question = pickle.loads(questions.recv_bytes())  # noqa: S301 - written by the parent, through its pipe
    except BaseException:  # the sequel failed, or the parent asks nothing: it stops this child, or has gone
        return
    _send(answers, lambda: follow.answer(question))


#: What :func:`_send` gives for work that failed (or whose value did not pickle).
_FAILED = object()


def _send(answers: Connection, work: Callable[[], object]) -> object:
    """``work()`` sent pickled (an empty message when it cannot be had), and given."""
    try:
        value = work()
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # any failure: the parent works the value out itself
        value, payload = _FAILED, b""
    with contextlib.suppress(OSError):  # the parent has gone
        answers.send_bytes(payload)
    return value
