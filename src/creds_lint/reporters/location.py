"""Where a finding points, for formats that need a real path and line (SARIF, GitHub annotations).

A source label is a path, or ``REV:path`` for a version read from git (``:path`` for the index); tools that
annotate a repository need the path alone. A removed variable has no line in the new file: it points at its line
in the old version of the same file.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from creds_lint.findings import Finding

# ``REV:path`` / ``:path`` / ``:0:path``; a one-letter "rev" is a Windows drive, not a revision.
_REV_PATH = re.compile(r"(?:[^:]{2,}|):(?:[0-3]:)?(?P<path>[^:].*)", re.DOTALL)


def path(label: str) -> str:
    """The file path named by a source label, without a git revision."""
    match = _REV_PATH.fullmatch(label)
    if match is None or "://" in label:
        return label
    return match.group("path")


def position(finding: Finding) -> tuple[str, int | None]:
    """``(path, line)``: the line of the variable in the new file, or in the old one when it was removed."""
    if finding.line is not None:
        return path(finding.file), finding.line
    if finding.old_line is not None:
        return path(finding.old_file or finding.file), finding.old_line
    return path(finding.file), None


def uri(file_path: str) -> str:
    """A SARIF artifact URI: a relative path stays relative (resolved against the checkout by GitHub), an absolute
    one becomes a ``file://`` URI."""
    if PurePosixPath(file_path).is_absolute():
        return PurePosixPath(file_path).as_uri()
    if PureWindowsPath(file_path).is_absolute():
        return PureWindowsPath(file_path).as_uri()
    return quote(file_path.replace("\\", "/"), safe="/")
