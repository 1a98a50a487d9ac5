"""Severities and findings: immutable values that every reporter receives and nothing else."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from creds_lint.origin import Origin

#: What every output shows instead of the fingerprint of a value that could be recovered from one: a short, all-digit
#: or hand-set value (``creds_lint.model.guessable``).
WITHHELD = "fingerprint withheld"


class Details(Mapping[str, str]):
    """A finding's details that are worked out when an output first reads them.

    The details of a changed certificate are both versions' fingerprints, subjects, serials and dates: on a large
    incident, working them out for every finding costs a tenth of the run, and the text output shows none of them
    (JSON and SARIF show them all). ``work`` gives the details; it must be pure, since when it runs depends on the
    reporter. It runs at most once."""

    __slots__ = ("_facts", "_work")

    def __init__(self, work: Callable[[], Mapping[str, str]]) -> None:
        self._work: Callable[[], Mapping[str, str]] | None = work
        self._facts: Mapping[str, str] | None = None

    def _worked_out(self) -> Mapping[str, str]:
        if self._facts is None:
            assert self._work is not None
            self._facts, self._work = MappingProxyType(dict(self._work())), None
        return self._facts

    def __getitem__(self, key: str) -> str:
        return self._worked_out()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._worked_out())

    def __len__(self) -> int:
        return len(self._worked_out())


class Severity(enum.Enum):
    """How bad a finding is. Ordered: ``INFO < WARNING < ERROR``."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One thing a rule found about one variable (or one file).

    ``line`` is the line in the new file; for a variable that was removed it is ``None`` and ``old_line`` gives
    its line in the old file. ``details`` holds only redacted facts (fingerprints, subjects, serials, dates).
    ``fingerprint`` is the fingerprint of the variable's value in the new file (of the removed value for a removed
    variable): what an allowance's ``fingerprint`` is compared with, worked out by ``fingerprinted`` when an
    allowance or an output first reads it (the text output does not). ``file`` and ``old_file`` are where the two
    versions come from (``str()`` of one is its label, ``REV:path`` for a git revision). ``remedy`` replaces the
    rule's remedy where the file's format needs other words (the commands of CredHub for an export).
    ``depends_on_problem``: an info finding whose change is not safe on its own, because it depends on a problem
    that its message names (a leaf re-issued by a CA that was regenerated); the summaries never count it as a safe
    change.
    """

    rule: str
    code: str
    severity: Severity
    file: Origin
    variable: str | None
    message: str
    field: str | None = None
    line: int | None = None
    old_file: Origin | None = None
    old_line: int | None = None
    details: Mapping[str, str] = dataclasses.field(default_factory=lambda: _EMPTY)
    allowed: bool = False
    reason: str | None = None
    fingerprinted: Callable[[], str] | None = dataclasses.field(default=None, repr=False, compare=False)
    #: How to fix it when the file's format calls for other words than the rule's remedy (a CredHub export).
    remedy: str | None = None
    depends_on_problem: bool = False

    @property
    def fingerprint(self) -> str | None:
        return self.fingerprinted() if self.fingerprinted is not None else None

    def sort_key(self) -> tuple[str, int, str, str, str]:
        """Stable order: by file, then position, then variable and rule."""
        position = self.line if self.line is not None else (self.old_line or 0)
        return (str(self.file), position, self.variable or "", self.field or "", self.code)


@dataclass(frozen=True, kw_only=True)
class FileError:
    """A file that could not be checked; ``message`` is one line and quotes nothing from the file."""

    file: Origin
    message: str


@dataclass(frozen=True, kw_only=True)
class CertificateRecord:
    """One certificate of an audited var-store: what it is, who signed it, when it expires. Metadata only.

    ``signer`` is the variable of the CA that signed it (its own variable for a self-signed root), ``None`` when
    no CA of the store did; ``days_left`` is negative once it has expired.
    """

    file: str
    variable: str
    line: int
    common_name: str
    serial: str
    signer: str | None
    is_ca: bool
    not_after: datetime
    days_left: int
    fingerprint: str


@dataclass(frozen=True, kw_only=True)
class ConfigurationNote:
    """Which configuration a run used and what it took away: ``file`` names the configuration file (``None``:
    none, the built-in defaults), ``off`` the rules it turned off, ``lowered`` the rules it made less severe than
    their default, with the severity they have now. Flags (``--severity``) count with the file."""

    file: str | None = None
    off: tuple[str, ...] = ()
    lowered: Mapping[str, Severity] = dataclasses.field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, kw_only=True)
class ConfigurationChange:
    """A configuration of the change under review that was not applied: ``source`` names it (``HEAD:.creds-lint.yml``),
    ``applied`` the configuration used instead (``None``: the built-in defaults), ``keys`` the settings it changes
    (``rules``, ``fail-on``, ``var-stores``, ``classify``...). Only its allowances took effect."""

    source: str
    applied: str | None
    keys: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RuleInfo:
    """What a report says about a rule: its catalogue entry, without its check (reporters never import rules).

    ``destructive``: its findings mean something is lost or broken (every rule that is an error by default); the
    text output offers no ready-to-paste allowance for them unless asked. ``renewable``: its findings are fixed by
    ``creds-lint renew`` (a certificate that expires soon), not by an allowance; the text output prints the renew
    command instead, and an allowance only when asked. ``about_allowances``: it judges the allowances themselves
    (allowing its findings makes no sense)."""

    code: str
    name: str
    severity: Severity
    summary: str
    rationale: str
    remedy: str
    destructive: bool = False
    renewable: bool = False
    about_allowances: bool = False


@dataclass(frozen=True, kw_only=True)
class Report:
    """The outcome of one run: findings over every file, and the files that could not be read.

    ``certificates`` is the inventory of the files audited alone (``creds-lint check``), soonest expiry first.
    ``configuration`` says which configuration the run used (``None`` when the caller did not say, as a library).
    ``rules`` is the catalogue of every rule the run knows, in documentation order. ``exports`` are the files
    read as CredHub exports: their old values go back through ``credhub import``, not into the file.
    """

    rules: tuple[RuleInfo, ...] = ()
    findings: tuple[Finding, ...] = ()
    errors: tuple[FileError, ...] = ()
    files: int = 0
    certificates: tuple[CertificateRecord, ...] = ()
    configuration: ConfigurationNote | None = None
    exports: tuple[Origin, ...] = ()

    def rule(self, code: str) -> RuleInfo | None:
        """A rule of the catalogue by its code."""
        return next((r for r in self.rules if r.code == code), None)

    def count(self, severity: Severity, *, allowed: bool = False) -> int:
        return sum(1 for f in self.findings if f.severity is severity and f.allowed is allowed)

    def exit_code(self, fail_on: Severity) -> int:
        """2 when a file could not be checked, 1 when a finding that is not allowed reaches ``fail_on``, else 0."""
        if self.errors:
            return 2
        if any(not f.allowed and fail_on <= f.severity for f in self.findings):
            return 1
        return 0
