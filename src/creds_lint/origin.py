"""Where one version of a file comes from: a typed :class:`Origin`, made once where the file is found.

A file on disk or in the index is its path; a version read from a git revision is ``REV:path`` when shown. Every
stage after the one that finds a file (targets, the engine, allowances, reporters) reads ``origin.rev`` and
``origin.path`` instead of taking a label apart again. :meth:`Origin.parse` is the one parser of a label given as
text (``--from HEAD:creds.yml``): ``REV:path``, ``:path`` and ``:N:path`` (git's index syntax) are read as git
reads them, and a Windows path (``C:\\ops\\creds.yml``) or a URL is a path, never a revision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: How every report names a var-store read from standard input (``-`` on the command line): text, JSON, SARIF and
#: GitHub alike. It is no path: annotations and SARIF locations give it no file in the repository.
STDIN = "<stdin>"
#: The argument that names standard input instead of a file (``creds-lint OLD -``, ``check -``, ``diff OLD -``).
STDIN_ARGUMENT = "-"

# ``REV:path`` / ``:path`` / ``:0:path``. A one-letter "revision" is a Windows drive, and a label with ``://`` a URL.
_REV_PATH = re.compile(r"(?P<rev>[^:]{2,}|):(?:[0-3]:)?(?P<path>[^:].*)", re.DOTALL)


@dataclass(frozen=True, kw_only=True)
class Origin:
    """One version of a file: ``path`` as the user or git names it, and ``rev``, the git revision it was read at.
    ``rev`` is ``None`` for the version under check, which reports name by its path (on disk, in the index, or
    the head of a range), and for any file that is not a git version."""

    path: str
    rev: str | None = None

    def __str__(self) -> str:
        return self.path if self.rev is None else f"{self.rev}:{self.path}"

    @classmethod
    def parse(cls, label: str) -> Origin:
        """The origin a label names. ``:path`` and ``:N:path`` name the index: a path without a revision."""
        match = _REV_PATH.fullmatch(label)
        if match is None or "://" in label:
            return cls(path=label)
        return cls(path=match["path"], rev=match["rev"] or None)
