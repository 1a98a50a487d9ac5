"""``--format github``: GitHub Actions workflow commands, shown as annotations on the pull request.

``::error file=PATH,line=N,title=TITLE::MESSAGE`` per finding (``warning`` and ``notice`` for the lower
severities; an allowed finding is a ``notice``; a removed variable annotates the file as a whole), then the
configuration used (a ``warning`` annotation when it turned rules off or lowered them) and the summary line as
plain log output. Property values and messages are escaped as the runner expects, so no value
can end a command early or start another one.
"""

from __future__ import annotations

from creds_lint.findings import Finding, Report, Severity
from creds_lint.reporters import location
from creds_lint.reporters.style import PLAIN, Style
from creds_lint.reporters.text import configuration_line, summary

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message: ``%``, carriage return and line feed."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: as a message, plus ``:`` and ``,`` which separate properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items() if value is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(finding: Finding) -> str:
    file_path, line = location.position(finding)
    title = f"{finding.code} {finding.rule}"
    message = location.message(finding)
    if finding.allowed:
        title += " (allowed)"
        message += f" [allowed: {finding.reason}]" if finding.reason else " [allowed]"
    name = "notice" if finding.allowed else COMMAND[finding.severity]
    path = location.in_repository(file_path)
    if path is None:  # standard input: no file to annotate; the message says where
        return command(name, f"{file_path}: {message}", title=title)
    return command(name, message, file=path, line=line, title=title)


def render(report: Report, style: Style = PLAIN) -> str:
    out = [annotation(f) for f in style.shown(report)]
    out.extend(
        command("error", e.message, file=location.in_repository(e.file.path), title="creds-lint") for e in report.errors
    )
    note = report.configuration
    if note is not None and (note.off or note.lowered):  # what the configuration took away: an annotation
        out.append(command("warning", configuration_line(note), title="creds-lint configuration"))
    elif note is not None and not style.quiet:
        out.append(configuration_line(note))
    out.append(summary(report))
    return "\n".join(out) + "\n"
