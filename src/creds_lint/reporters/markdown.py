"""``--format markdown``: a summary for people, as GitHub shows it on a workflow run (``$GITHUB_STEP_SUMMARY``)
or as a pull-request comment.

A heading with the verdict, then one table row per error and warning (severity, rule, variable, where, message),
then the info findings as one count line (safe changes, such as a leaf re-issued under its unchanged CA or a
renewal, counted apart from those that depend on a problem their message names, such as a leaf re-issued by a
regenerated CA), the files that could not be checked, the configuration and the summary line. Cells are escaped: a
variable or file name can neither end a cell (``|``), start markup, nor carry a control character.
"""

from __future__ import annotations

import re

from creds_lint.findings import Finding, Report, Severity
from creds_lint.reporters import location
from creds_lint.reporters.style import PLAIN, Style, clean
from creds_lint.reporters.text import configuration_line, info_verdict, summary

_MARKUP = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def cell(text: str) -> str:
    """One table cell: control characters shown escaped, Markdown and HTML markup taken literally."""
    return _MARKUP.sub(r"\\\1", clean(text))


def _where(finding: Finding) -> str:
    path, line = location.position(finding)
    return f"{path}:{line}" if line is not None else path


def _row(finding: Finding) -> str:
    severity = "allowed" if finding.allowed else finding.severity.value
    rule = f"{finding.code} {finding.rule}"
    cells = (severity, rule, finding.variable or "", _where(finding), location.message(finding))
    return "| " + " | ".join(cell(c) for c in cells) + " |"


def render(report: Report, style: Style = PLAIN) -> str:
    shown = [f for f in style.shown(report) if f.severity is not Severity.INFO]
    failing = sum(1 for f in report.findings if f.severity is Severity.ERROR and not f.allowed)
    verdict = "could not check every var-store" if report.errors else ("errors found" if failing else "no error")
    out = [f"### creds-lint: {verdict}", ""]
    if shown:
        out += ["| severity | rule | variable | where | message |", "|---|---|---|---|---|"]
        out += [_row(f) for f in shown]
        out.append("")
    info = [f for f in report.findings if f.severity is Severity.INFO]
    if info and not style.quiet:
        count = f"{len(info)} info finding{'s' if len(info) != 1 else ''}"
        out += [f"{count} ({info_verdict(info)}, listed by the text and JSON output)", ""]
    for error in report.errors:
        out += [f"- could not check {cell(error.file.path)}: {cell(error.message)}"]
    if report.errors:
        out.append("")
    if report.configuration is not None:
        out += [cell(configuration_line(report.configuration)), ""]
    out.append(cell(summary(report)))
    return "\n".join(out) + "\n"
