"""How a report is shown to people: colour and verbosity. Machine formats (json, sarif) ignore it.

The reporters stay pure functions of the report and a :class:`Style`; whether stdout is a terminal, and whether
``NO_COLOR`` is set, is decided by the CLI.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from creds_lint.findings import Finding, Report, Severity


class Color(enum.Enum):
    """ANSI SGR codes used by the text reporter."""

    RED = "31"
    YELLOW = "33"
    CYAN = "36"
    GREEN = "32"
    BOLD = "1"
    DIM = "2"


SEVERITY_COLOR = {Severity.ERROR: Color.RED, Severity.WARNING: Color.YELLOW, Severity.INFO: Color.CYAN}

#: Where the documentation lives: output read in a hook or a CI log has neither the docs folder nor the checkout.
DOCS_URL = "https://github.com/creds-lint/creds-lint/blob/main/docs/"

_DOC_PATH = re.compile(r"(?<![\w/.])docs/([\w-]+\.md(?:#[\w-]+)?)")


def linked(text: str) -> str:
    """``docs/PAGE.md`` in a message or remedy, as the page's full URL."""
    return _DOC_PATH.sub(lambda m: DOCS_URL + m.group(1), text)


@dataclass(frozen=True, kw_only=True)
class Style:
    """``color``: use ANSI colours; ``quiet``: show only the errors that fail the run; ``verbose``: list the info
    findings in the text output (else one count line); ``suggest_allow``: offer ready-to-paste allowances for
    destructive findings too (``--suggest-allow``)."""

    color: bool = False
    quiet: bool = False
    verbose: bool = False
    suggest_allow: bool = False

    def paint(self, text: str, color: Color) -> str:
        return f"\x1b[{color.value}m{text}\x1b[0m" if self.color and text else text

    def shown(self, report: Report) -> tuple[Finding, ...]:
        """The findings to show: all of them, or with ``quiet`` only the errors that are not allowed."""
        if not self.quiet:
            return report.findings
        return tuple(f for f in report.findings if f.severity is Severity.ERROR and not f.allowed)


PLAIN = Style()

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """One terminal-safe line: control characters (newlines, escape sequences) from a file's keys are shown
    escaped, so a variable name can neither break the layout nor drive the terminal."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def paragraphs(doc: str) -> list[str]:
    """A docstring's paragraphs as single lines, with reST ````literals```` as Markdown `literals`."""
    return [" ".join(p.split()).replace("``", "`") for p in doc.split("\n\n") if p.strip()]
