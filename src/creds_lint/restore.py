"""``creds-lint restore``: put back, from an earlier version, the entries that bosh must not regenerate.

:func:`plan` is a plain function from data to data: the two versions (FILE as it is, SOURCE the version to restore
from), what the check of SOURCE against FILE flags, and the operator's choices, to a :class:`Restoration` whose
``after`` bytes are the restored file, verified by :mod:`creds_lint.blocks`. It writes nothing; the command
(:mod:`creds_lint.restore_cli`) writes ``after`` with :func:`creds_lint.atomic.write` unless ``--dry-run``.

What is restored:

* without names, what the check flags as removed or regenerated among encryption keys, passwords and other
  secrets, and rsa and ssh key pairs (:data:`SELECTED_RULES`, allowed findings excepted). Certificates and CAs only
  when named: a re-issued certificate is often wanted;
* a CA named and regenerated in FILE re-signed every entry whose ``ca`` field now carries the new CA: those are
  its dependents. They are restored with it (``with_dependents``; one that SOURCE lacks is removed, for bosh to
  issue it again under the restored CA), else the plan is refused naming them. Entries that still carry the old
  CA's certificate become consistent by themselves;
* ``as_rotation``: for an encryption key that CredHub may already have used, FILE's regenerated value stays the
  active key and SOURCE's is written as ``NAME_old``, to be added as an inactive key (:data:`OPS_FILES`).

Refused (a :class:`~creds_lint.errors.CredsLintError`, nothing written): a name SOURCE lacks, a restored name that
changed type (unless ``force``), dependents left out, whatever :mod:`creds_lint.blocks` refuses (duplicate keys,
a flow-style top level). Values never appear in a plan: fingerprints only, and none for a value short enough to be
guessed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from creds_lint import blocks, pki, x509
from creds_lint.blocks import Blocks, Edit, Remove, Set
from creds_lint.errors import CredsLintError
from creds_lint.findings import Finding
from creds_lint.model import Classifier, Kind, Role, VarStore, fingerprint, kind_of

#: The rules whose findings a restore without names puts back: removed or regenerated encryption keys, passwords
#: and other secrets, rsa and ssh key pairs.
SELECTED_RULES = frozenset(
    {
        "removed-encryption-key",
        "removed-password",
        "removed-keypair",
        "regenerated-encryption-key",
        "regenerated-password",
        "regenerated-keypair",
    }
)

#: The documented ops file (docs-bosh, credhub-encryption-password rotation) that adds ``NAME_old`` as an inactive
#: key, by encryption key name.
OPS_FILES: Mapping[str, tuple[str, str]] = {
    "credhub_encryption_password": (
        "add-old-credhub-encryption-password.yml",
        """\
- type: replace
  path: /instance_groups/name=bosh/jobs/name=credhub/properties/credhub/encryption/keys/-
  value:
    active: false
    key_properties:
      encryption_password: ((credhub_encryption_password_old))
    provider_name: internal
""",
    ),
}


class Reason(enum.Enum):
    """Why a name is in the plan."""

    FLAGGED = "flagged by the check"
    NAMED = "named"
    DEPENDENT = "signed again by a regenerated CA that is restored"
    SIGNER = "the ca_name signer a restored certificate needs (a CredHub export)"


class Outcome(enum.Enum):
    """What the plan does to a name."""

    RESTORED = "restored"  # FILE's block replaced by SOURCE's
    PUT_BACK = "put back"  # FILE lacked it: SOURCE's block inserted in bosh's key order
    KEPT_AS_OLD = "kept as _old"  # --as-rotation: SOURCE's value written as NAME_old
    REMOVED = "removed"  # a dependent SOURCE lacks: bosh issues it again under the restored CA


@dataclass(frozen=True, kw_only=True, slots=True)
class Item:
    """One name of the plan. ``before``/``after``: how FILE's value and the restored one are shown (a fingerprint,
    ``missing``, ``null``, or ``fingerprint withheld``). ``written``: the entry's name in the result (``NAME_old`` for a
    rotation). ``rule``: the finding that selected it; ``signer``: the CA it depends on."""

    name: str
    written: str
    outcome: Outcome
    reason: Reason
    before: str
    after: str
    rule: str | None = None
    signer: str | None = None
    text: blocks.Text = blocks.Text.VERBATIM
    expired: date | None = None


@dataclass(frozen=True, kw_only=True)
class Restoration:
    """What a restore does. ``after`` equals ``before`` when nothing needs restoring. ``warnings`` are for the
    operator (an expired certificate restored, a type change forced); ``ops_files`` are (file name, text) of the
    documented ops files a rotation needs."""

    file: str
    source: str
    before: bytes
    after: bytes
    items: tuple[Item, ...] = ()
    warnings: tuple[str, ...] = ()
    ops_files: tuple[tuple[str, str], ...] = ()
    as_rotation: bool = False

    @property
    def changes(self) -> bool:
        return self.after != self.before


def shown(value: object | None, *, present: bool = True) -> str:
    """How a value appears in a plan: never the value."""
    if not present:
        return "missing"
    if value is None:
        return "null"
    return fingerprint(value)


def selected(findings: Iterable[Finding]) -> dict[str, str]:
    """name -> rule of what a restore without names puts back, in the order of the findings."""
    chosen: dict[str, str] = {}
    for finding in findings:
        if finding.rule in SELECTED_RULES and not finding.allowed and finding.variable is not None:
            chosen.setdefault(finding.variable, finding.rule)
    return chosen


def plan(
    *,
    file: Blocks,
    file_store: VarStore,
    source: Blocks,
    source_store: VarStore,
    names: Sequence[str],
    findings: Sequence[Finding],
    classifier: Classifier,
    now: datetime,
    with_dependents: bool = False,
    as_rotation: bool = False,
    force: bool = False,
) -> Restoration:
    """The restore of ``names`` (or of what ``findings`` flag) from ``source`` into ``file`` (see the module
    docstring). Raises :class:`CredsLintError` when the restore is refused."""
    label = file.source
    for name in names:
        if name not in source:
            raise CredsLintError(f"{name}: not in {source.source}, nothing to restore it from", source=label)
    flagged = selected(findings)
    wanted: dict[str, tuple[Reason, str | None]] = (
        dict.fromkeys(names, (Reason.NAMED, None))
        if names
        else {name: (Reason.FLAGGED, rule) for name, rule in flagged.items() if name in source}
    )
    wanted = {name: why for name, why in wanted.items() if _differs(file, source, name)}
    if not wanted:
        return Restoration(file=label, source=source.source, before=file.data, after=file.data, as_rotation=as_rotation)
    warnings: list[str] = []
    _check_types(wanted, file_store, source_store, force=force, warnings=warnings, label=label)
    dependents = _dependents(wanted, file, file_store, source_store)
    missing = [d for d in dependents if d not in wanted]
    if missing and not with_dependents:
        cas = ", ".join(dict.fromkeys(dependents[d] for d in missing))
        raise CredsLintError(
            f"restoring {cas} breaks what the regenerated CA signed since: {', '.join(missing)}; restore them too "
            "(--with-dependents, or name them)",
            source=label,
        )
    rotated = _rotated(wanted, file, file_store, source, classifier) if as_rotation else frozenset()
    edits, items = _edits(wanted, {d: dependents[d] for d in missing}, file, source, rotated)
    if not edits:
        return Restoration(file=label, source=source.source, before=file.data, after=file.data, as_rotation=as_rotation)
    applied = file.apply(edits)
    texts = {change.name: change.text for change in applied.changes}
    items = [_dated(replace(item, text=texts[item.written]), source_store, now) for item in items]
    warnings.extend(
        f"{item.name}: the restored certificate expired on {item.expired:%Y-%m-%d} (perhaps why it was deleted): "
        f"renew it, keeping its key pair, instead of letting bosh regenerate it: creds-lint renew {label} "
        f"{item.name} (docs/renew.md)"
        for item in items
        if item.expired is not None
    )
    warnings.extend(
        f"{name}: no documented ops file is known for it; make the manifest use (({name}_old)) as an inactive key "
        "next to the active one"
        for name in sorted(rotated)
        if name not in OPS_FILES
    )
    return Restoration(
        file=label,
        source=source.source,
        before=file.data,
        after=applied.data,
        items=tuple(items),
        warnings=tuple(warnings),
        ops_files=tuple(OPS_FILES[name] for name in sorted(rotated) if name in OPS_FILES),
        as_rotation=as_rotation,
    )


def _edits(
    wanted: Mapping[str, tuple[Reason, str | None]],
    dependents: Mapping[str, str],
    file: Blocks,
    source: Blocks,
    rotated: frozenset[str],
) -> tuple[list[Edit], list[Item]]:
    """The edits and items of the names to restore, then of the dependents the plan adds."""
    edits: list[Edit] = []
    items: list[Item] = []
    for name, (reason, rule) in wanted.items():
        edits_for, item = _restore_one(name, file, source, rotated=name in rotated)
        edits.extend(edits_for)
        items.append(replace(item, reason=reason, rule=rule))
    for name, ca in dependents.items():
        if name in source:
            edits_for, item = _restore_one(name, file, source, rotated=False)
            edits.extend(edits_for)
        else:
            edits.append(Remove(name=name))
            block = file.get(name)
            item = Item(
                name=name,
                written=name,
                outcome=Outcome.REMOVED,
                reason=Reason.DEPENDENT,
                before=shown(block.value if block else None),
                after="missing",
                text=blocks.Text.NONE,
            )
        items.append(replace(item, reason=Reason.DEPENDENT, signer=ca))
    return edits, items


def _differs(file: Blocks, source: Blocks, name: str) -> bool:
    mine, theirs = file.get(name), source.get(name)
    assert theirs is not None
    return mine is None or not blocks.same(mine.value, theirs.value)


def _check_types(
    wanted: Mapping[str, object],
    file_store: VarStore,
    source_store: VarStore,
    *,
    force: bool,
    warnings: list[str],
    label: str,
) -> None:
    for name in wanted:
        now, then = file_store.get(name), source_store.get(name)
        if now is None or then is None or now.kind is then.kind:
            continue
        what = f"{name}: is {now.kind.value} in the file but {then.kind.value} in the version restored from"
        if not force:
            raise CredsLintError(f"{what}; restore it anyway with --force", source=label)
        warnings.append(f"{what}; restored (--force)")


def _certificate_pem(store: VarStore, name: str) -> str | None:
    entry = store.get(name)
    if entry is None or entry.kind is not Kind.CERTIFICATE:
        return None
    return pki.first_block(entry.text("certificate"))


def _is_ca(pem: str | None) -> bool:
    cert = x509.load_certificate(pem) if pem else None
    return cert is not None and x509.is_ca(cert)


def _dependents(
    wanted: Mapping[str, object], file: Blocks, file_store: VarStore, source_store: VarStore
) -> dict[str, str]:
    """dependent -> the restored CA it depends on: every entry of FILE whose ``ca`` field carries the certificate
    of a CA that FILE regenerated and the plan restores (and, for a dependent that is a CA itself, its own)."""
    result: dict[str, str] = {}
    queue = [name for name in wanted if _regenerated_ca(name, file_store, source_store)]
    while queue:
        ca = queue.pop(0)
        regenerated = _certificate_pem(file_store, ca)
        assert regenerated is not None
        key = pki.pem_key(regenerated)
        for entry in file_store:
            if entry.name == ca or entry.name in wanted or entry.name in result:
                continue
            trusted = entry.text("ca") if entry.kind is Kind.CERTIFICATE else None
            if trusted and any(pki.pem_key(block) == key for block in x509.split_pem_certificates(trusted)):
                result[entry.name] = ca
                if _regenerated_ca(entry.name, file_store, source_store):
                    queue.append(entry.name)
    return {name: result[name] for name in file.names if name in result}


def _regenerated_ca(name: str, file_store: VarStore, source_store: VarStore) -> bool:
    now, then = _certificate_pem(file_store, name), _certificate_pem(source_store, name)
    return now is not None and _is_ca(now) and (then is None or pki.pem_key(now) != pki.pem_key(then))


def _rotated(
    wanted: Mapping[str, object], file: Blocks, file_store: VarStore, source: Blocks, classifier: Classifier
) -> frozenset[str]:
    """The encryption keys to restore as a rotation (``NAME_old``); refuses what cannot be one."""
    keys = [n for n in wanted if classifier.role(n, kind_of(source.values()[n]), is_ca=False) is Role.ENCRYPTION_KEY]
    if not keys:
        raise CredsLintError(
            "--as-rotation is for encryption keys, and none of the names to restore is one", source=file.source
        )
    for name in keys:
        if name not in file:
            raise CredsLintError(
                f"{name}: missing from the file, so no new key was generated that CredHub could have used: restore "
                "it without --as-rotation",
                source=file.source,
            )
        old = file.get(f"{name}_old")
        if old is not None:
            raise CredsLintError(
                f"{name}_old: already in the file; finish or undo that rotation first", source=file.source
            )
    return frozenset(keys)


def _restore_one(name: str, file: Blocks, source: Blocks, *, rotated: bool) -> tuple[list[Edit], Item]:
    theirs = source.get(name)
    assert theirs is not None
    mine = file.get(name)
    before = shown(mine.value if mine else None, present=mine is not None)
    after = shown(theirs.value)
    if rotated:
        written = f"{name}_old"
        item = Item(
            name=name, written=written, outcome=Outcome.KEPT_AS_OLD, reason=Reason.NAMED, before="missing", after=after
        )
        return [Set(name=written, value=theirs.value)], item
    outcome = Outcome.RESTORED if mine is not None else Outcome.PUT_BACK
    item = Item(name=name, written=name, outcome=outcome, reason=Reason.NAMED, before=before, after=after)
    return [Set(name=name, value=theirs.value, raw=theirs.raw)], item


def _dated(item: Item, source_store: VarStore, now: datetime) -> Item:
    """The item with the restored certificate's expiry date when it has expired."""
    if item.outcome is Outcome.REMOVED:
        return item
    pem = _certificate_pem(source_store, item.name)
    cert = x509.load_certificate(pem) if pem else None
    if cert is None or cert.not_valid_after_utc >= now:
        return item
    return replace(item, expired=cert.not_valid_after_utc.date())
