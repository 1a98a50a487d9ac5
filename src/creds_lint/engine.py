"""Runs the rules over two versions of a var-store and turns their hits into sorted, immutable findings.

Steps: rules -> the invariant that every change is claimed by some rule (a change none claims is an
``unexplained-change``) -> severities from the options (a rule set to ``None`` is off) -> allowances (findings
they cover are marked allowed) -> sorting. After every file of a run, the decision step reports allowances that
matched nothing or expired, and configurations that were not applied (:mod:`creds_lint.rules.verdicts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from creds_lint import allowances, background, encrypted, pki, x509
from creds_lint.allowances import Allowance, Uses
from creds_lint.classify import classify
from creds_lint.diff import NO_CHANGES, Changes
from creds_lint.errors import CredsLintError
from creds_lint.findings import (
    CertificateRecord,
    ConfigurationChange,
    Details,
    FileError,
    Finding,
    Report,
    Severity,
)
from creds_lint.loader import parse_store
from creds_lint.manifest import Manifest
from creds_lint.model import DEFAULT_CLASSIFIER, Classifier, Entry, Kind, VarStore, field_label
from creds_lint.origin import Origin
from creds_lint.rules import CATALOGUE, FILE_RULES, RULES, Context, Definition, Hit, Rule, verdicts
from creds_lint.sources import Removal, Source, Target

if TYPE_CHECKING:
    from creds_lint.plan import Plan


@dataclass(frozen=True, kw_only=True)
class Options:
    """What shapes a run. ``severities`` maps a rule name to its severity, or to ``None`` to turn it off;
    ``allowances`` mark deliberate changes (see :mod:`creds_lint.allowances`); ``unapplied`` are the
    configurations of the change under review that were not applied (``--base``)."""

    classifier: Classifier = DEFAULT_CLASSIFIER
    severities: Mapping[str, Severity | None] = field(default_factory=lambda: MappingProxyType({}))
    check_all: bool = False
    expiry_days: int = 30
    now: datetime | None = None
    allowances: tuple[Allowance, ...] = ()
    manifest: Manifest | None = None
    unapplied: tuple[ConfigurationChange, ...] = ()
    #: sops files: decrypt them with ``sops decrypt`` (in memory) rather than compare their ciphertexts.
    decrypt: bool = False


DEFAULT_OPTIONS = Options()


def compare(old: VarStore, new: VarStore) -> Changes:
    """The changes between two stores; DeepDiff is only loaded when some value differs."""
    if old.digest and old.digest == new.digest:
        return NO_CHANGES
    from creds_lint import diff

    return diff.compare(old, new)


def lint(
    old: VarStore | None,
    new: VarStore,
    options: Options = DEFAULT_OPTIONS,
    *,
    deleted: bool = False,
    removal: Removal = Removal.DELETED,
) -> tuple[Finding, ...]:
    """Every finding about ``new`` (compared with ``old``, or audited alone when ``old`` is ``None``), including
    what the allowances of ``options`` did.

    The stores' labels (``source``) are read as :meth:`Origin.parse` reads them: ``REV:path`` is a git version.
    ``deleted``: the file was deleted and ``new`` is an empty stand-in named after it; only the file rules speak
    (one finding for the file rather than one removal per variable); ``removal`` says how it went.
    """
    origins = (Origin.parse(new.source), Origin.parse(old.source) if old is not None else None)
    options = _clocked(options)
    findings, uses = _lint(old, new, options, origins=origins, deleted=deleted, removal=removal)
    return tuple(sorted((*findings, *allowance_findings(uses, options)), key=Finding.sort_key))


#: Where the new and the old version of a file come from (``None``: audited alone).
Origins = tuple[Origin, Origin | None]


def _clocked(options: Options) -> Options:
    """The options with the run's one reading of the clock."""
    return options if options.now is not None else replace(options, now=x509.now_utc())


def _now(options: Options) -> datetime:
    """The time of the run: read once, by :func:`check` or :func:`lint`."""
    assert options.now is not None, "the clock is read once per run, by check() or lint()"
    return options.now


def _lint(
    old: VarStore | None,
    new: VarStore,
    options: Options,
    *,
    origins: Origins,
    deleted: bool = False,
    removal: Removal = Removal.DELETED,
    by_content: bool = False,
    aside: Aside | None = None,
) -> tuple[tuple[Finding, ...], Uses]:
    """The findings about one file, allowances applied, and what each allowance matched in it (``aside``: the
    child that read the old version, for :func:`decoded`)."""
    context = Context(
        new=new,
        old=old,
        changes=compare(old, new) if old is not None and not deleted else NO_CHANGES,
        classifier=options.classifier,
        check_all=options.check_all,
        expiry_days=options.expiry_days,
        now=_now(options),
        deleted=deleted,
        removal=removal,
        by_content=by_content,
        manifest=options.manifest,
    )
    _held = decoded(context, aside)  # the graphs, held for the run: every later context finds them (pki.graph)
    context = classified(context)
    hits: list[tuple[Definition, Hit]] = [
        (r, hit) for r in (FILE_RULES if deleted else (*RULES, *FILE_RULES)) for hit in r(context)
    ]
    # Every change is claimed by some rule; a rule turned off still claims its changes (its hits are only dropped
    # with their severity), or unexplained-change would report them again.
    hits.extend(
        (verdicts.UNEXPLAINED_CHANGE, hit) for hit in verdicts.unclaimed(context.changes, claimed(hits, context))
    )
    findings = _findings(hits, origins, options, stores=(old, new))
    if new.export is not None:
        from creds_lint.rules import credhub

        findings = credhub.reword(findings, context)
    return allowances.apply(findings, allowances=options.allowances, today=context.now.date())


def claimed(hits: list[tuple[Definition, Hit]], context: Context) -> frozenset[str]:
    """The changed variables that some rule claims: a rule's hit on a variable whose change is of a kind that the
    rule declares it claims."""
    kinds = {change.name: change.kind for change in context.changes}
    return frozenset(
        hit.variable
        for r, hit in hits
        if isinstance(r, Rule) and hit.variable is not None and kinds.get(hit.variable) in r.claims
    )


#: The old version of a file being read on a second CPU, whose child then decodes its certificates and answers
#: which facts and chains the changed certificates have (:func:`_read_aside`).
Aside = background.Staged[VarStore, frozenset[str], pki.Warmed]


def decoded(context: Context, aside: Aside | None = None) -> tuple[pki.Graph | None, pki.Graph]:
    """The decoding stage, for a large file in which a certificate changed: every certificate of both versions
    decoded and the chains of the changed ones resolved (what the rules would do on first use, one version after
    the other), the old version's by the child that read it (``aside``), which has been decoding them since.
    It changes when the work is done, never what is found: a child that fails leaves it to this process. The
    graphs of both versions, which hold what was worked out."""
    old_graph, new_graph = context.old_pki, context.pki
    if old_graph is None or aside is None:
        return old_graph, new_graph
    changed = frozenset(c.name for c in context.changes if Kind.CERTIFICATE in (_kind(c.old), _kind(c.new)))
    if not changed:
        aside.close()  # no certificate changed: the rules decode what they ask for, on first use
        return old_graph, new_graph
    with aside.ask(changed) as pending:
        pki.warm(new_graph, changed)
        pending.meanwhile(pki.describing(new_graph, changed))  # what the rules will ask of the new versions
        old_graph.adopt(pending.result())
    return old_graph, new_graph


def _kind(entry: Entry | None) -> Kind | None:
    return entry.kind if entry is not None else None


def classified(context: Context) -> Context:
    """The context with its classification stage done: every variable the rules look at (each changed variable
    in both versions, each variable whose state is checked) classified once, before any rule runs."""
    changed_old = (c.old for c in context.changes if c.old is not None)
    classes = classify(context.subjects, context.classifier)
    return replace(context, classes=classes, old_classes=classify(changed_old, context.classifier, other=classes))


#: The old (``None``: audited alone) and the new version of a file.
Stores = tuple[VarStore | None, VarStore]


def _fingerprint(variable: str | None, stores: Stores | None) -> Callable[[], str] | None:
    """What works out the fingerprint of a finding's variable's value (in the new store, or the removed one in the
    old store) when it is first read: the text output never reads it, and for a changed certificate it is the
    hash of some kilobytes of canonical JSON."""
    if variable is None or stores is None:
        return None
    old, new = stores
    entry = new.get(variable) or (old.get(variable) if old is not None else None)
    return (lambda: entry.fingerprint) if entry is not None else None


def _findings(
    hits: Sequence[tuple[Definition, Hit]], origins: Origins, options: Options, *, stores: Stores | None = None
) -> list[Finding]:
    """The findings of the hits whose rule is on; with ``stores``, each carries its variable's fingerprint."""
    return [
        _finding(r, severity, hit, origins, fingerprinted=_fingerprint(hit.variable, stores))
        for r, hit in hits
        if (severity := options.severities.get(r.name, r.severity)) is not None
    ]


def allowance_findings(uses: Uses, options: Options) -> list[Finding]:
    """The decision step once per run: what the allowances did and which configurations were not applied
    (:func:`creds_lint.rules.verdicts.on_allowances`), each attributed to the file it was written in."""
    options = _clocked(options)
    today = _now(options).date()
    findings: list[Finding] = []
    sources = (*(a.source for a in options.allowances), *(c.source for c in options.unapplied))
    for source in dict.fromkeys(sources):
        said = verdicts.on_allowances(
            (use for a, use in uses.items() if a.source == source),
            (c for c in options.unapplied if c.source == source),
            today=today,
        )
        findings.extend(_findings(list(said), (Origin(path=source), None), options))
    return findings


def _finding(
    rule: Definition, severity: Severity, hit: Hit, origins: Origins, *, fingerprinted: Callable[[], str] | None
) -> Finding:
    return Finding(
        rule=rule.name,
        code=rule.code,
        severity=severity,
        file=origins[0],
        old_file=origins[1],
        variable=hit.variable,
        field=field_label(hit.field) if hit.field is not None else None,
        line=hit.line,
        old_line=hit.old_line,
        message=hit.message,
        details=hit.details if isinstance(hit.details, Details) else MappingProxyType(dict(hit.details)),
        fingerprinted=fingerprinted,
        depends_on_problem=hit.depends_on_problem,
    )


def run(plan: Plan) -> Report:
    """The report of a plan: every target checked with its configuration's options, and the configurations used."""
    from creds_lint.config import note_of

    report = check(plan.targets, plan.options, per_target=plan.per_target)
    return replace(report, configuration=note_of(plan.configs))


def check(
    targets: Sequence[Target], options: Options = DEFAULT_OPTIONS, *, per_target: Sequence[Options] | None = None
) -> Report:
    """Lint every target into one report. A target that cannot be read becomes an error of the report (and then
    allowances are not judged: the file they were written for may be the one that could not be read).

    ``per_target`` gives each target its own options (the configuration found from its directory), in the order
    of ``targets``; the run's allowances are then those of every target. A target without an old version is
    audited alone, and its certificates are listed in the report. The clock is read once for the whole run
    (``options.now`` when given).
    """
    options = _clocked(options)
    each = [replace(o, now=options.now) for o in per_target] if per_target is not None else [options] * len(targets)
    if per_target is not None:
        everyone = dict.fromkeys(a for o in (options, *each) for a in o.allowances)
        options = replace(options, allowances=tuple(everyone))
    findings: list[Finding] = []
    errors: list[FileError] = []
    certificates: list[CertificateRecord] = []
    uses: Uses = MappingProxyType({})
    exports: list[Origin] = []
    for target, target_options in zip(targets, each, strict=True):
        try:
            checked = _check_target(target, target_options)
        except CredsLintError as exc:
            errors.append(FileError(file=_origin_of(exc, target), message=exc.message))
            continue
        findings.extend(checked.findings)
        certificates.extend(checked.certificates)
        uses = allowances.merge(uses, checked.uses)
        if checked.export:
            exports.append(target.origin)
    findings.extend(allowance_findings(uses, options if not errors else replace(options, allowances=())))
    return Report(
        rules=CATALOGUE,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        errors=tuple(errors),
        files=len(targets),
        certificates=tuple(sorted(certificates, key=lambda c: (c.not_after, c.file, c.variable))),
        exports=tuple(exports),
    )


@dataclass(frozen=True, kw_only=True)
class _Checked:
    """What checking one target gave: its findings, what each allowance matched, its certificates when it was
    audited alone, and whether it is a CredHub export (whose remedies are CredHub's commands)."""

    findings: tuple[Finding, ...]
    uses: Uses
    certificates: tuple[CertificateRecord, ...] = ()
    export: bool = False


def _check_target(target: Target, options: Options) -> _Checked:
    if target.new is None:
        if target.old is None:
            raise CredsLintError("nothing to check: no version of the file", source=target.label)
        before = _load(target.old, options)
        removed = VarStore(source=target.label, entries=MappingProxyType({}), export=before.export)
        gone: Origins = (target.origin, target.old.origin)
        found, used = _lint(
            before, removed, options, origins=gone, deleted=True, removal=target.removal, by_content=target.by_content
        )
        return _Checked(findings=found, uses=used, export=before.export is not None)
    data = target.new.read()
    if target.old is not None and encrypted.unchanged(data, target.old.read):
        return _Checked(
            findings=(), uses=MappingProxyType({})
        )  # the same git-crypt ciphertext: the same file, even while locked
    with _read_aside(target.old, data, options) as (aside, old_data):
        new = _parse_new(target, target.new, data, options)
        if aside is not None:
            aside.meanwhile(pki.decoding(new))  # what the rules will ask first, whatever changed
            old: VarStore | None = aside.result()
        else:
            old = _load_old(target.old, new, data, options, old_data) if target.old is not None else None
        if old is not None and (old.export is None) is not (new.export is None):
            exports = {store.source for store in (old, new) if store.export is not None}
            raise CredsLintError(
                f"{old.source} and {new.source} are not the same kind of file: "
                f"{', '.join(sorted(exports))} is a CredHub export, the other a var-store; compare like with like",
                source=target.label,
            )
        if old is not None and (old.seal is not None or new.seal is not None):
            from creds_lint import sops

            problem = sops.comparison_problem(old, new)
            if problem is not None:
                raise CredsLintError(problem, source=target.new.label)
        origins = (target.new.origin, target.old.origin if target.old is not None else None)
        export = new.export is not None
        if old is not None:
            found, used = _lint(old, new, options, origins=origins, by_content=target.by_content, aside=aside)
            return _Checked(findings=found, uses=used, export=export)
    graph = pki.graph(new)  # held across both: the rules and the expiry table share the chains worked out
    found, used = _lint(old, new, options, origins=origins, by_content=target.by_content)
    return _Checked(
        findings=found, uses=used, certificates=pki.inventory(new, now=_now(options), graph=graph), export=export
    )


def _parse_new(target: Target, source: Source, data: bytes, options: Options) -> VarStore:
    """The new version of ``target`` (from ``source``), with its file's mode for a CredHub export."""
    new = parse_store(data, source=source.label, decrypt=options.decrypt)
    if new.export is None:
        return new
    if options.manifest is not None:
        raise CredsLintError(
            "a CredHub export names its credentials by path, not as a manifest declares its variables: check it "
            "without --manifest (or the configuration's manifests:)",
            source=target.label,
        )
    return replace(new, mode=source.mode())


def _origin_of(error: CredsLintError, target: Target) -> Origin:
    """The file an error is about: a version of the target, or (a path named by the error) another file."""
    for source in (target.new, target.old):
        if source is not None and error.source == source.label:
            return source.origin
    return Origin(path=error.source) if error.source else target.origin


def _load(source: Source, options: Options) -> VarStore:
    return parse_store(source.read(), source=source.label, decrypt=options.decrypt)


#: From this size on, the old version of a file is read on a second CPU while the new one is read: below it the
#: fork and the pickled store cost more than half the reading saves (a bosh-deployment store is 0.1 MB).
ASIDE_BYTES = 4 << 20


@contextmanager
def _read_aside(
    source: Source | None, new_data: bytes, options: Options
) -> Iterator[tuple[Aside | None, bytes | None]]:
    """The old version of a large file being read on a second CPU (:mod:`creds_lint.background`), with its bytes;
    no reading (``None``) for a small file, without a second CPU, or for the same bytes as the new version (then
    with the bytes read, for :func:`_load_old`), nor when the old version cannot be read (then :func:`_load_old`
    says so, after the new version has been read, as it does without this). The child that reads it goes on
    decoding its certificates, for :func:`decoded`, until it is asked or stopped."""
    if source is None or len(new_data) < ASIDE_BYTES or not background.available():
        yield None, None
        return
    try:
        data = source.read()
    except CredsLintError:
        yield None, None
        return
    if len(data) < ASIDE_BYTES or data == new_data:
        yield None, data
        return
    with background.start_staged(
        lambda: parse_store(data, source=source.label, decrypt=options.decrypt), _decoding
    ) as aside:
        yield aside, data


def _decoding(store: VarStore) -> background.Sequel[frozenset[str], pki.Warmed]:
    """What the child that read the old version of a file goes on with: decoding its certificates (any change of
    a certificate needs them all), then, for the certificates that changed, the facts and chains the rules will
    ask for (:func:`creds_lint.pki.shipped`)."""
    graph = pki.graph(store)  # held by the answer: the registry of graphs holds them weakly
    return background.Sequel(meanwhile=pki.decoding(store), answer=lambda names: pki.shipped(graph, names))


def _load_old(source: Source, new: VarStore, new_data: bytes, options: Options, data: bytes | None = None) -> VarStore:
    """The old version (its bytes read here unless ``data`` holds them); bytes identical to the new version's are
    not parsed twice."""
    data = source.read() if data is None else data
    if data == new_data:
        return replace(new, source=source.label)
    return parse_store(data, source=source.label, decrypt=options.decrypt)
