"""``--format text``: for people. Grouped by file, one line per finding, a summary line."""

from __future__ import annotations

from itertools import groupby

from creds_lint.findings import Finding, Report, Severity


def location(finding: Finding) -> str:
    """``file:line`` of a finding: the new file, or the old one for something that was removed."""
    if finding.line is not None:
        return f"{finding.file}:{finding.line}"
    if finding.old_line is not None and finding.old_file is not None:
        return f"{finding.old_file}:{finding.old_line}"
    return finding.file


def line(finding: Finding) -> str:
    subject = finding.variable or ""
    if finding.field:
        subject += f".{finding.field}"
    allowed = f" [allowed: {finding.reason}]" if finding.allowed else ""
    return (
        f"{location(finding)}: {finding.severity.value} {finding.code} {finding.rule}: "
        f"{subject + ': ' if subject else ''}{finding.message}{allowed}"
    )


def summary(report: Report) -> str:
    counts = [
        f"{report.count(s)} {s.value}{'s' if report.count(s) != 1 and s is not Severity.INFO else ''}"
        for s in reversed(Severity)
    ]
    allowed = sum(1 for f in report.findings if f.allowed)
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    text = f"{', '.join(counts)} in {files}"
    if allowed:
        text += f" ({allowed} allowed)"
    if report.errors:
        text += f"; {len(report.errors)} could not be checked"
    return text


def render(report: Report) -> str:
    if report.errors and not report.findings:
        return ""  # the one-line errors on stderr say it all
    out: list[str] = []
    for file, group in groupby(report.findings, key=lambda f: f.file):
        out.append(f"{file}")
        out.extend(f"  {line(f)}" for f in group)
    out.append(summary(report))
    return "\n".join(out) + "\n"
