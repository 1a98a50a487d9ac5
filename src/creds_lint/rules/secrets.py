"""Secrets whose value changed: what ``bosh create-env`` leaves behind after it regenerated something."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from creds_lint import x509
from creds_lint.diff import ChangeKind
from creds_lint.findings import Severity
from creds_lint.model import Category, Entry, Kind, is_empty
from creds_lint.rules.base import MODIFIED, Context, Definition, Hit, family, rule
from creds_lint.rules.describe import RESTORE, change_details, read_as, unread_copy, what


def _value_changed(old: Entry, new: Entry) -> bool:
    """Every modification of a value with the same kind counts."""
    return True


def _private_key_changed(old: Entry, new: Entry) -> bool:
    """Whether the key pair behind ``private_key`` changed; re-encoding the same key (PKCS#1 to PKCS#8) does
    not count. A key that does not parse counts as changed when its text changed."""
    old_pem, new_pem = old.text("private_key"), new.text("private_key")
    if old_pem == new_pem:
        return False
    old_key = x509.load_private_key(old_pem) if old_pem else None
    new_key = x509.load_private_key(new_pem) if new_pem else None
    if old_key is None or new_key is None:
        return True
    return not x509.same_key_pair(old_key, new_key)


@dataclass(frozen=True, kw_only=True)
class Regenerated(Definition):
    """A rule of the ``regenerated-*`` family: a changed value of one ``category``, which kept its kind and still
    has a value (changed-type and empty-value speak for the others). ``changed`` says whether the change counts,
    ``noun`` what the new value is called (``shapeless`` for a value of no known shape, when it differs),
    ``field`` the field a finding points at."""

    category: Category
    noun: str
    shapeless: str | None = None
    field: str | None = None
    changed: Callable[[Entry, Entry], bool] = _value_changed


def regenerated(row: Regenerated, ctx: Context) -> Iterator[Hit]:
    """The body of the ``regenerated-*`` family: every changed value of the row's category that counts."""
    for change in ctx.changed(ChangeKind.MODIFIED, row.category):
        old, new = change.old, change.new
        assert old is not None
        assert new is not None
        if old.kind is not new.kind or is_empty(new.value) or is_empty(old.value) or not row.changed(old, new):
            continue
        noun = row.shapeless if row.shapeless is not None and new.kind is Kind.UNKNOWN else row.noun
        yield Hit(
            variable=change.name,
            field=row.field,
            line=new.field_line(row.field),
            message=(
                f"{what(ctx, new)} has {noun} ({old.fingerprint} -> {new.fingerprint}){read_as(old, new)}: "
                f"{ctx.consequence(new)}. {RESTORE}.{unread_copy(ctx, old)}"
            ),
            details=change_details(old, new),
        )


REGENERATED_FAMILY = family(
    (
        Regenerated(
            code="CL201",
            name="regenerated-encryption-key",
            severity=Severity.ERROR,
            category=Category.ENCRYPTION_KEY,
            noun="a new value",
            summary="An encryption key's value changed.",
            rationale=(
                "A new value for an encryption key is what ``bosh create-env`` writes after the key went missing. "
                "Data encrypted with the old key — CredHub's store, UAA's, Cloud Controller's database — can no "
                "longer be decrypted: CredHub fails to start, and with it every deployment that reads credentials "
                "from it."
            ),
            remedy=(
                f"{RESTORE}. To rotate an encryption key, keep the old value under NAME_old and read it in the "
                "manifest (CredHub's inactive key), and give that interpolated manifest with --manifest; or allow the "
                "change."
            ),
        ),
        Regenerated(
            code="CL202",
            name="regenerated-password",
            severity=Severity.ERROR,
            category=Category.SECRET,
            noun="a new value",
            shapeless="a changed value",
            summary="A password or other secret value changed.",
            rationale=(
                "A password that changes in the var-store changes only on the VMs that bosh redeploys: agents, "
                "clients, people and pipelines configured with the old value fail to authenticate. For agent "
                "credentials (``nats_password``, ``mbus_bootstrap_password``) every VM becomes unresponsive and the "
                "resurrector recreates it."
            ),
            remedy=f"{RESTORE}, or, if the change is deliberate, allow it and roll it out to everything that uses it.",
        ),
        Regenerated(
            code="CL203",
            name="regenerated-keypair",
            severity=Severity.ERROR,
            category=Category.KEYPAIR,
            noun="a new private key",
            field="private_key",
            changed=_private_key_changed,
            summary="An rsa or ssh private key changed.",
            rationale=(
                "A new rsa or ssh key pair invalidates everything tied to the old one: tokens signed with "
                "``uaa_jwt_signing_key``, the jumpbox user's ssh login, host keys that clients pinned."
            ),
            remedy=(
                f"{RESTORE}, or, if the rotation is deliberate, allow it and update everything that trusts the key."
            ),
        ),
    ),
    regenerated,
    claims=MODIFIED,
)


@rule(
    code="CL206",
    name="changed-type",
    severity=Severity.ERROR,
    summary="An entry changed shape (a password became a map, a certificate became an rsa key, ...).",
    remedy=f"{RESTORE}: the jobs that read this variable expect its old shape.",
    claims=MODIFIED,
)
def changed_type(ctx: Context) -> Iterator[Hit]:
    """Jobs read a variable by its shape — ``((nats_ca.certificate))``, ``((admin_password))``. A value of
    another shape makes template rendering fail, or hands a job something it cannot use; often it is the mark
    of an indentation slip that nested one variable inside another."""
    for change in ctx.of(ChangeKind.MODIFIED):
        old, new = change.old, change.new
        assert old is not None
        assert new is not None
        if is_empty(old.value) or is_empty(new.value):
            continue  # empty-value speaks for it
        if change.removed_fields and set(new.fields) < set(old.fields):
            continue  # it only lost fields: removed-field speaks for it
        if old.kind is not new.kind or change.type_changed:
            yield Hit(
                variable=change.name,
                line=new.line,
                message=(
                    f"{change.name} changed from {old.kind.value} to {new.kind.value}: jobs that read it expect "
                    f"a {old.kind.value}. {RESTORE}."
                ),
                details=change_details(old, new),
            )


RULES = (*REGENERATED_FAMILY, changed_type)
