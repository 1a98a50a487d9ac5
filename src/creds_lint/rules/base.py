"""What a rule is, and what it sees.

A rule is a function from a :class:`Context` to :class:`Hit` values, wrapped by :func:`rule` into a
self-describing :class:`Rule`: a stable code (``CL101``), a stable kebab-case name, a default severity, a one-line
summary, a rationale (the function's docstring) and a remedy. A family of rules that differ only in their data
(``removed-*``, ``regenerated-*``, ``missing-*``) is one body over a table: :func:`family` makes one rule of each
row. The engine turns hits into findings; a rule never decides severities, allowances or output.

Each rule declares the kinds of change it ``claims``: a hit of the rule on a variable that changed in such a way
accounts for that change. The engine requires every change to be claimed by some rule, whether or not the rule
is turned on, and reports the others as ``unexplained-change`` (:mod:`creds_lint.rules.verdicts`).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar, cast

from creds_lint import pki, rotations, x509
from creds_lint.classify import Classification, identify
from creds_lint.diff import Change, ChangeKind, Changes
from creds_lint.findings import Severity
from creds_lint.manifest import Manifest
from creds_lint.memo import cached
from creds_lint.model import DEFAULT_CLASSIFIER, Category, Classifier, Entry, Identity, Kind, Role, VarStore
from creds_lint.pki import Graph
from creds_lint.sources import Removal

if TYPE_CHECKING:
    from cryptography.x509 import Certificate


@dataclass(frozen=True, kw_only=True)
class Hit:
    """One thing a rule found. ``line`` is in the new file, ``old_line`` in the old one; ``details`` must hold
    only redacted facts (fingerprints, subjects, serials, dates). ``depends_on_problem``: the change is not safe on
    its own, it depends on a problem the message names (:attr:`creds_lint.findings.Finding.depends_on_problem`)."""

    variable: str | None
    message: str
    field: str | None = None
    line: int | None = None
    old_line: int | None = None
    details: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    depends_on_problem: bool = False


T = TypeVar("T")


class Facts:
    """What the rules work out about the versions of a variable, once per run: several rules ask the same
    question of the same versions (a re-issued leaf's lost names, its key defects, the difference of its CA).

    An answer is held under the question and the variable's name, with the versions it was worked out from: a
    question about other versions of the variable (a promoted ``NAME_2``) is worked out again, never answered
    from another pair. One is made with each :class:`Context` and lives as long as the run's context."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], tuple[Entry | None, Entry | None, object]] = {}

    def once(self, question: str, old: Entry | None, new: Entry | None, answer: Callable[[], T]) -> T:
        """``answer()``, worked out the first time ``question`` is asked of these versions (``old`` or ``new``
        is ``None`` for a question about one version, both for one about the run)."""
        named = new if new is not None else old
        key = (question, named.name if named is not None else "")
        held = self._answers.get(key)
        if held is not None and held[0] is old and held[1] is new:
            return cast(T, held[2])
        value = answer()
        self._answers[key] = (old, new, value)
        return value


@dataclass(frozen=True, kw_only=True)
class Context:
    """Everything a rule may look at: both stores, the changes between them, and the options that shape checks.

    ``old`` is ``None`` when a single file is audited. ``deleted`` says the file itself was deleted: ``new`` is
    then an empty stand-in named after it, and ``removal`` says how it went (deleted, moved, or replaced by a
    symlink). ``by_content``: no var-store glob names the file; its content reads as a var-store. Certificates
    and keys are parsed on demand and cached.
    ``manifest`` holds the variables declared by ``--manifest`` files, when there are any. ``classes`` and
    ``old_classes`` say what each variable of the new and the old store is (:mod:`creds_lint.classify`).
    ``facts`` holds what the rules worked out about the versions of a variable (:class:`Facts`).
    """

    new: VarStore
    old: VarStore | None
    changes: Changes
    classifier: Classifier = DEFAULT_CLASSIFIER
    check_all: bool = False
    expiry_days: int = 30
    now: datetime = dataclasses.field(default_factory=x509.now_utc)
    manifest: Manifest | None = None
    deleted: bool = False
    removal: Removal = Removal.DELETED
    classes: Classification | None = None
    old_classes: Classification | None = None
    by_content: bool = False
    facts: Facts = dataclasses.field(default_factory=Facts, compare=False, repr=False)

    def of(self, kind: ChangeKind) -> Iterator[Change]:
        return self.changes.of(kind)

    @cached
    def subjects(self) -> tuple[Entry, ...]:
        """The entries of the new store whose state is checked: those added or changed, or all of them when
        auditing one file or with ``--all``."""
        if self.old is None or self.check_all:
            return tuple(self.new)
        return tuple(c.new for c in self.changes if c.new is not None)

    @cached
    def rotations(self) -> Mapping[str, rotations.Rotation]:
        """The changes that follow a documented rotation, by variable (see :mod:`creds_lint.rotations`)."""
        _ = self.pki, self.old_pki  # held here, the graphs are those that the rotations look up (pki.graph)
        return rotations.find(self.old, self.new, self.changes, keeps_old=self.keeps_old, reads=self.reads)

    def keeps_old(self, entry: Entry) -> bool:
        """Whether a copy of the old value under ``NAME_old`` can keep what depends on it working: for encryption
        keys (data is still decrypted), signing keys (signatures still verify) and agent passwords (a second user
        keeps the old one), never for certificates."""
        if entry.kind is Kind.CERTIFICATE:
            return False
        role = self.role(entry)
        return role in (Role.ENCRYPTION_KEY, Role.SIGNING_KEY) or (
            role is Role.AGENT_CREDENTIAL and entry.kind is Kind.PASSWORD
        )

    def reads(self, name: str) -> bool:
        """Whether the deployment is shown to read ``name``: a ``--manifest`` references ``((name))``."""
        return self.manifest is not None and self.manifest.reads(name)

    # --- certificates -----------------------------------------------------------------------------------------

    @cached
    def pki(self) -> Graph:
        """The CA graph of the new store."""
        return pki.graph(self.new)

    @cached
    def old_pki(self) -> Graph | None:
        """The CA graph of the old store (``None`` when auditing one file)."""
        return pki.graph(self.old) if self.old is not None else None

    def certificate(self, entry: Entry | None) -> Certificate | None:
        pem = entry.text("certificate") if entry is not None else None
        return x509.load_certificate(pem) if pem else None

    def certificate_info(self, entry: Entry | None) -> x509.CertInfo | None:
        """The facts of an entry's certificate (:func:`creds_lint.x509.certificate_info`), or ``None``."""
        pem = entry.text("certificate") if entry is not None else None
        return x509.certificate_info(pem) if pem else None

    def identity(self, entry: Entry) -> Identity:
        """What ``entry`` (of either version) is: its store's classification, made by the engine before the rules
        ran (``classes``, ``old_classes``; without one, worked out by the same function)."""
        old_side = self.old is not None and self.new.get(entry.name) is not entry
        classes = self.old_classes if old_side else self.classes
        return classes.of(entry) if classes is not None else identify(entry, self.classifier)

    def is_ca(self, entry: Entry) -> bool:
        return self.identity(entry).ca

    def role(self, entry: Entry) -> Role:
        return self.identity(entry).role

    def consequence(self, entry: Entry) -> str:
        """What breaks when ``entry`` changes or disappears, in an operator's words."""
        return self.identity(entry).consequence

    def category(self, entry: Entry) -> Category:
        return self.identity(entry).category

    def change_category(self, change: Change) -> Category:
        """The category of a changed variable: a documented rotation is one whatever the variable; otherwise a
        CA in either version counts as a CA (worked out once per run: every rule of a family asks)."""
        return self.facts.once("category", change.old, change.new, lambda: self._change_category(change))

    def changed(self, kind: ChangeKind, category: Category) -> tuple[Change, ...]:
        """The changes of ``kind`` whose :meth:`change_category` is ``category``, in order: grouped once per run,
        since every rule of a family (``removed-*``, ``regenerated-*``) and the certificate rules each want one
        category of the ten thousand changes of a large incident."""
        return self._by_category.get((kind, category), ())

    @cached
    def _by_category(self) -> dict[tuple[ChangeKind, Category], tuple[Change, ...]]:
        grouped: dict[tuple[ChangeKind, Category], list[Change]] = {}
        for change in self.changes:
            grouped.setdefault((change.kind, self.change_category(change)), []).append(change)
        return {key: tuple(changes) for key, changes in grouped.items()}

    def _change_category(self, change: Change) -> Category:
        if change.name in self.rotations:
            return Category.ROTATION
        entries = [e for e in (change.old, change.new) if e is not None]
        categories = [self.category(e) for e in entries]
        return Category.CA if Category.CA in categories else categories[0]


Check = Callable[[Context], Iterable[Hit]]

#: What a rule claims: the kinds of change its hits account for.
ADDED = frozenset({ChangeKind.ADDED})
REMOVED = frozenset({ChangeKind.REMOVED})
MODIFIED = frozenset({ChangeKind.MODIFIED})
GONE_OR_CHANGED = REMOVED | MODIFIED


@dataclass(frozen=True, kw_only=True)
class Definition:
    """What a finding's code stands for: a stable code (``CL101``) and kebab-case name, a default severity, a
    one-line summary, a rationale (its documentation) and a remedy. Rules are definitions with a check; the
    engine's own verdicts (:mod:`creds_lint.rules.verdicts`) and the rows of a rule family's table are
    definitions too."""

    code: str
    name: str
    severity: Severity
    summary: str
    rationale: str
    remedy: str


@dataclass(frozen=True, kw_only=True)
class Rule(Definition):
    """A self-describing check. ``rationale`` is the docstring of ``check`` (or its table row's): it is the rule's
    documentation. ``claims``: the kinds of change that a hit of the rule on a variable accounts for."""

    claims: frozenset[ChangeKind] = frozenset()
    check: Check = dataclasses.field(repr=False, compare=False)

    def __call__(self, context: Context) -> Iterable[Hit]:
        return self.check(context)


def rule(
    *, code: str, name: str, severity: Severity, summary: str, remedy: str, claims: frozenset[ChangeKind] = frozenset()
) -> Callable[[Check], Rule]:
    """Declare a rule: ``@rule(code=..., name=..., ...)`` on a function whose docstring is its rationale."""

    def wrap(check: Check) -> Rule:
        if not check.__doc__:
            raise TypeError(f"rule {name} needs a docstring: it is the rule's rationale")
        return Rule(
            code=code,
            name=name,
            severity=severity,
            summary=summary,
            rationale=inspect.cleandoc(check.__doc__),
            remedy=remedy,
            claims=claims,
            check=check,
        )

    return wrap


Row = TypeVar("Row", bound=Definition)


def family(
    rows: Iterable[Row], body: Callable[[Row, Context], Iterable[Hit]], *, claims: frozenset[ChangeKind]
) -> tuple[Rule, ...]:
    """The rules of a table: one rule per row, each checked by ``body(row, context)``. A row is the rule's
    definition (its rationale written in it) with the fields its family's body reads, so adding a rule of the
    family is adding a row."""
    return tuple(
        Rule(
            code=row.code,
            name=row.name,
            severity=row.severity,
            summary=row.summary,
            rationale=row.rationale,
            remedy=row.remedy,
            claims=claims,
            check=partial(body, row),
        )
        for row in rows
    )
