"""Allowances: an operator's statement that one finding is a deliberate change.

An allowance names a rule and a variable, gives a reason, and may be limited to files (``file``: a glob, in the
dialect of :mod:`creds_lint.globs`, anchored at the folder of the configuration file; with ``file`` the variable
may be left out, for findings about a whole file such as ``removed-file``), in time (``expires``: the last day it
applies) and to one exact value (``fingerprint``: the ``sha256:…`` of the variable's value in the new file, as
findings show it; for a removed variable, of the value that was removed). A finding it covers is still reported,
marked allowed with the reason, and never fails the run. The engine applies allowances after the rules ran, in
its decision step; once every file was checked, it reports what each allowance matched over the whole run
(``unused-allowance``, ``expired-allowance``: :mod:`creds_lint.rules.verdicts`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from creds_lint.findings import WITHHELD, Finding
from creds_lint.globs import TOP, Globs, Root
from creds_lint.memo import cached

COMMAND_LINE = "command line"
COMMAND_LINE_REASON = "allowed on the command line"


@dataclass(frozen=True, kw_only=True)
class Allowance:
    """One deliberate change. ``source`` and ``line`` say where it was written (a config file, or the command
    line); ``root``, where its ``file`` glob is anchored (the folder of that file)."""

    rule: str
    variable: str | None
    reason: str
    file: str | None = None
    expires: date | None = None
    fingerprint: str | None = None
    source: str = COMMAND_LINE
    line: int | None = None
    root: Root = TOP

    def expired(self, today: date) -> bool:
        """Whether ``today`` is past the last day the allowance applies."""
        return self.expires is not None and today > self.expires

    def names(self, finding: Finding) -> bool:
        """Whether it is about this finding's rule, variable and file (whatever its fingerprint and date)."""
        if finding.rule != self.rule or finding.variable != self.variable:
            return False
        return self._files is None or self._files.matches(finding.file)

    @cached
    def _files(self) -> Globs | None:
        """The ``file`` glob, compiled once."""
        return Globs(patterns=(self.file,), root=self.root) if self.file is not None else None

    @property
    def label(self) -> str:
        """``RULE:VARIABLE`` (``in FILE`` when limited to files), with its fingerprint when it has one."""
        text = f"{self.rule}:{self.variable}" if self.variable is not None else self.rule
        if self.file is not None:
            text += f" in {self.file}"
        return f"{text} ({self.fingerprint})" if self.fingerprint else text

    @property
    def subject(self) -> str:
        """What the allowance is about, in a sentence: the variable, or the file."""
        return self.variable if self.variable is not None else f"the file {self.file}"


@dataclass(frozen=True, kw_only=True)
class Use:
    """What one allowance did over a run: the findings it covered, and those of its rule and variable it did not
    cover (another fingerprint, or because it expired), by fingerprint."""

    allowance: Allowance
    matched: int = 0
    missed: tuple[str, ...] = ()

    def merged(self, other: Use) -> Use:
        return Use(
            allowance=self.allowance,
            matched=self.matched + other.matched,
            missed=tuple(dict.fromkeys(self.missed + other.missed)),
        )


Uses = Mapping[Allowance, Use]


def apply(
    findings: Iterable[Finding],
    *,
    allowances: tuple[Allowance, ...],
    today: date,
) -> tuple[tuple[Finding, ...], Uses]:
    """Mark the findings that an allowance covers (an allowance's ``fingerprint`` is compared with the finding's).
    The first allowance that covers a finding gives its reason."""
    uses = {a: Use(allowance=a) for a in allowances}
    out: list[Finding] = []
    for finding in findings:
        cover: Allowance | None = None
        for allowance in allowances:
            if not allowance.names(finding):
                continue
            fingerprint = finding.fingerprint or ""
            # a withheld fingerprint never matches one: such a value is allowed by rule and variable alone
            if allowance.expired(today) or (
                allowance.fingerprint and (allowance.fingerprint != fingerprint or fingerprint == WITHHELD)
            ):
                use = uses[allowance]
                uses[allowance] = dataclasses.replace(use, missed=tuple(dict.fromkeys((*use.missed, fingerprint))))
                continue
            if cover is None:
                cover = allowance
            uses[allowance] = dataclasses.replace(uses[allowance], matched=uses[allowance].matched + 1)
        out.append(finding if cover is None else dataclasses.replace(finding, allowed=True, reason=cover.reason))
    return tuple(out), MappingProxyType(uses)


def merge(a: Uses, b: Uses) -> Uses:
    """The uses of two parts of one run, added up."""
    merged = dict(a)
    for allowance, use in b.items():
        merged[allowance] = merged[allowance].merged(use) if allowance in merged else use
    return MappingProxyType(merged)
