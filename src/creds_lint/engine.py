"""Runs the rules over two versions of a var-store and turns their hits into sorted, immutable findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from creds_lint import x509
from creds_lint.diff import NO_CHANGES, Changes
from creds_lint.errors import CredsLintError
from creds_lint.findings import FileError, Finding, Report, Severity
from creds_lint.loader import parse_store
from creds_lint.model import DEFAULT_CLASSIFIER, Classifier, VarStore
from creds_lint.rules import FINAL_RULES, RULES, Context, Hit, Rule
from creds_lint.sources import Source, Target


@dataclass(frozen=True, kw_only=True)
class Options:
    """What shapes a run. ``severities`` maps a rule name to its severity, or to ``None`` to turn it off."""

    classifier: Classifier = DEFAULT_CLASSIFIER
    severities: Mapping[str, Severity | None] = field(default_factory=lambda: MappingProxyType({}))
    check_all: bool = False
    expiry_days: int = 30
    now: datetime | None = None


DEFAULT_OPTIONS = Options()


def compare(old: VarStore, new: VarStore) -> Changes:
    """The changes between two stores; DeepDiff is only loaded when some value differs."""
    if old.digest and old.digest == new.digest:
        return NO_CHANGES
    from creds_lint import diff

    return diff.compare(old, new)


def lint(old: VarStore | None, new: VarStore, options: Options = DEFAULT_OPTIONS) -> tuple[Finding, ...]:
    """Every finding about ``new`` (compared with ``old``, or audited alone when ``old`` is ``None``)."""
    context = Context(
        new=new,
        old=old,
        changes=compare(old, new) if old is not None else NO_CHANGES,
        classifier=options.classifier,
        check_all=options.check_all,
        expiry_days=options.expiry_days,
        now=options.now or x509.now_utc(),
    )
    hits = [(r, hit) for r in RULES for hit in r(context)]
    # A rule turned off still explains its variables, or unexplained-change would report them again.
    final = replace(context, explained=frozenset(hit.variable for _, hit in hits if hit.variable is not None))
    hits.extend((r, hit) for r in FINAL_RULES for hit in r(final))
    findings = [
        _finding(r, severity, hit, context)
        for r, hit in hits
        if (severity := options.severities.get(r.name, r.severity)) is not None
    ]
    return tuple(sorted(findings, key=Finding.sort_key))


def _finding(rule: Rule, severity: Severity, hit: Hit, context: Context) -> Finding:
    return Finding(
        rule=rule.name,
        code=rule.code,
        severity=severity,
        file=context.new.source,
        old_file=context.old.source if context.old is not None else None,
        variable=hit.variable,
        field=hit.field,
        line=hit.line,
        old_line=hit.old_line,
        message=hit.message,
        details=MappingProxyType(dict(hit.details)),
    )


def check(targets: Sequence[Target], options: Options = DEFAULT_OPTIONS) -> Report:
    """Lint every target into one report. A target that cannot be read becomes an error of the report."""
    findings: list[Finding] = []
    errors: list[FileError] = []
    for target in targets:
        try:
            findings.extend(check_target(target, options))
        except CredsLintError as exc:
            errors.append(FileError(file=exc.source or target.label, message=exc.message))
    return Report(findings=tuple(sorted(findings, key=Finding.sort_key)), errors=tuple(errors), files=len(targets))


def check_target(target: Target, options: Options = DEFAULT_OPTIONS) -> tuple[Finding, ...]:
    if target.new is None:
        raise CredsLintError("nothing to check: the file was deleted", source=target.label)
    new = _load(target.new)
    old = _load(target.old) if target.old is not None else None
    return lint(old, new, options)


def _load(source: Source) -> VarStore:
    return parse_store(source.read(), source=source.label)
