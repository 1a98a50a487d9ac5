"""Work on a second CPU: a value worked out by a forked copy of this process while this one goes on.

A check of a large var-store spends much of its time reading YAML and decoding certificates, and the two versions
of a file are independent. :func:`start` forks a child (through :mod:`multiprocessing`'s ``fork`` context: the
work and all it reads are inherited, nothing is pickled on the way in) that works the value out and sends it back
pickled; :meth:`Pending.result` waits for it.

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
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

T = TypeVar("T")

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


class Pending(Generic[T]):
    """A value being worked out, by a child when ``process`` is given: :meth:`result` gives it."""

    def __init__(
        self, work: Callable[[], T], *, receiver: Connection | None = None, process: BaseProcess | None = None
    ) -> None:
        self._work = work
        self._receiver = receiver
        self._process = process

    def __enter__(self) -> Pending[T]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop a child whose value was not asked for (the run ended early, on an error or an interrupt)."""
        receiver, process = self._receiver, self._process
        self._receiver = self._process = None
        if receiver is not None and process is not None:
            receiver.close()
            process.terminate()
            process.join()

    def meanwhile(self, work: Iterable[object]) -> None:
        """Do ``work`` (each item a small piece of what this process would do later anyway) until the child's
        value is ready or the work is done: the time this process would spend waiting."""
        receiver = self._receiver
        if receiver is None:
            return
        for _ in work:
            if receiver.poll():
                return

    def result(self) -> T:
        """The value: the child's, or (when there is no child, or it failed) worked out here."""
        global fallbacks  # noqa: PLW0603 - a count of the whole process, for the tests
        receiver, process = self._receiver, self._process
        if receiver is None or process is None:
            return self._work()
        try:
            payload = receiver.recv_bytes()
        except (EOFError, OSError):
            payload = b""  # the child died before it answered
        except BaseException:  # an interrupt while waiting: the child goes with this process
            self.close()
            raise
        self._receiver = self._process = None
        receiver.close()
        process.join()
        try:
            value: T = pickle.loads(payload)  # noqa: S301 - written by this process's own child, through its pipe
        except Exception:  # no value (an empty message), or none that loads: work it out here
            value = self._work()
            fallbacks += 1
        return value


def start(work: Callable[[], T]) -> Pending[T]:
    """``work()`` worked out in a forked child when :func:`available`, else when the result is asked for."""
    if not available():
        return Pending(work)
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # what this process buffered must not be written a second time by the child
    process = context.Process(target=_answer, args=(work, sender), daemon=True)
    with _signals_held():
        process.start()
    sender.close()
    return Pending(work, receiver=receiver, process=process)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM blocked while the child is forked: it starts with them blocked, and this process gets
    any that came meanwhile when they are unblocked."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _answer(work: Callable[[], object], sender: Connection) -> None:
    """In the child: send ``work()`` pickled, or an empty message when it cannot be had; never a word."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops the child
    devnull = open(os.devnull, "w")  # noqa: SIM115 - the child's streams until it exits
    for descriptor in (1, 2):
        os.dup2(devnull.fileno(), descriptor)
    sys.stdout = sys.stderr = devnull
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)
    try:
        payload = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # any failure: the parent works the value out itself
        payload = b""
    with contextlib.suppress(OSError):  # the parent has gone
        sender.send_bytes(payload)
