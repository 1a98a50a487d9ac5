"""``creds-lint rotate``: plan a rotation, remove leaves for bosh to re-issue, and prove each step's diff.

Plain functions of :class:`~creds_lint.model.VarStore` values that return data; nothing here writes a file
(:mod:`creds_lint.rotate_cli` writes with :mod:`creds_lint.blocks` and :mod:`creds_lint.atomic`).

* :func:`plan` gives one :class:`Row` per variable: its kind (the classification the rules use), its expiry, who
  holds copies (:mod:`creds_lint.holders`), and the recommended :class:`Action`; the deadline (the earliest
  notAfter among the CAs held outside the director), the preconditions and the commands.
* :func:`select_leaves` chooses the leaf certificates that ``rotate leaf`` may remove: only those whose CA is in
  the store, consistent, and not itself in a rotation (no ``CA_2``), so that bosh re-issues them under the
  unchanged CA (the documented mbus-ssl procedure, generalised). Everything else is refused, with the reason.
* :func:`prove` compares the store before and after a step with creds-lint's own engine: the changes must be
  exactly the step's (:class:`Expected`), and the comparison must report no error.

Nothing returned for display holds a value: names, common names, dates and fingerprints only.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from creds_lint import expiry, holders, pki, x509
from creds_lint.model import DEFAULT_CLASSIFIER, Classifier, Entry, Kind, VarStore

if TYPE_CHECKING:
    from creds_lint.manifest import Manifest

#: Passwords and certificates docs-bosh (credential-rotation.md, mbus-ssl-rotation.md) documents as safe to delete
#: for ``bosh create-env`` to generate anew.
DROP_SAFE: frozenset[str] = frozenset(
    {
        "hm_password",
        "blobstore_director_password",
        "postgres_password",
        "uaa_clients_director_to_credhub",
        "mbus_bootstrap_password",
        "mbus_bootstrap_ssl",
    }
)

#: The passwords with a documented transitional rotation, and the name their old value moves to
#: (credhub-encryption-password-rotation.md, blobstore-agent-password-rotation.md: an infix, not a suffix).
OLD_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "credhub_encryption_password": "credhub_encryption_password_old",
        "blobstore_agent_password": "blobstore_agent_old_password",
    }
)

#: How many days ahead ``rotate plan`` counts a certificate as due (``--within``).
DEFAULT_WITHIN = holders.AGENT_CA_EXPIRY_DAYS


class Action(enum.Enum):
    """What ``rotate plan`` recommends for a variable."""

    RENEW = "renew"  # keep the key, extend the validity: creds-lint renew
    DROP = "drop"  # delete it for bosh to generate anew: nothing depends on the old value
    TRANSITIONAL = "transitional"  # the documented procedure with a second variable (_2, _old)
    NEVER = "never"  # no documented rotation: what depends on the value breaks


@dataclass(frozen=True, kw_only=True)
class Row:
    """One variable of the plan. ``kind`` is its category as the rules name it (``CA``, ``certificate``,
    ``encryption key``, ``key pair``, ``secret``...); ``days_left`` is negative once it has expired; ``due``: a
    certificate that expires within the plan's horizon."""

    variable: str
    kind: str
    action: Action
    reason: str
    holders: str
    not_after: datetime | None = None
    days_left: int | None = None
    signer: str | None = None
    due: bool = False


class Check(enum.Enum):
    """The state of a precondition: checked by creds-lint, or for the operator to make sure of."""

    MET = "met"
    FAILED = "failed"
    OPERATOR = "to check"


@dataclass(frozen=True, kw_only=True)
class Precondition:
    name: str
    state: Check
    text: str


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What ``rotate plan`` prints. ``deadline`` is the earliest notAfter among the CAs whose copies are held
    outside the director (``deadline_ca`` names it); ``commands`` are the exact commands for what is due."""

    file: str
    now: datetime
    within: int
    rows: tuple[Row, ...]
    deadline: datetime | None
    deadline_ca: str | None
    preconditions: tuple[Precondition, ...]
    commands: tuple[str, ...]


# --- classification -------------------------------------------------------------------------------------------


def _category(entry: Entry, classifier: Classifier, cert_is_ca: bool) -> str:
    """What the variable is, as every command says it (:meth:`Classifier.identify`)."""
    return str(classifier.identify(entry.name, entry.kind, is_ca=cert_is_ca).category.value)


def _cert(entry: Entry) -> tuple[x509.CertInfo | None, bool]:
    cert = pki.certificate(entry) if entry.kind is Kind.CERTIFICATE else None
    if cert is None:
        return None, False
    return x509.info(cert), x509.is_ca(cert)


def in_rotation(store: VarStore, ca: str) -> str | None:
    """The ``CA_2`` (or ``CA_new``) entry of a CA whose rotation is under way, or ``None``."""
    return next((ca + s for s in pki.NEXT_SUFFIXES if ca + s in store), None)


def leaf_problem(  # noqa: PLR0911 - one refusal per return, each with its own words
    store: VarStore, graph: pki.Graph, entry: Entry, manifest: Manifest | None
) -> str | None:
    """Why removing the leaf certificate ``entry`` would not give a certificate bosh re-issues under its unchanged
    CA, or ``None`` when it may be removed."""
    chain = graph.chain(entry)
    if chain.trust is pki.Trust.UNKNOWN:
        return "its certificate does not parse"
    if chain.trust is not pki.Trust.VALID or chain.signer is None or chain.signer == entry.name:
        return (
            "its CA entry is missing from the var-store (or no CA of it signed it consistently with its 'ca' field): "
            "bosh could not generate it; renew it instead (creds-lint renew)"
        )
    rotating = in_rotation(store, chain.signer)
    if rotating is not None:
        return f"its CA {chain.signer} is being rotated ({rotating} is in the var-store): finish that rotation first"
    if manifest is not None:
        declared = manifest.variables.get(entry.name)
        if declared is None:
            return f"the manifest ({manifest.label}) does not declare it: bosh would not generate it again"
        if declared.kind is not Kind.CERTIFICATE:
            return f"the manifest declares it as {declared.type}, not a certificate"
        if declared.ca is not None and declared.ca != chain.signer:
            return (
                f"the manifest signs it with {declared.ca}, but {chain.signer} signed the one in the var-store: bosh "
                "would issue it under another CA"
            )
    return None


def _row(
    entry: Entry,
    store: VarStore,
    graph: pki.Graph,
    classifier: Classifier,
    *,
    now: datetime,
    within: int,
    manifest: Manifest | None,
) -> Row:
    info, is_ca = _cert(entry)
    kind = _category(entry, classifier, is_ca)
    known = holders.KNOWN.get(entry.name)
    who = known.who if known is not None else "unknown"
    name = entry.name
    if entry.kind is Kind.CERTIFICATE:
        return _certificate_row(
            entry, store, graph, kind=kind, who=who, info=info, now=now, within=within, manifest=manifest
        )
    if name in DROP_SAFE:
        return Row(variable=name, kind=kind, action=Action.DROP, reason="documented as safe to delete", holders=who)
    if name in OLD_NAMES:
        return Row(
            variable=name,
            kind=kind,
            action=Action.TRANSITIONAL,
            reason=f"documented rotation through {OLD_NAMES[name]}: creds-lint rotate password {name}",
            holders=who,
        )
    if kind == "encryption key":
        reason = "an encryption key without a documented rotation: data encrypted with it would be lost"
    elif entry.kind in (Kind.RSA, Kind.SSH):
        reason = "a key pair: everything that trusts its public key would have to be given the new one"
    else:
        reason = (
            "no scripted rotation: what uses it (agents, clients, people) must get the new value first "
            "(docs-bosh credential-rotation)"
        )
    return Row(variable=name, kind=kind, action=Action.NEVER, reason=reason, holders=who)


def _certificate_row(
    entry: Entry,
    store: VarStore,
    graph: pki.Graph,
    *,
    kind: str,
    who: str,
    info: x509.CertInfo | None,
    now: datetime,
    within: int,
    manifest: Manifest | None,
) -> Row:
    name = entry.name
    if info is None:
        return Row(variable=name, kind=kind, action=Action.RENEW, reason="its certificate does not parse", holders=who)
    signer = graph.signer(entry)

    def row(action: Action, reason: str) -> Row:
        return Row(
            variable=name,
            kind=kind,
            action=action,
            reason=reason,
            holders=who,
            not_after=info.not_after,
            days_left=info.days_left(now),
            signer=signer,
            due=expiry.within(info, now, within),
        )

    if info.is_ca:
        if holders.held_by_agents(name) and info.not_after <= now:
            return row(Action.RENEW, "expired: agents holding the old copy already fail (the expired-CA procedure)")
        return row(Action.RENEW, "renewal keeps its key: every copy held keeps verifying what it signs")
    problem = leaf_problem(store, graph, entry, manifest)
    if problem is None:
        return row(Action.DROP, f"a leaf of the unchanged {signer}: bosh re-issues it (creds-lint rotate leaf)")
    return row(Action.RENEW, problem)


def plan(
    store: VarStore,
    *,
    now: datetime,
    within: int = DEFAULT_WITHIN,
    classifier: Classifier = DEFAULT_CLASSIFIER,
    manifest: Manifest | None = None,
) -> Plan:
    """The rotation plan of ``store`` (see the module docstring); with ``manifest``, a leaf it does not declare
    (or signs with another CA) is not one to drop, and the leaf command checks the declarations too."""
    graph = pki.Graph(store)
    rows = tuple(_row(entry, store, graph, classifier, now=now, within=within, manifest=manifest) for entry in store)
    outside = [r for r in rows if r.kind == "CA" and r.variable in holders.KNOWN and r.not_after is not None]
    first = min(outside, key=lambda r: r.not_after or now, default=None)
    expired = [
        r.variable
        for r in rows
        if r.kind == "CA" and r.days_left is not None and r.not_after is not None and r.not_after <= now
    ]
    return Plan(
        file=store.source,
        now=now,
        within=within,
        rows=rows,
        deadline=first.not_after if first is not None else None,
        deadline_ca=first.variable if first is not None else None,
        preconditions=preconditions(expired),
        commands=commands(store.source, rows, manifest=manifest),
    )


def preconditions(expired: Sequence[str]) -> tuple[Precondition, ...]:
    """What must hold before a rotation starts (docs-bosh nats-ca-rotation.md, bosh#2357, bosh-deployment#334)."""
    return (
        Precondition(
            name="resurrection-off",
            state=Check.OPERATOR,
            text="the resurrector is off (bosh update-resurrection off): agents briefly unresponsive are not recreated",
        ),
        Precondition(
            name="no-task-running",
            state=Check.OPERATOR,
            text="no task is running (bosh tasks): create-env restarts the director",
        ),
        Precondition(
            name="versions",
            state=Check.OPERATOR,
            text=(
                "director >= 271.12 with agents >= 2.388 (stemcells Bionic 1.36+, Windows 2019.41+): a deploy updates "
                "agent settings in place; older ones need every VM recreated (bosh recreate)"
            ),
        ),
        Precondition(
            name="ca-not-expired",
            state=Check.FAILED if expired else Check.MET,
            text=(
                f"expired: {', '.join(expired)}: the transitional procedure cannot reach agents any more; use the "
                "expired-CA procedure (delete the CA and its leaves, create-env, bosh recreate --fix)"
                if expired
                else "no CA of the var-store has expired"
            ),
        ),
    )


def commands(path: str, rows: Iterable[Row], *, manifest: Manifest | None = None) -> tuple[str, ...]:
    """The exact commands for what is due: renew what keeps its key, remove the leaves bosh re-issues, then the
    director and the deployments, with the resurrector off meanwhile."""
    due = [r for r in rows if r.due]
    if not due:
        return ()
    manifests = "".join(f" --manifest {m}" for m in (manifest.sources if manifest is not None else ()))
    renewed = [r.variable for r in due if r.action is Action.RENEW]
    dropped = [r.variable for r in due if r.action is Action.DROP]
    transitional = [r.variable for r in due if r.action is Action.TRANSITIONAL]
    steps = ["bosh update-resurrection off"]
    if renewed:
        steps.append(f"creds-lint renew {path} {' '.join(renewed)}")
    if dropped:
        steps.append(f"creds-lint rotate leaf {path} {' '.join(dropped)}{manifests}")
    steps.extend(f"creds-lint rotate ca {name} {path} --stage add{manifests}" for name in transitional)
    steps.append(f"bosh create-env ... --vars-store {path}")
    if any(holders.held_by_agents(r.variable) for r in due) or any(
        r.signer is not None and holders.held_by_agents(r.signer) for r in due
    ):
        steps.append("bosh -d DEPLOYMENT deploy, for each deployment (agents get the new copies; no recreate)")
    steps.append("bosh update-resurrection on")
    return tuple(steps)


# --- rotate leaf ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Leaf:
    """A leaf certificate to remove, as it may be shown."""

    variable: str
    common_name: str
    signer: str
    not_after: datetime


@dataclass(frozen=True, kw_only=True)
class LeafChoice:
    """The leaves to remove, or why not (then nothing may be written); ``skipped``: with ``--expiring``, what is
    due but not a leaf this command removes, and why."""

    leaves: tuple[Leaf, ...] = ()
    refusals: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


def select_leaves(
    store: VarStore,
    *,
    names: Sequence[str] = (),
    expiring: int | None = None,
    now: datetime,
    classifier: Classifier = DEFAULT_CLASSIFIER,
    manifest: Manifest | None = None,
) -> LeafChoice:
    """The leaves named (or expiring within ``expiring`` days) that may be removed for bosh to re-issue them.
    A named variable that is not such a leaf is refused; with ``expiring``, one that is due but is not is listed
    in ``skipped``. A name not in the store raises :class:`~creds_lint.errors.CredsLintError`."""
    from creds_lint.errors import CredsLintError

    graph = pki.Graph(store)
    for name in names:
        if name not in store:
            raise CredsLintError(f"no variable {name!r} in the var-store", source=store.source)
    if names:
        candidates = [entry for entry in store if entry.name in set(names)]
    else:
        assert expiring is not None
        candidates = [e for e in store if (info := _cert(e)[0]) is not None and expiry.within(info, now, expiring)]
    leaves: list[Leaf] = []
    refusals: list[str] = []
    skipped: list[str] = []
    for entry in candidates:
        problem = _not_a_leaf(entry, classifier) or leaf_problem(store, graph, entry, manifest)
        if problem is not None:
            (refusals if names else skipped).append(f"{entry.name}: {problem}")
            continue
        info, _ = _cert(entry)
        signer = graph.signer(entry)
        assert info is not None
        assert signer is not None
        leaves.append(Leaf(variable=entry.name, common_name=info.common_name, signer=signer, not_after=info.not_after))
    return LeafChoice(leaves=() if refusals else tuple(leaves), refusals=tuple(refusals), skipped=tuple(skipped))


def _not_a_leaf(entry: Entry, classifier: Classifier) -> str | None:
    if entry.kind is not Kind.CERTIFICATE:
        kind = _category(entry, classifier, False)
        return (
            f"is {_article(kind)} {kind}, not a leaf certificate: bosh would generate a new value and what depends "
            "on it breaks"
        )
    info, is_ca = _cert(entry)
    if info is not None and is_ca:
        return (
            "is a CA: removing it makes bosh generate a new key and every holder of the old copy rejects what it "
            "signs (renew it: creds-lint renew; or the transitional procedure: creds-lint rotate ca)"
        )
    return None


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


# --- proof ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Expected:
    """What a step may change: names removed, added, and given a new value (``changed``); nothing else."""

    removed: frozenset[str] = frozenset()
    added: frozenset[str] = frozenset()
    changed: frozenset[str] = frozenset()


@dataclass(frozen=True, kw_only=True)
class Proof:
    """The diff of a step as creds-lint's engine sees it, and what in it the step did not expect."""

    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    unchanged: int = 0
    findings: tuple[str, ...] = field(default=())
    problems: tuple[str, ...] = ()

    @property
    def holds(self) -> bool:
        return not self.problems


def prove(
    before: VarStore,
    after: VarStore,
    expected: Expected,
    *,
    now: datetime,
    manifest: Manifest | None = None,
    classifier: Classifier = DEFAULT_CLASSIFIER,
) -> Proof:
    """Compare ``before`` and ``after`` with creds-lint's engine: the changes must be exactly ``expected``, and the
    comparison may report nothing that is an error (whatever the step). ``manifest``: what the deployment reads
    during the step (the ops files of a transitional procedure read the ``_old`` copy)."""
    from creds_lint.diff import ChangeKind
    from creds_lint.engine import Options, compare, lint
    from creds_lint.findings import Severity

    changes = compare(before, after)
    got = {kind: tuple(c.name for c in changes.of(kind)) for kind in ChangeKind}
    problems: list[str] = []
    for kind, wanted, verb in (
        (ChangeKind.REMOVED, expected.removed, "removed"),
        (ChangeKind.ADDED, expected.added, "added"),
        (ChangeKind.MODIFIED, expected.changed, "changed"),
    ):
        extra = [name for name in got[kind] if name not in wanted]
        missing = sorted(wanted - set(got[kind]))
        if extra:
            problems.append(f"{', '.join(extra)} {verb}, which this step must not do")
        if missing:
            problems.append(f"{', '.join(missing)} not {verb}, which this step must do")
    findings = lint(before, after, Options(now=now, manifest=manifest, classifier=classifier))
    errors = [f for f in findings if f.severity is Severity.ERROR and not f.allowed]
    problems.extend(f"the comparison reports {f.rule} ({f.code}) for {f.variable}" for f in errors)
    touched = {c.name for c in changes}
    return Proof(
        removed=got[ChangeKind.REMOVED],
        added=got[ChangeKind.ADDED],
        changed=got[ChangeKind.MODIFIED],
        unchanged=sum(1 for e in after if e.name not in touched),
        findings=tuple(f"{f.severity.value} {f.rule}: {f.variable}" for f in findings),
        problems=tuple(problems),
    )
