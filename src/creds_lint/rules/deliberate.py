"""Deliberate changes: documented rotations and variables declared disposable.

What allowances did (unused, expired) is not a rule: the engine says it in its decision step
(:mod:`creds_lint.rules.verdicts`).
"""

from __future__ import annotations

from collections.abc import Iterator

from creds_lint.diff import Change, ChangeKind
from creds_lint.findings import Severity
from creds_lint.model import Category
from creds_lint.rotations import Rotation, Step
from creds_lint.rules.base import GONE_OR_CHANGED, REMOVED, Context, Hit, rule
from creds_lint.rules.describe import change_details, entry_details, what
from creds_lint.rules.manifest import missing


@rule(
    code="CL601",
    name="disposable-changed",
    severity=Severity.INFO,
    summary=(
        "A variable declared disposable in the configuration was removed, changed, or (with --manifest) is missing: "
        "bosh regenerates it safely."
    ),
    remedy="Nothing to do. Remove the variable from classify.disposable if something does depend on its value.",
    claims=GONE_OR_CHANGED,
)
def disposable_changed(ctx: Context) -> Iterator[Hit]:
    """Some variables are documented as safe to drop and regenerate — ``hm_password``,
    ``blobstore_director_password``, a local ``postgres_password`` — because bosh redeploys everything that uses
    them together. Listed under ``classify.disposable`` (never an encryption key, a CA, a key pair or a certificate: see
    ``ineffective-configuration``), their removal or new value
    is reported here, as information, instead of by ``removed-password`` or ``regenerated-password`` — and, with
    ``--manifest``, their absence instead of by ``missing-password``."""
    for declaration in missing(ctx, Category.DISPOSABLE):
        yield Hit(
            variable=declaration.name,
            message=(
                f"{declaration.name} (disposable) is declared in {declaration.where} but missing from the var-store: "
                "BOSH generates it on the next deploy, which is safe."
            ),
            details={"declared": declaration.where, "type": declaration.type},
        )
    for change in ctx.changes:
        if change.kind is ChangeKind.ADDED or ctx.change_category(change) is not Category.DISPOSABLE:
            continue
        old, new = change.old, change.new
        assert old is not None
        if new is None:
            yield Hit(
                variable=change.name,
                old_line=old.line,
                message=f"{what(ctx, old)} was removed: BOSH generates a new value on the next deploy, which is safe.",
                details=entry_details(old, prefix="old"),
            )
        else:
            yield Hit(
                variable=change.name,
                line=new.line,
                message=(
                    f"{what(ctx, new)} has a new value ({old.fingerprint} -> {new.fingerprint}): declared "
                    "disposable, so this is safe."
                ),
                details=change_details(old, new),
            )


#: What ``classify.disposable`` never applies to.
_PROTECTED = (Category.ENCRYPTION_KEY, Category.CA, Category.KEYPAIR, Category.CERTIFICATE)


@rule(
    code="CL603",
    name="ineffective-configuration",
    severity=Severity.WARNING,
    summary=(
        "classify.disposable names or matches an encryption key, a CA, a key pair or a certificate: the setting is "
        "ignored for it."
    ),
    remedy=(
        "Narrow the disposable pattern (or remove the name) so that it matches only passwords that are safe to "
        "regenerate. To approve one deliberate change of a protected variable, use an allow entry with a reason."
    ),
)
def ineffective_configuration(ctx: Context) -> Iterator[Hit]:
    """``classify.disposable`` turns a removed or regenerated password into information. A pattern such as
    ``_password$`` also matches ``credhub_encryption_password``: if it applied, the loss of the encryption key would
    pass with exit 0. An encryption key, a CA, a key pair or a certificate is therefore never disposable, whatever
    the configuration says; the change is reported by its usual rule, and this rule says that the setting did
    nothing for that variable, so the configuration can be corrected. (An exact name under
    ``classify.disposable`` that is an encryption key by its name is refused when the configuration is read.)"""
    for change in ctx.changes:
        if change.kind is ChangeKind.ADDED or not ctx.classifier.matches("disposable", change.name):
            continue
        entries = [e for e in (change.old, change.new) if e is not None]
        protected = [c for e in entries if (c := ctx.category(e)) in _PROTECTED]
        if not protected:
            continue
        entry = change.new or change.old
        assert entry is not None
        yield Hit(
            variable=change.name,
            line=change.new.line if change.new is not None else None,
            old_line=change.old.line if change.old is not None else None,
            message=(
                f"{change.name} ({protected[0].value}) matches classify.disposable in the configuration, but "
                f"{_article(protected[0].value)} {protected[0].value} is never disposable: the setting is ignored "
                "for it and its change is reported as usual."
            ),
            details={"category": protected[0].value},
        )


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _rotation_message(ctx: Context, rotation: Rotation, change: Change) -> str:
    entry = change.new or change.old
    assert entry is not None
    name, partner = what(ctx, entry), rotation.partner
    read = f"{ctx.manifest.label} references (({partner}))" if ctx.manifest is not None else ""
    if rotation.step is Step.KEPT:
        assert change.old is not None
        return (
            f"{name} has a new value ({change.old.fingerprint} -> {entry.fingerprint}) and its old value is kept "
            f"under {partner}, which {read}: the documented rotation. Keep {partner} where the old value is still "
            "needed (an inactive key, an additional user) until the rotation is complete."
        )
    if rotation.step is Step.MOVED:
        return (
            f"{name} was removed and its old value is kept under {partner}, which {read}: the documented "
            f"rotation. BOSH generates a new {rotation.name} on the next deploy; keep {partner} until the "
            "rotation is complete."
        )
    if rotation.step is Step.PROMOTED:
        return (
            f"{name} now holds the value of {partner} ({entry.fingerprint}): the last step of the documented "
            f"rotation. What trusted or used {partner} keeps working."
        )
    if rotation.step is Step.RETIRED:
        return f"{name} was removed after its value moved to {partner}: the last step of the documented rotation."
    changed = [f"added {', '.join(f'CN={cn}' for cn in rotation.added)}"] if rotation.added else []
    changed += [f"removed {', '.join(f'CN={cn}' for cn in rotation.removed)}"] if rotation.removed else []
    return (
        f"{name}: only its trusted CAs ('ca' field) changed ({'; '.join(changed) or 'same CAs'}), and it is still "
        "signed by one of them: the trust step of a documented CA rotation."
    )


@rule(
    code="CL602",
    name="documented-rotation",
    severity=Severity.INFO,
    summary=(
        "A change that follows a documented rotation (NAME_old kept for keys and read by the --manifest, a "
        "certificate's NAME_2 promoted, CAs concatenated)."
    ),
    remedy="Nothing to do: finish the rotation as documented, then remove the transitional variable.",
    claims=GONE_OR_CHANGED,
)
def documented_rotation(ctx: Context) -> Iterator[Hit]:
    """Rotations documented for bosh var-stores look like regenerations to a diff, but keep what depends on the
    old value working: an encryption password whose old value moves to ``NAME_old`` (CredHub keeps decrypting
    with it), a CA rotated by adding ``NAME_2``, concatenating old and new CA certificates in the trust (``ca``)
    fields, re-issuing the leaves, then moving ``NAME_2``'s value to ``NAME``. Promotion counts only for
    certificates: an encryption key, signing key or password whose ``NAME_2`` value moved to ``NAME`` leaves the
    old value nowhere (data encrypted with it is lost), so it is still a regeneration — keep the old value under
    ``NAME_old`` instead. A kept copy counts only when something is shown to read it: a ``--manifest`` (the full
    interpolated manifest, ``bosh int`` with the step's ops files and without a vars store, so that placeholders
    stay) references ``((NAME_old))``, e.g. as CredHub's inactive encryption key; without it, the old value sits
    unused in the file while bosh generates a new key, and the change is reported by its usual rule. The same
    holds for an agent password kept under docs-bosh's ``blobstore_agent_old_password`` for a second user.
    Each such change is reported here,
    as information, instead of as a regenerated or removed secret. Only an exact match counts: ``NAME_old`` must
    hold the very old value, ``NAME`` the very value ``NAME_2`` held, and a certificate whose trust changed must
    still be signed by a CA it trusts."""
    for name, rotation in ctx.rotations.items():
        if rotation.step is Step.COMPLETED:
            continue  # retired-copy-removed speaks for it
        change = next(c for c in ctx.changes if c.name == name)
        field = "ca" if rotation.step is Step.TRUST else None
        yield Hit(
            variable=name,
            field=field,
            line=change.new.field_line(field) if change.new is not None else None,
            old_line=change.old.line if change.old is not None else None,
            message=_rotation_message(ctx, rotation, change),
            details={"step": rotation.step.value, **({"partner": rotation.partner} if rotation.partner else {})},
        )


@rule(
    code="CL604",
    name="retired-copy-removed",
    severity=Severity.WARNING,
    summary=(
        "The kept old value of a rotated key or agent password (NAME_old, blobstore_agent_old_password) was "
        "removed while the active value stayed: the last step of the rotation."
    ),
    remedy=(
        "Commit it only after the deploy that made the new value active has finished (CredHub re-encrypted its "
        "data, every VM was recreated with the new agent password), and together with dropping the ops file that "
        "reads the old value."
    ),
    claims=REMOVED,
)
def retired_copy_removed(ctx: Context) -> Iterator[Hit]:
    """The documented rotations of ``credhub_encryption_password`` and ``blobstore_agent_password`` end by
    deleting the kept copy (``credhub_encryption_password_old``, ``blobstore_agent_old_password``) while the
    active value stays as it is. bosh does not regenerate a name that nothing declares, so no key is lost by the
    edit itself, which is why this is not ``removed-encryption-key``. It is a warning because it is safe only after
    the deploy that made the new value active has finished: CredHub must have re-encrypted everything with the new
    key, and every agent must use the new password, before the old one goes."""
    for name, rotation in ctx.rotations.items():
        if rotation.step is not Step.COMPLETED:
            continue
        change = next(c for c in ctx.changes if c.name == name)
        assert change.old is not None
        still = (
            f" {ctx.manifest.label} still references (({name})): drop the ops file that reads it in the same step."
            if ctx.reads(name) and ctx.manifest is not None
            else ""
        )
        yield Hit(
            variable=name,
            old_line=change.old.line,
            message=(
                f"{name} (the kept old value of {rotation.partner}) was removed while {rotation.partner} kept its "
                f"value: the last step of the documented rotation. It is safe only after the deploy that made the "
                f"new {rotation.partner} active has finished.{still}"
            ),
            details={"step": rotation.step.value, "partner": str(rotation.partner)},
        )


RULES = (documented_rotation, retired_copy_removed, disposable_changed, ineffective_configuration)
