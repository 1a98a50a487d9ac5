"""The rule catalogue. A new rule is one function in one family module, listed in that module's ``RULES``, or
one row of its family's table (``removed-*``, ``regenerated-*``, ``missing-*``)."""

from __future__ import annotations

from creds_lint.findings import RuleInfo, Severity
from creds_lint.model import Category
from creds_lint.rules import (
    certificates,
    credhub,
    deliberate,
    files,
    integrity,
    manifest,
    pki,
    presence,
    secrets,
    verdicts,
)
from creds_lint.rules.base import Context, Definition, Hit, Rule, family, rule

#: Every rule, in documentation order. The engine runs ``RULES`` on each file; in its decision step it then
#: reports the changes no rule claimed, and once per run what the allowances did (``VERDICTS``).
RULES: tuple[Rule, ...] = (
    *presence.RULES,
    *secrets.RULES,
    *certificates.RULES,
    *integrity.RULES,
    *pki.RULES,
    *deliberate.RULES,
    *manifest.RULES,
    *credhub.RULES,
)
#: What the engine says itself, described like rules: a change no rule claims, allowances that did nothing.
VERDICTS: tuple[Definition, ...] = (verdicts.UNEXPLAINED_CHANGE, *verdicts.ABOUT_ALLOWANCES)
#: The rules that speak for a var-store that was deleted, instead of all the others (one finding for the file
#: rather than one removal per variable).
FILE_RULES: tuple[Rule, ...] = files.RULES
#: Every code a finding can have: the rules and the engine's verdicts.
ALL_RULES: tuple[Definition, ...] = (*RULES, *VERDICTS, *FILE_RULES)
BY_NAME: dict[str, Definition] = {r.name: r for r in ALL_RULES}
BY_CODE: dict[str, Definition] = {r.code: r for r in ALL_RULES}
#: The rules whose findings mean something is lost or broken (every rule that is an error by default: a removed or
#: regenerated key, CA or password, a deleted var-store, a stale CA, a broken chain...). The text output offers
#: no ready-to-paste allowance for them unless asked (``--suggest-allow``): the fix is to restore the old values.
DESTRUCTIVE: frozenset[str] = frozenset(r.name for r in ALL_RULES if r.severity is Severity.ERROR)
#: The rules whose findings are fixed by renewing a certificate with its own key (``creds-lint renew``), never by
#: allowing them: the text output prints the renew command for them, and an allowance only with ``--suggest-allow``.
RENEWABLE: frozenset[str] = frozenset(r.name for r in pki.RENEWABLE)


#: The catalogue every report carries: what reporters may say about each rule.
CATALOGUE: tuple[RuleInfo, ...] = tuple(
    RuleInfo(
        code=r.code,
        name=r.name,
        severity=r.severity,
        summary=r.summary,
        rationale=r.rationale,
        remedy=r.remedy,
        destructive=r.name in DESTRUCTIVE,
        renewable=r.name in RENEWABLE,
        about_allowances=r in verdicts.ABOUT_ALLOWANCES,
    )
    for r in ALL_RULES
)


def info(key: str) -> RuleInfo | None:
    """The catalogue entry of a rule by name (``removed-ca``) or code (``CL102``)."""
    found = find(key)
    return next((i for i in CATALOGUE if i.code == found.code), None) if found is not None else None


def find(key: str) -> Definition | None:
    """A rule by name (``removed-ca``) or code (``CL102``)."""
    return BY_NAME.get(key) or BY_CODE.get(key.upper())


__all__ = [
    "ALL_RULES",
    "BY_CODE",
    "BY_NAME",
    "CATALOGUE",
    "DESTRUCTIVE",
    "FILE_RULES",
    "RENEWABLE",
    "RULES",
    "VERDICTS",
    "Category",
    "Context",
    "Definition",
    "Hit",
    "Rule",
    "family",
    "find",
    "info",
    "rule",
]
