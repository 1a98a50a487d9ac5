"""Certificates that changed: a regenerated CA breaks trust, a renewed CA or a re-issued leaf does not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from creds_lint import der, x509
from creds_lint.diff import ChangeKind
from creds_lint.findings import Severity
from creds_lint.model import Category, Entry, Kind, is_empty
from creds_lint.pki import Trust
from creds_lint.rules.base import MODIFIED, Context, Hit, rule
from creds_lint.rules.describe import (
    certificate_label,
    change_details,
    changed_fields,
    sealed_certificate,
    structure_changes,
    what,
)
from creds_lint.rules.pki import (
    CLOCK_SKEW,
    ca_keys_in,
    defects,
    foreign_trust,
    lost_names,
    lost_usages,
    mismatches,
    signer_change,
)

if TYPE_CHECKING:
    from cryptography.x509 import Certificate


def _ca_changes(ctx: Context) -> Iterator[tuple[str, Entry, Entry]]:
    for change in ctx.changed(ChangeKind.MODIFIED, Category.CA):
        old, new = change.old, change.new
        assert old is not None
        assert new is not None
        if old.kind is Kind.CERTIFICATE and new.kind is Kind.CERTIFICATE:
            yield change.name, old, new


def subject_der(cert: Certificate) -> bytes:
    """The subject as written (Go finds a parent by comparing these bytes): its re-encoding only when the
    certificate is not DER that :mod:`creds_lint.der` reads."""
    try:
        return der.tbs(cert.tbs_certificate_bytes).subject
    except der.DerError:
        return cert.subject.public_bytes()


def ca_key_pair_kept(ctx: Context, old: Entry, new: Entry) -> bool:
    """Whether a changed CA kept its key pair and subject, so every signature it made stays valid.

    Unknown counts as not kept: a certificate or key that does not parse cannot prove anything.
    """
    return _ca_difference(ctx, old, new) is None


def _ca_difference(ctx: Context, old: Entry, new: Entry) -> str | None:
    """Why a changed CA no longer vouches for what the old one signed, or ``None`` when it still does (worked out
    once per run: the CA rules and each leaf it signed ask)."""
    return ctx.facts.once("ca-difference", old, new, lambda: _difference(ctx, old, new))


def _difference(ctx: Context, old: Entry, new: Entry) -> str | None:
    before, after = ctx.certificate_info(old), ctx.certificate_info(new)
    if (before is None or after is None) and sealed_certificate(new):
        return "has a certificate that is sops ciphertext, so it cannot be shown to keep its key without the keys"
    if before is None or after is None:
        return "has a certificate that does not parse, so it cannot be shown to keep its key"
    new_key = after.key_der  # a certificate that loads has read its key
    if before.key_der != new_key:
        return "was regenerated with a new key pair"
    if subject_der(before.cert) != subject_der(after.cert):
        return f"changed its subject ({before.subject} -> {after.subject})"
    new_pem = new.text("private_key")
    if not new_pem or x509.private_key_der(new_pem) != new_key:
        return "has a private key that no longer matches its certificate"
    return None


@rule(
    code="CL204",
    name="regenerated-ca",
    severity=Severity.ERROR,
    summary="A CA's key pair (or subject) changed.",
    remedy=(
        "Restore the old CA from version control. To rotate a CA, add the new one as NAME_2, put both in the "
        "trust fields, redeploy, then re-issue the leaves and retire the old CA."
    ),
    claims=MODIFIED,
)
def regenerated_ca(ctx: Context) -> Iterator[Hit]:
    """A CA with a new key pair invalidates every signature the old one made. bosh does not re-issue the leaves
    when it regenerates a CA, and VMs and clients that trust the old CA reject certificates from the new one.
    For ``nats_ca`` the director can no longer talk to any agent: the resurrector recreates every VM."""
    for name, old, new in _ca_changes(ctx):
        reason = _ca_difference(ctx, old, new)
        if reason is None:
            continue
        yield Hit(
            variable=name,
            field="certificate",
            line=new.field_line("certificate"),
            message=(
                f"{what(ctx, new)} {reason} ({certificate_label(ctx, old)} -> "
                f"{certificate_label(ctx, new)}): every certificate it signed stops verifying, and "
                f"{ctx.consequence(new)}. Restore the old CA from version control."
            ),
            details=change_details(old, new),
        )


@rule(
    code="CL207",
    name="renewed-ca",
    severity=Severity.INFO,
    summary="A CA was re-issued with the same key pair, subject and subject key identifier (new validity).",
    remedy="Nothing to do: existing signatures stay valid. Redeploy so that trust stores get the new copy.",
    claims=MODIFIED,
)
def renewed_ca(ctx: Context) -> Iterator[Hit]:
    """Renewing a CA with its own key, its subject (the same DER) and its subject key identifier keeps every
    signature it made valid: leaves keep verifying, and clients that trust either copy accept them. It is how an
    expiring CA is extended without a rotation. A renewal that changed the subject key
    identifier is ``changed-key-identifier``."""
    for name, old, new in _ca_changes(ctx):
        if not ca_key_pair_kept(ctx, old, new) or _key_ids_changed(ctx, old, new) is not None:
            continue
        structure = structure_changes(ctx, old, new)
        if _same_certificate(ctx, old, new):
            message = (
                f"{what(ctx, new)} kept its certificate ({certificate_label(ctx, new)}), and "
                f"{', '.join(changed_fields(ctx, old, new) + structure)}: existing signatures stay valid."
            )
        else:
            message = (
                f"{what(ctx, new)} was renewed with the same key and subject ({certificate_label(ctx, old)} -> "
                f"{certificate_label(ctx, new)}): existing signatures stay valid."
                + (f" Also, {', '.join(structure)}." if structure else "")
            )
        yield Hit(
            variable=name,
            field="certificate",
            line=new.field_line("certificate"),
            message=message,
            details=change_details(old, new),
        )


def _same_certificate(ctx: Context, old: Entry, new: Entry) -> bool:
    """Whether both versions hold the same certificate (one that parses)."""
    before, after = ctx.certificate_info(old), ctx.certificate_info(new)
    return before is not None and after is not None and x509.same_certificate(before, after)


def _key_ids_changed(ctx: Context, old: Entry, new: Entry) -> tuple[bytes | None, bytes | None] | None:
    """``(old, new)`` subject key identifiers of a CA whose identifier changed, else ``None``."""
    old_cert, new_cert = ctx.certificate(old), ctx.certificate(new)
    if old_cert is None or new_cert is None:
        return None
    before, after = x509.key_identifiers(old_cert)[0], x509.key_identifiers(new_cert)[0]
    return (before, after) if before != after else None


def _key_id(value: bytes | None) -> str:
    return f"keyid {value.hex()[:8]}…" if value else "no key identifier"


@rule(
    code="CL208",
    name="changed-key-identifier",
    severity=Severity.ERROR,
    summary=(
        "A CA was renewed with its key pair and subject but a new subject key identifier: OpenSSL clients no "
        "longer chain what names the old one."
    ),
    remedy=(
        "Renew the CA again from its previous version with the subject key identifier copied, or restore the "
        "previous version."
    ),
    claims=MODIFIED,
)
def changed_key_identifier(ctx: Context) -> Iterator[Hit]:
    """bosh writes a certificate's subject key identifier as the SHA-1 of the modulus, and each certificate's
    authority key identifier as its signer's. Tools that renew a CA with its own key often recompute the
    identifier with RFC 5280's method (``safe`` and ``genesis`` do), which gives another value. Go still chains
    the old certificates, but OpenSSL rejects an issuer whose subject key identifier is not the child's authority
    key identifier (``X509_V_ERR_AKID_SKID_MISMATCH``): the director and the health monitor, which are
    Ruby/OpenSSL clients, no longer accept what the CA signed before, and holders of the old copy reject what
    names the new identifier."""
    changed = [
        (name, old, new, ids)
        for name, old, new in _ca_changes(ctx)
        if ca_key_pair_kept(ctx, old, new) and (ids := _key_ids_changed(ctx, old, new))
    ]
    if not changed:
        return
    named: dict[bytes, list[str]] = {}
    for entry in ctx.new:
        cert = ctx.certificate(entry) if entry.kind is Kind.CERTIFICATE else None
        authority = x509.key_identifiers(cert)[1] if cert is not None else None
        if authority is not None:
            named.setdefault(authority, []).append(entry.name)
    for name, old, new, (before, after) in changed:
        stale = [other for other in named.get(before, []) if other != name] if before is not None else []
        if stale:
            consequence = (
                f"{len(stale)} certificate{'s' if len(stale) != 1 else ''} of the store still name the old one "
                f"({', '.join(stale)}): OpenSSL clients (the director, the health monitor) given the renewed CA "
                "reject them"
            )
        else:
            consequence = "OpenSSL clients that hold the old copy reject every certificate that names the new one"
        yield Hit(
            variable=name,
            field="certificate",
            line=new.field_line("certificate"),
            message=(
                f"{what(ctx, new)} was renewed with its key and subject, but its subject key identifier changed "
                f"({_key_id(before)} -> {_key_id(after)}): {consequence}. Renew it from its previous version with "
                "the identifier copied, or restore the previous version."
            ),
            details=change_details(old, new),
        )


def _signer_problems(ctx: Context, old: Entry, new: Entry) -> list[str]:
    """What is wrong with the CA that signed a re-issued leaf, in words."""
    problems: list[str] = []
    chain = ctx.pki.chain(new)
    signer = ctx.new.get(chain.signer) if chain.signer is not None else None
    if chain.trust is not Trust.VALID or signer is None:
        problems.append("no CA of the store signed it consistently with its 'ca' field (see the chain findings)")
    elif (changed := signer_change(ctx, old, new)) is not None:
        problems.append(f"it is signed by {changed[1]}, another CA than before ({changed[0]}; see signer-changed)")
    else:
        previous = ctx.old.get(signer.name) if ctx.old is not None else None
        if previous is None:
            problems.append(
                f"its CA {signer.name} is new in this change: clients must trust {signer.name} before it is deployed"
            )
        elif previous.value != signer.value and not ca_key_pair_kept(ctx, previous, signer):
            problems.append(f"its CA {signer.name} was regenerated in this change (see regenerated-ca)")
    return problems


def rotation_problems(ctx: Context, old: Entry, new: Entry) -> tuple[str, ...]:
    """What makes a re-issued leaf unsafe, in words; empty when it is valid, signed by an unchanged CA of the
    store, matches its key and keeps its names. The pki rules report each problem in detail."""
    facts = ctx.certificate_info(new)
    if facts is None and sealed_certificate(new):
        return ("its certificate is sops ciphertext and cannot be verified without the keys (--decrypt)",)
    if facts is None:
        return ("its certificate does not parse",)
    problems = _signer_problems(ctx, old, new)
    if foreign_trust(ctx, old, new):
        problems.append("its 'ca' field now trusts a CA that is no version of its signer (see changed-trust)")
    if mismatches(ctx, new) or defects(ctx, new):
        problems.append("its key material does not match or does not parse (see key-mismatch, malformed-certificate)")
    if facts.not_after <= ctx.now:
        problems.append("it has expired (see expired-certificate)")
    elif facts.not_before > ctx.now + CLOCK_SKEW:
        problems.append("it is not valid yet (see not-yet-valid)")
    cn, lost = lost_names(ctx, old, new)
    if cn is not None or lost:
        problems.append("it lost a name it had (see subject-changed)")
    if lost_usages(ctx, old, new):
        problems.append("it lost an extended key usage it had (see lost-key-usage)")
    if ca_keys_in(ctx, new):
        problems.append("its private key is a CA's (see ca-key-in-leaf)")
    return tuple(problems)


@rule(
    code="CL205",
    name="rotated-certificate",
    severity=Severity.INFO,
    summary="A leaf certificate changed (re-issued).",
    remedy="Nothing to do if it is signed by an unchanged CA; the certificate checks say otherwise.",
    claims=MODIFIED,
)
def rotated_certificate(ctx: Context) -> Iterator[Hit]:
    """Re-issuing a leaf certificate from an unchanged CA is the legitimate rotation: everything that trusts the
    CA accepts the new certificate. The message says whether this one is such a rotation; the pki rules report
    what would make it unsafe (a signer that is not in the store or was regenerated, a key that does not match,
    an expired certificate, lost names)."""
    for change in ctx.changed(ChangeKind.MODIFIED, Category.CERTIFICATE):
        old, new = change.old, change.new
        assert old is not None
        assert new is not None
        if old.kind is not Kind.CERTIFICATE or new.kind is not Kind.CERTIFICATE or is_empty(new.value):
            continue
        problems = rotation_problems(ctx, old, new)
        signer = ctx.pki.signer(new)
        structure = structure_changes(ctx, old, new)
        if _same_certificate(ctx, old, new):
            changed = changed_fields(ctx, old, new)
            done = f"kept its certificate ({certificate_label(ctx, new)}); {', '.join(changed + structure)}"
        else:
            done = f"was re-issued ({certificate_label(ctx, old)} -> {certificate_label(ctx, new)})" + "".join(
                f"; {part}" for part in structure
            )
        verdict = f", but {'; '.join(problems)}." if problems else f": signed by {signer}, which is unchanged."
        yield Hit(
            variable=change.name,
            field="certificate",
            line=new.field_line("certificate"),
            message=f"{what(ctx, new)} {done}{verdict}",
            details=change_details(old, new, extra={"signer": signer} if signer else {}),
            depends_on_problem=bool(problems),
        )


RULES = (regenerated_ca, renewed_ca, changed_key_identifier, rotated_certificate)
