"""Where a finding points, for formats that need a real path and line (SARIF, GitHub annotations).

A finding's file is an :class:`~creds_lint.origin.Origin`; tools that annotate a repository need its path alone,
without the git revision. A removed variable has no line in the new file: it points at its line
in the old version of the same file.
"""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from urllib.parse import quote

from creds_lint.findings import Finding


def position(finding: Finding) -> tuple[str, int | None]:
    """``(path, line)``: the line of the variable in the new file, or in the old one when it was removed."""
    if finding.line is not None:
        return finding.file.path, finding.line
    if finding.old_line is not None:
        return (finding.old_file or finding.file).path, finding.old_line
    return finding.file.path, None


def uri(file_path: str) -> str:
    """A SARIF artifact URI: a relative path stays relative (resolved against the checkout by GitHub), an absolute
    one becomes a ``file://`` URI."""
    if PurePosixPath(file_path).is_absolute():
        return PurePosixPath(file_path).as_uri()
    if PureWindowsPath(file_path).is_absolute():
        return PureWindowsPath(file_path).as_uri()
    return quote(file_path.replace("\\", "/"), safe="/")
