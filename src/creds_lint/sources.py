"""What to check: targets made of an old and a new version of a var-store, wherever each version comes from.

A :class:`Source` is a way to get bytes, with its :class:`~creds_lint.origin.Origin` (a file on disk, a git
blob); a :class:`Target` pairs the new
version with the old one it is compared with (``None``: the file is audited alone). The CLI builds targets from
its arguments; :func:`creds_lint.engine.check` turns them into one report.
"""

from __future__ import annotations

import enum
import functools
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from creds_lint.loader import read_file, read_stdin
from creds_lint.origin import STDIN, STDIN_ARGUMENT, Origin


@dataclass(frozen=True, kw_only=True)
class Source:
    """One version of a var-store. ``origin`` says where it comes from; ``label`` names it in reports (a path, or
    ``REV:path`` for a git blob)."""

    origin: Origin
    read: Callable[[], bytes]
    #: The permission bits of the file it reads, when it is a file (``None`` for a git blob).
    mode: Callable[[], int | None] = lambda: None

    @property
    def label(self) -> str:
        return str(self.origin)

    @classmethod
    def file(cls, path: str | Path) -> Source:
        return cls(origin=Origin(path=str(path)), read=lambda: read_file(path), mode=lambda: _mode(path))

    @classmethod
    def stdin(cls) -> Source:
        """Standard input, read once (a stream cannot be read again), named :data:`~creds_lint.origin.STDIN`."""
        return cls(origin=Origin(path=STDIN), read=functools.cache(read_stdin))

    @classmethod
    def argument(cls, path: str) -> Source:
        """A file named on the command line: ``-`` is standard input."""
        return cls.stdin() if path == STDIN_ARGUMENT else cls.file(path)


def _mode(path: str | Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


class Removal(enum.Enum):
    """How a var-store stopped being a regular file at its path (what ``removed-file`` says happened). creds-lint
    reads regular files only: a var-store replaced by a symlink counts as deleted, whatever the link points to."""

    DELETED = "was deleted"
    SYMLINK = "became a symlink"
    SUBMODULE = "became a submodule"
    DIRECTORY = "became a directory"
    MOVED = "was renamed or moved away from its path"


@dataclass(frozen=True, kw_only=True)
class Target:
    """A var-store to check: ``new`` compared with ``old``. ``new`` is ``None`` when the file was deleted.

    ``name`` is how reports name a deleted file (its path, where ``old`` is labelled ``REV:path``); ``removal``
    says how it went (deleted, moved, or replaced by something that is not a regular file). ``by_content``: no
    var-store glob names the file; it is checked because its content reads as a var-store.
    """

    new: Source | None
    old: Source | None = None
    name: str | None = None
    removal: Removal = Removal.DELETED
    by_content: bool = False

    @property
    def origin(self) -> Origin:
        """Where reports say the file is: its new version, or its path for a deleted file."""
        if self.name is not None:
            return Origin(path=self.name)
        source = self.new or self.old
        assert source is not None
        return source.origin

    @property
    def label(self) -> str:
        return str(self.origin)
