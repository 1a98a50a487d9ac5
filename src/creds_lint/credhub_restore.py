"""``creds-lint restore NEW_EXPORT --from OLD_EXPORT [NAME...] --import-file OUT``: a subset import file.

``credhub import -f FILE`` overwrites every credential it is given, so importing a whole old export also undoes
the rotations done on purpose since. The restore of an export writes nothing to the export: it writes OUT, an
import file that holds only what to restore, as the old export has it, and the signers their ``ca_name`` needs
(:func:`creds_lint.credhub.select`). :func:`plan` is a function from data to data; :func:`run` is the command
(called by :mod:`creds_lint.restore_cli` for an export) that writes OUT unless ``--dry-run``.

What is restored is what a var-store restore restores: without names, what the check flags as removed or
regenerated among encryption keys, passwords and other secrets, and rsa and ssh key pairs
(:data:`creds_lint.restore.SELECTED_RULES`); certificates and CAs only when named. A CA that is restored and was
regenerated in NEW_EXPORT re-signed every certificate that names it in ``ca_name`` and verifies under its new key:
those are its dependents, restored with it (``--with-dependents``, or named), else the restore is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from creds_lint import credhub, pki, restore, x509
from creds_lint.credhub import Credential, Selection
from creds_lint.errors import CredsLintError
from creds_lint.findings import Finding, Report
from creds_lint.invocation import Restore
from creds_lint.model import VarStore
from creds_lint.restore import Reason


@dataclass(frozen=True, kw_only=True, slots=True)
class Item:
    """One credential of the import file: how the export has it now (``before``) and the version restored
    (``after``), as fingerprints (never values); ``rule``: the finding that selected it; ``signer``: the CA it
    is there for (a dependent) or that needs it (a signer)."""

    name: str
    type: str
    reason: Reason
    before: str
    after: str
    rule: str | None = None
    signer: str | None = None


@dataclass(frozen=True, kw_only=True)
class ImportPlan:
    """What the import file holds, and the state of CredHub after ``credhub import -f`` of it (``result``, the
    export that CredHub would give then)."""

    file: str
    source: str
    import_file: str
    selection: Selection
    items: tuple[Item, ...]
    result: bytes
    warnings: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        return bool(self.items)


def plan(
    *,
    file: VarStore,
    source: VarStore,
    import_file: str,
    names: Sequence[str],
    findings: Sequence[Finding],
    with_dependents: bool = False,
    force: bool = False,
) -> ImportPlan:
    """The import file that restores ``names`` (or what ``findings`` flag) from ``source`` over ``file`` (see the
    module docstring). Raises :class:`CredsLintError` when the restore is refused."""
    label = file.source
    for name in names:
        if name not in source:
            raise CredsLintError(f"{name}: not in {source.source}, nothing to restore it from", source=label)
    flagged = restore.selected(findings)
    wanted: dict[str, tuple[Reason, str | None]] = (
        dict.fromkeys(names, (Reason.NAMED, None))
        if names
        else {name: (Reason.FLAGGED, rule) for name, rule in flagged.items() if name in source}
    )
    wanted = {name: why for name, why in wanted.items() if _differs(file, source, name)}
    warnings = _check_types(wanted, file, source, force=force, label=label)
    selection = credhub.select(source, file, wanted)
    dependents = _dependents(selection, file, source)
    missing = {name: ca for name, ca in dependents.items() if name not in wanted}
    if missing and not with_dependents:
        cas = ", ".join(dict.fromkeys(missing.values()))
        raise CredsLintError(
            f"restoring {cas} breaks what the regenerated CA signed since: {', '.join(missing)}; restore them too "
            "(--with-dependents, or name them)",
            source=label,
        )
    gone = [name for name in missing if name not in source]
    warnings += [
        f"{name}: not in {source.source}; after the import, `credhub regenerate -n {name}` re-issues it under "
        f"the restored {missing[name]}"
        for name in gone
    ]
    if missing:
        selection = credhub.select(source, file, [*wanted, *(n for n in missing if n in source)])
    signers = {entry.name for entry in selection.signers}
    items = [
        _item(entry, file, why=_why(entry.name, wanted, missing, signers), needed_by=_needed_by(entry, selection))
        for entry in selection.credentials
    ]
    return ImportPlan(
        file=label,
        source=source.source,
        import_file=import_file,
        selection=selection,
        items=tuple(items),
        result=_result(file, selection),
        warnings=tuple(warnings),
    )


def _why(
    name: str, wanted: Mapping[str, tuple[Reason, str | None]], missing: Mapping[str, str], signers: set[str]
) -> tuple[Reason, str | None, str | None]:
    if name in wanted:
        reason, rule = wanted[name]
        return reason, rule, None
    if name in missing:
        return Reason.DEPENDENT, None, missing[name]
    assert name in signers
    return Reason.SIGNER, None, None


def _needed_by(entry: Credential, selection: Selection) -> str | None:
    """For a signer: the first credential of the import file whose ``ca_name`` names it."""
    return next((c.name for c in selection.credentials if c.ca_name == entry.name), None)


def _item(
    entry: Credential, file: VarStore, *, why: tuple[Reason, str | None, str | None], needed_by: str | None
) -> Item:
    reason, rule, ca = why
    current = file.get(entry.name)
    return Item(
        name=entry.name,
        type=entry.type.value,
        reason=reason,
        before=restore.shown(current.value if current is not None else None, present=current is not None),
        after=restore.shown(entry.value),
        rule=rule,
        signer=ca if reason is Reason.DEPENDENT else (needed_by if reason is Reason.SIGNER else None),
    )


def _differs(file: VarStore, source: VarStore, name: str) -> bool:
    mine, theirs = file.get(name), source.get(name)
    assert theirs is not None
    return mine is None or mine.value != theirs.value


def _check_types(
    wanted: Mapping[str, object], file: VarStore, source: VarStore, *, force: bool, label: str
) -> list[str]:
    warnings: list[str] = []
    for name in wanted:
        now, then = file.get(name), source.get(name)
        if not isinstance(now, Credential) or not isinstance(then, Credential) or now.type is then.type:
            continue
        what = f"{name}: is a {now.type.value} in the export but a {then.type.value} in the version restored from"
        if not force:
            raise CredsLintError(f"{what}; restore it anyway with --force", source=label)
        warnings.append(f"{what}; restored (--force)")
    return warnings


def _dependents(selection: Selection, file: VarStore, source: VarStore) -> dict[str, str]:
    """dependent -> the restored CA it depends on: every certificate of ``file`` whose ``ca_name`` is a CA the
    import file restores, that ``file`` regenerated, and that its new key signs (and, for a dependent that is a
    regenerated CA itself, its own)."""
    importing = {entry.name for entry in selection.credentials}
    signed = credhub.dependents(file)
    result: dict[str, str] = {}
    queue = [name for name in importing if _regenerated(name, file, source)]
    while queue:
        ca = queue.pop(0)
        for name in signed.get(ca, ()):
            if name in importing or name in result:
                continue
            entry = file.get(name)
            if entry is not None and credhub.signs(entry, file.get(ca)):
                result[name] = ca
                if _regenerated(name, file, source):
                    queue.append(name)
    return result


def _regenerated(name: str, file: VarStore, source: VarStore) -> bool:
    """Whether ``file`` holds a certificate ``name`` with another key pair than ``source``'s version (a renewal
    with the same key is no regeneration; one that does not parse proves nothing)."""
    now, then = file.get(name), source.get(name)
    new_cert = pki.certificate(now) if now is not None else None
    old_cert = pki.certificate(then) if then is not None else None
    if new_cert is None or old_cert is None:
        return False
    new_key, old_key = x509.certificate_key(new_cert), x509.certificate_key(old_cert)
    return new_key is None or old_key is None or not x509.same_key_pair(old_key, new_key)


def _result(file: VarStore, selection: Selection) -> bytes:
    """The export CredHub would give after ``credhub import -f`` of the selection: ``file`` with every selected
    credential set to its restored version."""
    restored = {entry.name: entry for entry in selection.credentials}
    credentials = [restored.pop(entry.name, entry) for entry in file if isinstance(entry, Credential)]
    credentials.extend(restored.values())
    return credhub.import_document(Selection(chosen=tuple(credentials))).encode("utf-8")


# --- the command ----------------------------------------------------------------------------------------------


def run(
    args: Restore,
    *,
    file: VarStore,
    source: VarStore,
    findings: Sequence[Finding],
    recheck: Callable[[bytes], Report],
    emit: Callable[..., int],
) -> int:
    """The restore of a CredHub export: plan, write the import file (not with ``--dry-run``), check SOURCE against
    the state the import leaves, print it all. ``recheck`` runs that check on an export's bytes, ``emit`` prints
    the document in the format asked for."""
    from creds_lint.reporters.credhub_restore import render_json, render_text

    if file.export is None:
        raise CredsLintError(
            "--import-file is for a CredHub export; a var-store is restored in place", source=file.source
        )
    if args.import_file is None:
        raise CredsLintError(
            "a CredHub export is not rewritten: give --import-file OUT to write what to restore to OUT, then run "
            "credhub import -f OUT",
            source=file.source,
        )
    if args.as_rotation:
        raise CredsLintError(
            "--as-rotation writes bosh's NAME_old for a var-store; in CredHub, keep the old encryption key in the "
            "key list instead",
            source=file.source,
        )
    result = plan(
        file=file,
        source=source,
        import_file=args.import_file,
        names=list(args.names),
        findings=findings,
        with_dependents=args.with_dependents,
        force=args.force,
    )
    written: Path | None = None
    if result.changes and not args.dry_run:
        written = credhub.write_import_file(args.import_file, result.selection)
    checked = recheck(result.result)
    return emit(
        json=lambda: render_json(result, written, checked, dry_run=args.dry_run),
        text=lambda style: render_text(result, written, checked, dry_run=args.dry_run, style=style),
    )
