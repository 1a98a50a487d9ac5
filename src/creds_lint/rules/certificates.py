"""Certificates that changed: a regenerated CA breaks trust, a renewed CA or a re-issued leaf does not."""

from __future__ import annotations

from collections.abc import Iterator

from creds_lint import x509
from creds_lint.diff import ChangeKind
from creds_lint.findings import Severity
from creds_lint.model import Entry, Kind, is_empty
from creds_lint.rules.base import Category, Context, Hit, rule
from creds_lint.rules.describe import certificate_label, change_details, what


def _ca_changes(ctx: Context) -> Iterator[tuple[str, Entry, Entry]]:
    for change in ctx.of(ChangeKind.MODIFIED):
        old, new = change.old, change.new
        assert old is not None
        assert new is not None
        if (
            old.kind is Kind.CERTIFICATE
            and new.kind is Kind.CERTIFICATE
            and ctx.change_category(change) is (Category.CA)
        ):
            yield change.name, old, new


def ca_key_pair_kept(ctx: Context, old: Entry, new: Entry) -> bool:
    """Whether a changed CA kept its key pair and subject, so every signature it made stays valid.

    Unknown counts as not kept: a certificate or key that does not parse cannot prove anything.
    """
    old_cert, new_cert = ctx.certificate(old), ctx.certificate(new)
    if old_cert is None or new_cert is None:
        return False
    old_key, new_key = x509.certificate_key(old_cert), x509.certificate_key(new_cert)
    if old_key is None or new_key is None or not x509.same_key_pair(old_key, new_key):
        return False
    if old_cert.subject != new_cert.subject:
        return False
    new_pem = new.text("private_key")
    new_private = x509.load_private_key(new_pem) if new_pem else None
    return new_private is not None and x509.same_key_pair(new_private, new_key)


@rule(
    code="CL204",
    name="regenerated-ca",
    severity=Severity.ERROR,
    summary="A CA's key pair (or subject) changed.",
    remedy=(
        "Restore the old CA from version control. To rotate a CA, add the new one as NAME_2, put both in the "
        "trust fields, redeploy, then re-issue the leaves and retire the old CA."
    ),
)
def regenerated_ca(ctx: Context) -> Iterator[Hit]:
    """A CA with a new key pair invalidates every signature the old one made. bosh does not re-issue the leaves
    when it regenerates a CA, and VMs and clients that trust the old CA reject certificates from the new one.
    For ``nats_ca`` the director can no longer talk to any agent: the resurrector recreates every VM."""
    for name, old, new in _ca_changes(ctx):
        if ca_key_pair_kept(ctx, old, new):
            continue
        yield Hit(
            variable=name,
            field="certificate",
            line=new.field_line("certificate"),
            message=(
                f"{what(ctx, new)} was regenerated with a new key pair ({certificate_label(ctx, old)} -> "
                f"{certificate_label(ctx, new)}): every certificate it signed stops verifying, and "
                f"{ctx.consequence(new)}. Restore the old CA from version control."
            ),
            details=change_details(ctx, old, new),
        )


@rule(
    code="CL207",
    name="renewed-ca",
    severity=Severity.INFO,
    summary="A CA was re-issued with the same key pair and subject (new validity).",
    remedy="Nothing to do: existing signatures stay valid. Redeploy so that trust stores get the new copy.",
)
def renewed_ca(ctx: Context) -> Iterator[Hit]:
    """Renewing a CA with its own key and subject keeps every signature it made valid: leaves keep verifying,
    and clients that trust either copy accept them. It is how an expiring CA is extended without a rotation."""
    for name, old, new in _ca_changes(ctx):
        if not ca_key_pair_kept(ctx, old, new):
            continue
        yield Hit(
            variable=name,
            field="certificate",
            line=new.field_line("certificate"),
            message=(
                f"{what(ctx, new)} was renewed with the same key and subject ({certificate_label(ctx, old)} -> "
                f"{certificate_label(ctx, new)}): existing signatures stay valid."
            ),
            details=change_details(ctx, old, new),
        )


@rule(
    code="CL205",
    name="rotated-certificate",
    severity=Severity.INFO,
    summary="A leaf certificate changed (re-issued).",
    remedy="Nothing to do if it is signed by an unchanged CA; the certificate checks say otherwise.",
)
def rotated_certificate(ctx: Context) -> Iterator[Hit]:
    """Re-issuing a leaf certificate from an unchanged CA is the legitimate rotation: everything that trusts the
    CA accepts the new certificate. The certificate checks report what would make it unsafe (a signer that is
    not in the store, a key that does not match, lost names)."""
    for change in ctx.of(ChangeKind.MODIFIED):
        old, new = change.old, change.new
        assert old is not None
        assert new is not None
        if old.kind is not Kind.CERTIFICATE or new.kind is not Kind.CERTIFICATE or is_empty(new.value):
            continue
        if ctx.change_category(change) is not Category.CERTIFICATE:
            continue
        yield Hit(
            variable=change.name,
            field="certificate",
            line=new.field_line("certificate"),
            message=(
                f"{what(ctx, new)} was re-issued ({certificate_label(ctx, old)} -> {certificate_label(ctx, new)})."
            ),
            details=change_details(ctx, old, new),
        )


RULES = (regenerated_ca, renewed_ca, rotated_certificate)
