"""Variables and fields that disappeared or appeared.

BOSH generates anew whatever is missing from a var-store, silently: a removal is a regeneration waiting for the
next ``bosh deploy`` or ``bosh create-env``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from creds_lint.diff import ChangeKind
from creds_lint.findings import Severity
from creds_lint.model import Category, field_label
from creds_lint.rules.base import ADDED, MODIFIED, REMOVED, Context, Definition, Hit, family, rule
from creds_lint.rules.describe import RESTORE, entry_details, unread_copy, what


@dataclass(frozen=True, kw_only=True)
class Removed(Definition):
    """A rule of the ``removed-*`` family: a removed variable of one ``category``. ``outcome`` says what happens
    next, with ``{consequence}`` (what breaks, from the variable's identity) and ``{restore}`` filled in."""

    category: Category
    outcome: str


def removed(row: Removed, ctx: Context) -> Iterator[Hit]:
    """The body of the ``removed-*`` family: every removed variable of the row's category."""
    for change in ctx.changed(ChangeKind.REMOVED, row.category):
        old = change.old
        if old is None:
            continue
        outcome = row.outcome.format(consequence=ctx.consequence(old), restore=RESTORE)
        yield Hit(
            variable=old.name,
            old_line=old.line,
            message=f"{what(ctx, old)} was removed: {outcome}{unread_copy(ctx, old)}",
            details=entry_details(old, prefix="old"),
        )


REMOVED_FAMILY = family(
    (
        Removed(
            code="CL101",
            name="removed-encryption-key",
            severity=Severity.ERROR,
            category=Category.ENCRYPTION_KEY,
            summary="An encryption key is missing from the new var-store.",
            rationale=(
                "BOSH generates a missing variable anew on the next deploy. For an encryption key such as "
                "``credhub_encryption_password`` that means a new key: CredHub, UAA or Cloud Controller can no longer "
                "decrypt the data they encrypted with the old one, and everything that depends on them fails. This is "
                "the incident creds-lint was written for."
            ),
            remedy=(
                f"{RESTORE}. If you are rotating it, keep the old value under NAME_old as the rotation docs say, and "
                "give --manifest with the interpolated manifest that references ((NAME_old)) (or allow the finding)."
            ),
            outcome="BOSH will generate a new one on the next deploy and {consequence}. {restore}.",
        ),
        Removed(
            code="CL102",
            name="removed-ca",
            severity=Severity.ERROR,
            category=Category.CA,
            summary="A CA certificate is missing from the new var-store.",
            rationale=(
                "A missing CA is generated anew with a new key pair. Every certificate it signed stops verifying and "
                "every VM and client that trusts the old CA rejects the new one; for ``nats_ca`` the director can no "
                "longer talk to any agent and the resurrector recreates every VM. Leaf certificates are not re-issued "
                "with it: bosh leaves them signed by the old CA."
            ),
            remedy=f"{RESTORE}. To rotate a CA, add NAME_2 next to it and follow the CA rotation steps instead.",
            outcome=(
                "BOSH will generate a new CA with a new key on the next deploy: every certificate it signed stops "
                "verifying, and {consequence}. {restore}."
            ),
        ),
        Removed(
            code="CL103",
            name="removed-keypair",
            severity=Severity.ERROR,
            category=Category.KEYPAIR,
            summary="An rsa or ssh key pair is missing from the new var-store.",
            rationale=(
                "A missing rsa or ssh key pair is generated anew. Everything signed with the old key (UAA's JWT "
                "tokens, for ``uaa_jwt_signing_key``) becomes invalid, and whoever logs in with the old ssh key (the "
                "jumpbox user) or pinned the old host key is locked out."
            ),
            remedy=f"{RESTORE}.",
            outcome="BOSH will generate a new key pair on the next deploy and {consequence}. {restore}.",
        ),
        Removed(
            code="CL104",
            name="removed-password",
            severity=Severity.ERROR,
            category=Category.SECRET,
            summary="A password or other secret value is missing from the new var-store.",
            rationale=(
                "A missing password is generated anew on the next deploy. Components configured with the old value "
                "— the agents for ``nats_password``, people and pipelines for ``admin_password``, clients for "
                "``*_client_secret`` — can no longer authenticate. Only a few passwords are documented as safe to "
                "regenerate; say so explicitly for those."
            ),
            remedy=f"{RESTORE}. If the variable is documented as safe to regenerate, allow the change explicitly.",
            outcome="BOSH will generate a new value on the next deploy and {consequence}. {restore}.",
        ),
        Removed(
            code="CL105",
            name="removed-certificate",
            severity=Severity.WARNING,
            category=Category.CERTIFICATE,
            summary="A leaf certificate is missing from the new var-store (bosh will re-issue it).",
            rationale=(
                "Deleting a leaf certificate is how a rotation starts: bosh re-issues it from its CA on the next "
                "deploy, and clients that trust the unchanged CA accept the new one. It is a warning because it is "
                "only safe while the CA stays as it is, and because the same edit can take other lines with it."
            ),
            remedy="Nothing, if you are rotating it: make sure its CA stays unchanged. Otherwise restore it.",
            outcome=(
                "BOSH will re-issue it from its CA on the next deploy. "
                "That is safe for a rotation while the CA stays unchanged."
            ),
        ),
    ),
    removed,
    claims=REMOVED,
)


@rule(
    code="CL106",
    name="removed-field",
    severity=Severity.ERROR,
    summary="A structured entry lost a field (a certificate without private_key, a key pair without public_key).",
    remedy=f"{RESTORE}: bosh never rewrites a present variable, so the entry stays broken.",
    claims=MODIFIED,
)
def removed_field(ctx: Context) -> Iterator[Hit]:
    """bosh keeps a variable that is present as it is and never validates it: a certificate whose
    ``private_key`` was deleted stays without one, and the job that needs it fails to start."""
    for change in ctx.of(ChangeKind.MODIFIED):
        assert change.old is not None
        assert change.new is not None
        if not set(change.new.fields) < set(change.old.fields):
            continue  # it did not only lose fields: changed-type speaks for it
        for name in change.removed_fields:
            yield Hit(
                variable=change.name,
                field=name,
                line=change.new.line,
                old_line=change.old.field_line(name),
                message=(
                    f"{what(ctx, change.new)} lost its '{field_label(name)}' field: bosh keeps the entry as it is, so "
                    f"whatever uses it fails. {RESTORE}."
                ),
            )


@rule(
    code="CL107",
    name="added-variable",
    severity=Severity.INFO,
    summary="A new variable.",
    remedy="Nothing to do.",
    claims=ADDED,
)
def added_variable(ctx: Context) -> Iterator[Hit]:
    """A new variable breaks nothing that exists: it is what bosh writes when a manifest gains one."""
    for change in ctx.of(ChangeKind.ADDED):
        new = change.new
        assert new is not None
        yield Hit(
            variable=change.name,
            line=new.line,
            message=f"{what(ctx, new)} was added.",
            details=entry_details(new, prefix="new"),
        )


RULES = (*REMOVED_FAMILY, removed_field, added_variable)
