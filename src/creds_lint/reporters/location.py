"""Where a finding points, for formats that annotate a repository (SARIF, GitHub annotations).

A finding's file is an :class:`~creds_lint.origin.Origin`; tools that annotate a repository need its path alone,
without the git revision. Every location is in the new version of the file: a removed variable (or a removed file)
has no line there, so it points at the file as a whole and its message names the line of the old version. A line
of the old version would point at another variable of the new file, or past its end.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from creds_lint.allowances import COMMAND_LINE
from creds_lint.findings import Finding
from creds_lint.origin import STDIN


def position(finding: Finding) -> tuple[str, int | None]:
    """``(path, line)`` in the new file; ``line`` is ``None`` (the whole file) for what was removed."""
    return finding.file.path, finding.line


def message(finding: Finding) -> str:
    """The finding's message, with the line of the old version when it has no line in the new file."""
    if finding.line is None and finding.old_line is not None:
        return f"{finding.message} (line {finding.old_line} of the old version)"
    return finding.message


def in_repository(path: str) -> str | None:
    """The path to annotate, or ``None`` when there is no file in the repository: an error about the command line
    itself (a flag, a configuration given with it), or standard input. Such a finding or error is annotated
    without a file."""
    return None if path in (COMMAND_LINE, STDIN) else path


def uri(file_path: str) -> str:
    """A SARIF artifact URI: a relative path stays relative (resolved against the checkout by GitHub), an absolute
    one becomes a ``file://`` URI."""
    if PurePosixPath(file_path).is_absolute():
        return PurePosixPath(file_path).as_uri()
    if PureWindowsPath(file_path).is_absolute():
        return PureWindowsPath(file_path).as_uri()
    return quote(file_path.replace("\\", "/"), safe="/")
