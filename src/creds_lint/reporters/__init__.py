"""Reporters: each is a function of a :class:`~creds_lint.findings.Report` (and nothing else) to text."""

from __future__ import annotations

from collections.abc import Callable

from creds_lint.findings import Report
from creds_lint.reporters import json, text

Reporter = Callable[[Report], str]

#: Output formats by the name ``--format`` takes.
REPORTERS: dict[str, Reporter] = {"text": text.render, "json": json.render}

__all__ = ["REPORTERS", "Reporter"]
