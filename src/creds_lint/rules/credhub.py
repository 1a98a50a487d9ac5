"""CredHub exports: the rules only an export needs, and every other rule's message in CredHub's words.

The rules that check var-stores check exports too (:mod:`creds_lint.credhub` reads them as a var-store whose
names are CredHub paths). What differs is what happens next and what to do about it: the director generates a
missing credential in CredHub on the next ``bosh deploy``, ``credhub regenerate`` keeps the previous version
(``credhub get -n NAME --versions 2``), ``credhub delete`` does not, and ``credhub set`` or ``credhub import``
put a value back. :func:`reword` says so in each finding about an export.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace

from creds_lint import credhub
from creds_lint.credhub import Credential
from creds_lint.findings import Finding, Severity
from creds_lint.model import Entry, Kind
from creds_lint.pki import Trust
from creds_lint.rules.base import Context, Hit, rule
from creds_lint.rules.describe import RESTORE, certificate_label, what

#: How many dependents a message names before it says "and N more".
_SHOWN = 8


@rule(
    code="CL701",
    name="readable-export",
    severity=Severity.WARNING,
    summary="A CredHub export file can be read by its group or by others.",
    remedy="`chmod 600 FILE` (and keep exports in an encrypted place): `credhub export -f` writes mode 0644.",
)
def readable_export(ctx: Context) -> Iterator[Hit]:
    """A CredHub export holds every credential it lists in clear text: encryption keys, CA private keys,
    passwords. ``credhub export -f FILE`` writes it with mode 0644, readable by every user of the machine that
    made the backup."""
    mode = ctx.new.mode
    if ctx.new.export is None or mode is None or not mode & (stat.S_IRWXG | stat.S_IRWXO):
        return
    who = " and ".join(w for w, bits in (("its group", stat.S_IRWXG), ("others", stat.S_IRWXO)) if mode & bits)
    yield Hit(
        variable=None,
        message=(
            f"the CredHub export can be read by {who} (mode {mode:04o}): it holds every credential it lists in clear "
            f"text. Run chmod 600 on it (credhub export -f writes 0644)."
        ),
        details={"mode": f"{mode:04o}"},
    )


@rule(
    code="CL702",
    name="missing-signer",
    severity=Severity.WARNING,
    summary="A certificate of a CredHub export names a signer (ca_name) that is not in the export.",
    remedy="Export the signer's path too (`credhub export` without -p exports everything) and check again.",
)
def missing_signer(ctx: Context) -> Iterator[Hit]:
    """A certificate that CredHub signed with another credential carries only that credential's name
    (``ca_name``), not a copy of it. When the export leaves the signer out (``credhub export -p PATH``), its
    chain, and whether its signer was regenerated, cannot be checked: it is not an all-clear."""
    for entry in ctx.subjects:
        if not isinstance(entry, Credential) or entry.kind is not Kind.CERTIFICATE:
            continue
        signer = entry.ca_name
        if signer is None or signer == entry.name or signer in ctx.new:
            continue
        yield Hit(
            variable=entry.name,
            field="ca_name",
            line=entry.field_line("ca_name"),
            message=(
                f"{what(ctx, entry)} is signed by {signer} (its ca_name), which is not in this export: its chain "
                "cannot be checked. Export the signer's path too."
            ),
            details={"ca_name": signer},
        )


RULES = (readable_export, missing_signer)


# --- the other rules, in CredHub's words ----------------------------------------------------------------------

#: Rules whose credential is gone from CredHub with every version (``credhub delete``).
_DELETED = frozenset({"removed-encryption-key", "removed-ca", "removed-keypair", "removed-password"})

#: Phrases of the var-store messages and what they are in CredHub, in the order they are replaced.
_PHRASES: tuple[tuple[str, str], ...] = (
    ("Restore the old CA from version control.", "{previous}"),
    (
        "Delete it so that bosh re-issues it, or restore its CA.",
        "`credhub regenerate -n {name}` re-issues it from its current CA; or set its CA back.",
    ),
    (
        "Delete {name} so that bosh re-issues it from the current CA, or restore the old CA.",
        "`credhub regenerate -n {name}` re-issues it from the current CA; or set the old CA back.",
    ),
    (
        "bosh does not re-issue certificates when it regenerates their CA",
        "`credhub regenerate` of a CA does not re-issue what it signed (`credhub bulk-regenerate --signed-by` does)",
    ),
    ("bosh keeps it as it is and deploys an empty secret", "the director deploys it from CredHub as it is"),
    ("bosh keeps it and deploys it as it is", "the director deploys it from CredHub as it is"),
    ("bosh keeps the entry as it is, so whatever uses it fails", "the director deploys it as it is and its users fail"),
    ("bosh uses the last one", "`credhub import` sets each in turn, so the last one wins"),
    ("bosh deploys it as it is", "the director deploys it from CredHub as it is"),
    ("BOSH will generate", "the director will generate"),
    ("BOSH will re-issue", "the director will re-issue"),
    ("BOSH generates", "the director generates"),
    (" on the next deploy", " in CredHub on the next deploy"),
    ("the CA in its 'ca' field", "the CA its ca_name names"),
    ("no longer in the store", "no longer in the export"),
    ("not in the store", "not in the export"),
    ("of this store", "of this export"),
    ("of the store", "of the export"),
    ("the var-store", "the export"),
    ("(unknown value)", "(json value)"),
)


#: Placeholders of the remedies: the sentences the messages use, so that the text output does not repeat them.
_SET_PREVIOUS = "{previous}"
_PREVIOUS = "{previous_lower}"
_SET_DELETED = "{deleted}"
_ROTATE_CA = (
    "To rotate a CA, follow CredHub's CA rotation: regenerate it as a transitional version, redeploy, re-issue what "
    "it signed (`credhub bulk-regenerate --signed-by NAME`), redeploy, then drop the transitional version"
)

#: The remedies of the rules that speak of version control, NAME_2 variables or deleting a variable, for an export.
_REMEDIES: dict[str, str] = {
    "removed-encryption-key": f"{_SET_DELETED}. To rotate an encryption key, add the new one next to the old one.",
    "removed-ca": f"{_SET_DELETED}. {_ROTATE_CA}.",
    "removed-keypair": f"{_SET_DELETED}.",
    "removed-password": f"{_SET_DELETED}. If the credential is documented as safe to regenerate, allow the change.",
    "removed-certificate": (
        "Nothing, if you are rotating it: the director issues it again from its unchanged CA. Otherwise set it back "
        "from the old export (`credhub set -n NAME`)."
    ),
    "removed-field": f"{_SET_PREVIOUS}: the director deploys the credential as it is.",
    "regenerated-encryption-key": (
        f"{_SET_PREVIOUS}. To rotate an encryption key, keep the old one where the product still reads it, then allow "
        "the change."
    ),
    "regenerated-password": f"{_SET_PREVIOUS}, or, if the change is deliberate, allow it and redeploy what uses it.",
    "regenerated-keypair": f"{_SET_PREVIOUS}, or, if the rotation is deliberate, allow it and update what trusts it.",
    "changed-type": f"{_SET_PREVIOUS}: the jobs that read it expect its old type.",
    "regenerated-ca": f"{_SET_PREVIOUS}. {_ROTATE_CA}.",
    "empty-value": f"{_SET_PREVIOUS}, or `credhub delete -n NAME` if the director may generate it anew.",
    "duplicate-key": "Keep one entry per name: `credhub import` sets each in turn and keeps the last.",
    "stale-ca-reference": (
        "`credhub regenerate -n NAME` re-issues it from the current CA (`credhub bulk-regenerate --signed-by CA` "
        "re-issues all it signed), then redeploy; or set the old CA back."
    ),
    "certificate-not-signed-by-ca": (
        f"Re-issue it from the CA its ca_name names (`credhub regenerate -n NAME`), or {_PREVIOUS}."
    ),
    "key-mismatch": f"{_SET_PREVIOUS}: the matching key material.",
    "expired-certificate": (
        "Rotate it: `credhub regenerate -n NAME` re-issues a leaf from its unchanged CA; renew a CA with its own key, "
        "or rotate it with a transitional version first."
    ),
    "expiring-certificate": "Plan its rotation now: `creds-lint check EXPORT` lists what expires when.",
    "malformed-certificate": f"{_SET_PREVIOUS}, or `credhub regenerate -n NAME`.",
    "subject-changed": f"Re-issue it with the old names (its options in the manifest), or {_PREVIOUS}.",
    "signer-changed": (f"Re-issue it from its previous CA (its `ca` option in the manifest), or {_PREVIOUS}."),
    "removed-file": (
        "Restore the export from version control (git restore --source=HEAD --staged --worktree -- FILE). If the "
        "backup is retired on purpose, allow it in .creds-lint.yml (rule: removed-file, file: the path, reason)."
    ),
}


def reword(findings: Sequence[Finding], ctx: Context) -> list[Finding]:
    """The findings about a CredHub export, their messages in CredHub's words: its consequences (the director
    generates in CredHub), its commands (``credhub get -n NAME --versions 2``, ``credhub set``, ``credhub
    regenerate``), and for a CA the certificates that name it in ``ca_name``."""
    signed = {
        rule: credhub.dependents(store) if store is not None else {}
        for rule, store in (("regenerated-ca", ctx.new), ("removed-ca", ctx.old))
        if any(f.rule == rule for f in findings)
    }
    return [_reworded(finding, ctx, signed) for finding in findings]


def _reworded(finding: Finding, ctx: Context, signed: Mapping[str, Mapping[str, tuple[str, ...]]]) -> Finding:
    name = finding.variable or ""
    entry = ctx.new.get(name) if finding.variable is not None else None
    if finding.rule == "removed-file":
        return replace(finding, message=_removed_export(ctx))
    if finding.rule == "stale-ca-reference" and isinstance(entry, Credential) and entry.ca_name is not None:
        message = _stale_through_ca_name(ctx, entry)
    elif finding.rule == "changed-type" and ctx.old is not None:
        message = _changed_type(ctx, name) or finding.message
    else:
        message = finding.message
    restore = _set_back_deleted(name) if finding.rule in _DELETED else _set_back_previous(name, entry)
    message = message.replace(RESTORE, restore)
    for phrase, words in _PHRASES:
        if phrase.replace("{name}", name) in message:
            message = message.replace(
                phrase.replace("{name}", name),
                words.format(name=name, previous=_set_back_previous(name, entry) + "."),
            )
    if finding.rule in ("regenerated-ca", "removed-ca"):
        message += _dependents(signed[finding.rule].get(name, ()), name)
    remedy = _REMEDIES.get(finding.rule)
    if remedy is not None:
        previous = _set_back_previous(name, entry or (ctx.old.get(name) if ctx.old is not None else None))
        deleted = _set_back_deleted(name)
        remedy = remedy.format(
            previous=previous,
            previous_lower=previous[0].lower() + previous[1:],
            deleted=deleted[0].upper() + deleted[1:],
        ).replace("NAME", name or "NAME")
    return replace(finding, message=message, remedy=remedy)


def _set_back_deleted(name: str) -> str:
    return (
        f"`credhub delete` removed every version of it: set the old value back from the old export with "
        f"`credhub set -n {name}` before the next deploy"
    )


def _set_back_previous(name: str, entry: Entry | None) -> str:
    kind = f" -t {entry.type.value}" if isinstance(entry, Credential) else ""
    return (
        f"Set the previous version back before the next deploy: `credhub get -n {name} --versions 2` shows it, "
        f"`credhub set -n {name}{kind}` sets it"
    )


def _dependents(names: tuple[str, ...], ca: str) -> str:
    if not names:
        return ""
    shown = ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")
    return (
        f" Signed through its ca_name: {shown} ({len(names)} certificate{'s' if len(names) != 1 else ''}); they "
        f"stop verifying unless re-issued (`credhub bulk-regenerate --signed-by {ca}`)."
    )


def _stale_through_ca_name(ctx: Context, entry: Credential) -> str:
    signer = entry.ca_name
    chain = ctx.pki.chain(entry)
    assert chain.trust is Trust.STALE
    previous = ""
    if ctx.old is not None and ctx.old_pki is not None:
        old_signer = ctx.old.get(signer) if signer is not None else None
        if old_signer is not None and credhub.signs(entry, old_signer):
            previous = f" ({certificate_label(ctx, old_signer)}, in {ctx.old.source})"
    return (
        f"{what(ctx, entry)} [{certificate_label(ctx, entry)}] is signed by an earlier version of its ca_name "
        f"{signer}{previous}, which was regenerated since with a new key: VMs and clients that trust the current "
        f"{signer} reject it. `credhub regenerate -n {entry.name}` re-issues it from the current {signer} "
        f"(`credhub bulk-regenerate --signed-by {signer}` re-issues everything it signed); or set the previous "
        f"{signer} back (`credhub get -n {signer} --versions 2`)."
    )


def _changed_type(ctx: Context, name: str) -> str | None:
    old = ctx.old.get(name) if ctx.old is not None else None
    new = ctx.new.get(name)
    if not isinstance(old, Credential) or not isinstance(new, Credential):
        return None
    return (
        f"{name} changed type from {old.type.value} to {new.type.value}: jobs that read it expect a "
        f"{old.type.value}. {RESTORE}."
    )


def _removed_export(ctx: Context) -> str:
    total = len(ctx.old) if ctx.old is not None else 0
    return (
        f"the CredHub export {ctx.removal.value}: it is the backup of {total} credential{'s' if total != 1 else ''}. "
        "CredHub itself is unchanged, but nothing can be restored from this backup any more."
    )
