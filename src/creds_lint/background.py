"""Work on a second CPU: a value worked out by a forked copy of this process while this one goes on.

A check of a large var-store spends much of its time reading YAML, and the two versions of a file are read
independently. :func:`start` forks a child (through :mod:`multiprocessing`'s ``fork`` context: the work and all
it reads are inherited, nothing is pickled on the way in) that works the value out and sends it back pickled;
:meth:`Pending.result` waits for it.

The second CPU only ever changes how long a run takes, never what it finds: whatever goes wrong in the child (an
exception, a value that does not pickle, a child that was killed), :meth:`Pending.result` works the value out in
this process instead, where an error is raised as it would have been without a child. The child says nothing:
its standard streams go to ``/dev/null`` (an error's text, or a traceback, could quote a secret), and it leaves
through ``os._exit`` without running this process's clean-ups.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

T = TypeVar("T")


def cpus() -> int:
    """The CPUs this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def available() -> bool:
    """Whether a child can work in parallel: a second CPU, ``fork`` (POSIX; not Windows), and no other thread
    running (a thread's locks would be held for ever in the child)."""
    threading = sys.modules.get("threading")
    alone = threading is None or threading.active_count() == 1
    return hasattr(os, "fork") and alone and cpus() > 1


class Pending(Generic[T]):
    """A value being worked out: :meth:`result` gives it."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._receiver: Connection | None = None
        self._process: BaseProcess | None = None

    def __enter__(self) -> Pending[T]:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop a child whose value was not asked for (the run ended early, on an error)."""
        receiver, process = self._receiver, self._process
        self._receiver = self._process = None
        if receiver is not None and process is not None:
            receiver.close()
            process.terminate()
            process.join()

    def result(self) -> T:
        """The value: the child's, or (when there is no child, or it failed) worked out here."""
        receiver, process = self._receiver, self._process
        self._receiver = self._process = None
        if receiver is None or process is None:
            return self._work()
        try:
            payload = receiver.recv_bytes()
        except (EOFError, OSError):
            payload = b""  # the child died before it answered
        finally:
            receiver.close()
            process.join()
        if not payload:
            return self._work()
        value: T = pickle.loads(payload)  # noqa: S301 - written by this process's own fork, through its own pipe
        return value


def start(work: Callable[[], T]) -> Pending[T]:
    """``work()`` worked out in a forked child when :func:`available`, else when the result is asked for."""
    pending = Pending(work)
    if not available():
        return pending
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # what this process buffered must not be written a second time by the child
    process = context.Process(target=_answer, args=(work, sender), daemon=True)
    process.start()
    sender.close()
    pending._receiver, pending._process = receiver, process
    return pending


def _answer(work: Callable[[], object], sender: Connection) -> None:
    """In the child: send ``work()`` pickled, or an empty message when it cannot be had; never a word."""
    devnull = open(os.devnull, "w")  # noqa: SIM115 - the child's streams until it exits
    for descriptor in (1, 2):
        os.dup2(devnull.fileno(), descriptor)
    sys.stdout = sys.stderr = devnull
    try:
        payload = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # any failure: the parent works the value out itself
        payload = b""
    with contextlib.suppress(OSError):  # the parent has gone
        sender.send_bytes(payload)
