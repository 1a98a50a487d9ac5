"""Reporters: each is a pure function of a :class:`~creds_lint.findings.Report` and a :class:`Style` to text."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Protocol

from creds_lint.findings import Report
from creds_lint.reporters import github, json, markdown, sarif, text
from creds_lint.reporters.style import PLAIN, Style


class Reporter(Protocol):
    def __call__(self, report: Report, style: Style = ..., /) -> str: ...


#: Output formats by the name ``--format`` takes (``auto`` is resolved by :func:`resolve`).
REPORTERS: dict[str, Reporter] = {
    "text": text.render,
    "json": json.render,
    "sarif": sarif.render,
    "github": github.render,
    "markdown": markdown.render,
}
FORMATS: tuple[str, ...] = ("auto", *REPORTERS)


def resolve(name: str, environ: Mapping[str, str] = os.environ) -> str:
    """The format ``auto`` stands for: ``github`` inside GitHub Actions, ``text`` anywhere else."""
    if name != "auto":
        return name
    return "github" if environ.get("GITHUB_ACTIONS") == "true" else "text"


__all__ = ["FORMATS", "PLAIN", "REPORTERS", "Reporter", "Style", "resolve"]
