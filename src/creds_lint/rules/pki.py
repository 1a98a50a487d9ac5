"""Certificates and keys as a careful operator with ``openssl`` would check them: chain, key match, expiry, shape.

The state checks (chain, key match, expiry, malformed values) run on :attr:`Context.subjects` — the entries that
changed, or the whole new file with ``--all`` and when one file is audited — plus, for the chain, every
certificate whose ``ca`` field holds the previous version of a CA that changed (bosh leaves them behind when it
regenerates a CA; a removed CA is ``removed-ca``'s). ``subject-changed`` and ``weaker-key`` compare a rotated
entry with its previous version.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

from creds_lint import expiry, holders, pki, x509
from creds_lint.diff import Change, ChangeKind
from creds_lint.findings import Severity
from creds_lint.model import Entry, Kind
from creds_lint.origin import Origin
from creds_lint.pki import Trust
from creds_lint.rotations import Step
from creds_lint.rules.base import MODIFIED, Context, Hit, rule
from creds_lint.rules.describe import certificate_label, change_details, entry_details, label, what

if TYPE_CHECKING:
    from cryptography.x509 import Certificate


def chain_subjects(ctx: Context) -> tuple[Entry, ...]:
    """Certificates whose chain is checked: the subjects, and those that trust a CA whose certificate changed
    (worked out once per run: two rules check them)."""
    return ctx.facts.once("chain-subjects", None, None, lambda: tuple(_chain_subjects(ctx)))


def _chain_subjects(ctx: Context) -> list[Entry]:
    subjects = [e for e in ctx.subjects if e.kind is Kind.CERTIFICATE]
    if ctx.old is None or ctx.check_all:
        return subjects
    # A CA that was removed is reported by removed-ca; one that changed may have left certificates behind.
    changed = [
        change
        for change in ctx.of(ChangeKind.MODIFIED)
        if change.old is not None and change.new is not None and change.old.kind is Kind.CERTIFICATE
        if change.new.text("certificate") != change.old.text("certificate")
    ]
    previous = [text for change in changed if change.old is not None and (text := change.old.text("certificate"))]
    if not any(pki.first_block(text) for text in previous):
        return subjects
    changed_cas = {change.name for change in changed}  # what a CredHub export names in ca_name
    seen = {e.name for e in subjects}
    gone: list[set[str]] = []  # the old certificates, whitespace-free: made for the first 'ca' field to look in
    stale: dict[str, bool] = {}  # by the text of a 'ca' field: the certificates a CA signed share theirs

    def trusts_gone(trust: str) -> bool:
        found = stale.get(trust)
        if found is None:
            if not gone:
                gone.append({pki.pem_key(block) for text in previous if (block := pki.first_block(text))})
            found = stale[trust] = any(pki.pem_key(b) in gone[0] for b in x509.split_pem_certificates(trust))
        return found

    for entry in ctx.new:
        if entry.name in seen or entry.kind is not Kind.CERTIFICATE:
            continue
        trust = entry.text("ca")
        if (trust and trusts_gone(trust)) or entry.text("ca_name") in changed_cas:
            subjects.append(entry)
    return subjects


def _absent_ca(ctx: Context, cert: Certificate) -> str:
    """Names a CA certificate that is in no variable of the new store: an old version, or a foreign CA."""
    shown = label(cert)
    if ctx.old_pki is not None and (name := ctx.old_pki.holder(cert)) is not None:
        return f"the previous {name} ({shown})"
    same = ctx.pki.cas_with_subject(cert)
    if same:
        return f"an older version of {same[0]} ({shown})"
    return f"a CA that is not in the store ({shown})"


def _cert_what(ctx: Context, entry: Entry) -> str:
    return f"{what(ctx, entry)} [{certificate_label(ctx, entry)}]"


@rule(
    code="CL401",
    name="stale-ca-reference",
    severity=Severity.ERROR,
    summary="A certificate is signed by, or trusts, a CA version that is no longer in the var-store.",
    remedy=(
        "Delete the certificate so that bosh re-issues it from the current CA on the next deploy (or restore the "
        "old CA). If the CA kept its key, copy the current CA certificate into the 'ca' field."
    ),
)
def stale_ca_reference(ctx: Context) -> Iterator[Hit]:
    """When bosh regenerates a CA it does not re-issue the certificates the old CA signed: they keep the old
    signature and, in their ``ca`` field, a copy of the old CA. VMs that trust the new CA reject them, and
    clients handed the stale ``ca`` field reject everything the new CA signs. A ``ca`` field that holds an older
    copy of a CA that kept its key still verifies, but hands out a certificate that is no longer in the store."""
    for entry in chain_subjects(ctx):
        chain = ctx.pki.chain(entry)
        if chain.trust is not Trust.STALE:
            continue
        if chain.issuer is None:
            cert = ctx.certificate(entry)
            assert cert is not None  # a certificate that does not parse has an UNKNOWN chain
            info = x509.info(cert)
            message = (
                f"{_cert_what(ctx, entry)} is signed by a CA that is not in the store (issuer {info.issuer}): "
                "VMs that trust the CAs of this store reject it. Delete it so that bosh re-issues it, or restore "
                "its CA."
            )
            field = "certificate"
        elif chain.signer is not None:
            message = (
                f"{_cert_what(ctx, entry)} has {_absent_ca(ctx, chain.issuer)} in its 'ca' field. Its signature "
                f"still verifies against the current {chain.signer}, which kept its key, but whatever reads the "
                f"'ca' field trusts a CA certificate that is no longer in the store. Copy the current "
                f"{chain.signer} certificate into the 'ca' field."
            )
            field = "ca"
        else:
            message = (
                f"{_cert_what(ctx, entry)} is still signed by {_absent_ca(ctx, chain.issuer)}, which is no longer "
                "in the store: bosh does not re-issue certificates when it regenerates their CA, and VMs that "
                f"trust the current CA reject it. Delete {entry.name} so that bosh re-issues it from the current "
                "CA, or restore the old CA."
            )
            field = "ca"
        yield Hit(
            variable=entry.name,
            field=field,
            line=entry.field_line(field),
            message=message,
            details=entry_details(entry, prefix="new", extra=_issuer_details(chain)),
        )


def _issuer_details(chain: pki.Chain) -> dict[str, str]:
    details: dict[str, str] = {}
    if chain.signer is not None:
        details["signer"] = chain.signer
    if chain.claimed:
        details["ca_field"] = ", ".join(chain.claimed)
    if chain.issuer is not None:
        info = x509.info(chain.issuer)
        details["issuer_subject"] = info.subject
        details["issuer_serial"] = info.serial
    return details


@rule(
    code="CL402",
    name="certificate-not-signed-by-ca",
    severity=Severity.ERROR,
    summary="A certificate does not verify against the CA in its own 'ca' field.",
    remedy=(
        "Re-issue the certificate from the CA its 'ca' field names (delete it and let bosh generate it), or "
        "restore the matching certificate and 'ca' field from version control."
    ),
    claims=MODIFIED,
)
def certificate_not_signed_by_ca(ctx: Context) -> Iterator[Hit]:
    """The ``ca`` field is what bosh hands to the clients of a certificate (``((name.ca))``). When the CA in it did
    not sign the certificate — a certificate pasted from another environment, a ``ca`` field edited by hand —
    every TLS handshake that checks the chain fails."""
    for entry in chain_subjects(ctx):
        chain = ctx.pki.chain(entry)
        if chain.trust is not Trust.NOT_SIGNED:
            continue
        named = [*chain.claimed, *(_absent_ca(ctx, c) for c in chain.foreign)]
        actual = f"it is signed by {chain.signer}" if chain.signer is not None else "no CA in the store signed it"
        yield Hit(
            variable=entry.name,
            field="ca",
            line=entry.field_line("ca"),
            message=(
                f"{_cert_what(ctx, entry)} does not verify against the CA in its 'ca' field ({', '.join(named)}): "
                f"{actual}. Clients that trust that CA reject it."
            ),
            details=entry_details(entry, prefix="new", extra=_issuer_details(chain)),
        )


@rule(
    code="CL403",
    name="key-mismatch",
    severity=Severity.ERROR,
    summary="A private key does not match its certificate or public key, or an ssh fingerprint its key.",
    remedy="Restore the matching private key, certificate or public key from version control.",
    claims=MODIFIED,
)
def key_mismatch(ctx: Context) -> Iterator[Hit]:
    """A certificate served with a private key that is not its own fails every TLS handshake; an rsa pair whose
    halves differ signs tokens nobody can verify; an ssh key whose public half or fingerprint belongs to another
    key locks out whoever relies on it. bosh never checks: it deploys what the store holds."""
    for entry in ctx.subjects:
        for defect in mismatches(ctx, entry):
            yield Hit(
                variable=entry.name,
                field=defect.field,
                line=entry.field_line(defect.field),
                message=f"{what(ctx, entry)}: {defect.message}. Restore the matching key material.",
                details=entry_details(entry, prefix="new"),
            )


def _expiry(ctx: Context) -> tuple[tuple[Entry, x509.CertInfo], ...]:
    """The subjects that are certificates that parse, with their facts (once per run: three rules read them)."""
    return ctx.facts.once("expiry", None, None, lambda: tuple(_parsed(ctx)))


def _parsed(ctx: Context) -> Iterator[tuple[Entry, x509.CertInfo]]:
    for entry in ctx.subjects:
        if entry.kind is Kind.CERTIFICATE and (facts := ctx.certificate_info(entry)) is not None:
            yield entry, facts


def _expiry_hit(ctx: Context, entry: Entry, when: str) -> Hit:
    return Hit(
        variable=entry.name,
        field="certificate",
        line=entry.field_line("certificate"),
        message=f"{_cert_what(ctx, entry)} {when}",
        details=entry_details(entry, prefix="new"),
    )


def _days(count: int) -> str:
    return f"{count} day{'s' if count != 1 else ''}"


def _renew(ctx: Context, entry: Entry, info: x509.CertInfo) -> str:
    """The sentence that says how to renew ``entry``, with the exact command (``--expired-ok`` for an expired
    CA, whose agents then need ``bosh recreate --fix``). For a CredHub export, CredHub's way: renew writes bosh
    var-stores only, and the export is a backup that nothing deploys."""
    if ctx.new.export is not None:
        if info.is_ca:
            return " Renew it in CredHub with its own key, or rotate it with a transitional version first."
        return f" Re-issue it in CredHub from its unchanged CA: `credhub regenerate -n {shlex.quote(entry.name)}`."
    path = Origin.parse(ctx.new.source).path  # a version from git is labelled REV:path
    expired = info.is_ca and info.not_after <= ctx.now
    command = f"creds-lint renew {shlex.quote(path)} {shlex.quote(entry.name)}{' --expired-ok' if expired else ''}"
    if expired:
        return (
            f" Renew it with the same key: `{command}`; agents that hold its old copy then need `bosh recreate --fix`."
        )
    return f" Renew it with the same key (nothing that trusts it breaks): `{command}`."


@rule(
    code="CL404",
    name="expired-certificate",
    severity=Severity.ERROR,
    summary="A certificate in the var-store has expired.",
    remedy=(
        "Renew it with the same key: `creds-lint renew FILE NAME` (an expired CA: add --expired-ok, then "
        "`bosh recreate --fix` the VMs whose agents hold its old copy; docs/renew.md)."
    ),
    claims=MODIFIED,
)
def expired_certificate(ctx: Context) -> Iterator[Hit]:
    """An expired certificate fails every handshake: ``x509: certificate has expired or is not yet valid``. This
    is how the outage in the incident began; bosh keeps an expired certificate in the store forever. A
    certificate whose validity starts after it ends is never valid, and is reported the same way."""
    for entry, info in _expiry(ctx):
        if info.not_before > info.not_after:
            yield Hit(
                variable=entry.name,
                field="certificate",
                line=entry.field_line("certificate"),
                message=(
                    f"{_cert_what(ctx, entry)} is never valid: its validity starts on {info.not_before:%Y-%m-%d}, "
                    f"after it ends on {info.not_after:%Y-%m-%d}; every TLS connection that uses it fails."
                ),
                details=entry_details(entry, prefix="new"),
            )
        elif info.not_after <= ctx.now:
            days = -info.days_left(ctx.now)  # 35.5 days ago: 36, as the table's -36
            yield _expiry_hit(
                ctx,
                entry,
                f"expired on {info.not_after:%Y-%m-%d} ({_days(days)} ago): every TLS connection that uses it fails."
                + _renew(ctx, entry, info),
            )


@rule(
    code="CL405",
    name="expiring-certificate",
    severity=Severity.WARNING,
    summary=(
        "A certificate expires within --expiry-days days (default 30; 60 for a CA that every agent holds, such as "
        "nats_ca and blobstore_ca)."
    ),
    remedy="Renew it now, with the same key: `creds-lint renew FILE NAME` (docs/renew.md).",
)
def expiring_certificate(ctx: Context) -> Iterator[Hit]:
    """A certificate that expires soon is an outage with a date on it. The warning leaves time to renew it with
    its own key before anything breaks. A CA that every agent holds (``nats_ca``, ``blobstore_ca``) is warned
    about 60 days ahead: its renewed copy reaches the agents only with a deploy of every deployment, and after
    it expires only ``bosh recreate --fix`` does. Within N days is N whole days left or fewer, as the message and
    the certificate table of ``check`` count them (30.5 days ahead is 30 days, within ``--expiry-days 30``)."""
    agents_days = max(ctx.expiry_days, holders.AGENT_CA_EXPIRY_DAYS)
    for entry, info in _expiry(ctx):
        held = info.is_ca and holders.held_by_agents(entry.name)
        if ctx.now < info.not_after and expiry.within(info, ctx.now, agents_days if held else ctx.expiry_days):
            ahead = (
                f"{agents_days} days ahead for a CA that every agent holds"
                if held and agents_days > ctx.expiry_days
                else None
            )
            yield _expiry_hit(
                ctx,
                entry,
                f"expires on {info.not_after:%Y-%m-%d}, in {_days(info.days_left(ctx.now))} "
                f"({ahead or f'--expiry-days {ctx.expiry_days}'})." + _renew(ctx, entry, info),
            )


@rule(
    code="CL406",
    name="malformed-certificate",
    severity=Severity.ERROR,
    summary=(
        "A certificate, CA or key in the var-store does not parse (truncated or corrupted PEM), or carries more "
        "than belongs in it (a second key, a key in a trust field, text outside the PEM blocks)."
    ),
    remedy="Restore the value from version control, or delete the variable so that bosh generates it anew.",
    claims=MODIFIED,
)
def malformed_certificate(ctx: Context) -> Iterator[Hit]:
    """bosh never validates a value that is present: a certificate or key cut short by an editor or a bad merge
    stays in the store and is deployed as is, and the job that loads it fails to start. Parsers read the first
    PEM block of a field and skip the rest, so what is pasted after it — another CA's private key after a
    private key, a second ssh key after a public key (every line of it is an authorized key), a private key in a
    ``ca`` field that every client receives, a password after a certificate — goes out unseen: a key field must
    hold exactly one key, a certificate or ``ca`` field only certificates, and no field text outside its blocks."""
    for entry in ctx.subjects:
        for defect in defects(ctx, entry):
            yield Hit(
                variable=entry.name,
                field=defect.field,
                line=entry.field_line(defect.field),
                message=f"{what(ctx, entry)}: {defect.message}: bosh deploys it as it is.",
                details={"fingerprint": entry.fingerprint},
            )


def mismatches(ctx: Context, entry: Entry) -> tuple[pki.Defect, ...]:
    """:func:`creds_lint.pki.mismatches` of an entry, worked out once per run (two rules ask)."""
    return ctx.facts.once("mismatches", None, entry, lambda: pki.mismatches(entry))


def defects(ctx: Context, entry: Entry) -> tuple[pki.Defect, ...]:
    """:func:`creds_lint.pki.defects` of an entry, worked out once per run (two rules ask)."""
    return ctx.facts.once("defects", None, entry, lambda: pki.defects(entry))


def lost_names(ctx: Context, old: Entry, new: Entry) -> tuple[str | None, tuple[str, ...]]:
    """:func:`creds_lint.pki.lost_names` of a re-issued certificate, worked out once per run (two rules ask)."""
    return ctx.facts.once("lost-names", old, new, lambda: pki.lost_names(old, new))


def lost_usages(ctx: Context, old: Entry, new: Entry) -> tuple[str, ...]:
    """The extended key usages that a re-issued certificate lost (:func:`creds_lint.x509.lost_usages`); ``()``
    when either version does not parse. Worked out once per run (two rules ask)."""

    def lost() -> tuple[str, ...]:
        before, after = ctx.certificate_info(old), ctx.certificate_info(new)
        return x509.lost_usages(before, after) if before is not None and after is not None else ()

    return ctx.facts.once("lost-usages", old, new, lost)


def _rotations(ctx: Context) -> Iterator[tuple[Change, Entry, Entry]]:
    for change in ctx.of(ChangeKind.MODIFIED):
        old, new = change.old, change.new
        assert old is not None
        assert new is not None
        if old.kind is new.kind:
            yield change, old, new


@rule(
    code="CL407",
    name="subject-changed",
    severity=Severity.WARNING,
    summary="A re-issued leaf certificate changed its common name or lost an alternative name.",
    remedy="Re-issue it with the old names (check the variable's options in the manifest), or restore it.",
    claims=MODIFIED,
)
def subject_changed(ctx: Context) -> Iterator[Hit]:
    """Clients check the name they connect to against the certificate. A rotated leaf that lost an IP or DNS
    name, or changed its common name, is rejected by every client that connects by the old name — often the
    sign of a manifest change (``alternative_names``) that was not meant to reach this certificate."""
    for change, old, new in _rotations(ctx):
        if old.kind is not Kind.CERTIFICATE:
            continue
        cn, lost = lost_names(ctx, old, new)
        if cn is None and not lost:
            continue
        what_changed = []
        if cn is not None:
            what_changed.append(f"its common name changed to {cn}")
        if lost:
            what_changed.append(f"it lost {', '.join(lost)}")
        yield Hit(
            variable=change.name,
            field="certificate",
            line=new.field_line("certificate"),
            message=(
                f"{_cert_what(ctx, new)} was re-issued but {' and '.join(what_changed)}: clients that connect "
                "by the old name reject it."
            ),
            details=change_details(old, new),
        )


def _key(entry: Entry) -> tuple[str, int] | None:
    """``(algorithm, bits)`` of an entry's key pair. A certificate's is its certificate's key, a fact that needs
    no private key parsed (one that is not the certificate's is a key-mismatch); a certificate that does not
    parse, an rsa or an ssh key pair have their private key's."""
    facts = pki.certificate_info(entry) if entry.kind is Kind.CERTIFICATE else None
    if facts is not None:
        return facts.key_strength
    key = pki.entry_key(entry) if entry.kind in (Kind.CERTIFICATE, Kind.RSA, Kind.SSH) else None
    bits = x509.key_bits(key) if key is not None else None
    return (x509.key_type(key), bits) if key is not None and bits is not None else None


@rule(
    code="CL408",
    name="weaker-key",
    severity=Severity.WARNING,
    summary="A rotated key is shorter than before, or an RSA key is shorter than 2048 bits.",
    remedy="Generate the key again with at least the previous length (key_length in the manifest's options).",
    claims=MODIFIED,
)
def weaker_key(ctx: Context) -> Iterator[Hit]:
    """A rotation should never weaken a key. bosh generates 3072-bit RSA keys for certificates and 2048-bit ones
    for rsa and ssh; a shorter key is the mark of a hand-made value or a changed ``key_length``, and RSA below
    2048 bits is considered breakable."""
    previous = {change.name: old for change, old, _ in _rotations(ctx)}
    for entry in ctx.subjects:
        key = _key(entry)
        if key is None:
            continue
        kind, bits = key
        old = previous.get(entry.name)
        before = _key(old) if old is not None else None
        field = "private_key" if entry.text("private_key") else "certificate"
        reasons = []
        if before is not None and before[0] == kind and before[1] > bits:
            reasons.append(f"its {kind} key is shorter than before ({before[1]} -> {bits} bits)")
        if kind == "RSA" and bits < pki.MIN_RSA_BITS:
            reasons.append(f"its RSA key has only {bits} bits (less than {pki.MIN_RSA_BITS})")
        if not reasons:
            continue
        yield Hit(
            variable=entry.name,
            field=field,
            line=entry.field_line(field),
            message=f"{what(ctx, entry)}: {' and '.join(reasons)}.",
            details=entry_details(entry, prefix="new"),
        )


def signer_change(ctx: Context, old: Entry, new: Entry) -> tuple[str, str] | None:
    """``(previous signer, new signer)`` when a re-issued certificate is signed by another key than before, or
    ``None``. CAs are judged by their keys: a CA of another name with the same key is the same CA (a copy, a
    renewal). A value promoted from ``NAME_2`` is compared with ``NAME_2``'s old signer. A certificate that was
    self-signed, or whose signer was or is unknown, is left to the CA and chain rules, and so is one re-issued
    by its own CA variable with a new key: ``regenerated-ca`` reports that CA."""
    return ctx.facts.once("signer-change", old, new, lambda: _signer_change(ctx, old, new))


def _signer_change(ctx: Context, old: Entry, new: Entry) -> tuple[str, str] | None:
    if ctx.old is None or ctx.old_pki is None:
        return None
    reference: Entry | None = old
    rotation = ctx.rotations.get(old.name)
    if rotation is not None and rotation.step is Step.PROMOTED and rotation.partner is not None:
        reference = ctx.old.get(rotation.partner)
    if reference is None:
        return None
    before, after = ctx.old_pki.signer(reference), ctx.pki.signer(new)
    if before is None or after is None or before in (reference.name, after):
        return None  # unknown, self-signed before, or the same CA variable (regenerated-ca judges its key)
    old_ca, new_ca = ctx.old_pki.facts.get(before), ctx.pki.facts.get(after)
    if old_ca is None or new_ca is None or old_ca.key_der == new_ca.key_der:
        return None
    return before, after


@rule(
    code="CL409",
    name="signer-changed",
    severity=Severity.ERROR,
    summary="A re-issued certificate is signed by another CA (another key) than before, whatever its 'ca' field holds.",
    remedy=(
        "Re-issue it from its previous CA (the `ca` option of the variable in the manifest), or restore it. To "
        "rotate its CA, add the next CA as NAME_2 with its own leaves (NAME_2 of each leaf), and promote them "
        "over the old names once every holder trusts the new CA."
    ),
    claims=MODIFIED,
)
def signer_changed(ctx: Context) -> Iterator[Hit]:
    """A proper rotation re-issues a certificate from the same CA. One signed by another CA — another CA of the
    store, or one added in the same change — is a change of trust:
    VMs and clients configured with the previous CA's certificate, rather than with this entry's own ``ca``
    field, reject it. CAs are compared by their public keys, never by name: a ``ca`` field that holds the old CA
    next to the new one does not excuse it (what reads ``((name.ca))`` is not everything that checks this
    certificate). The documented CA rotation gives the new CA its own leaves (``NAME_2``) and promotes them over
    the old names at the end; that promotion is compared with the ``NAME_2`` it came from, and is not reported."""
    for change, old, new in _rotations(ctx):
        if old.kind is not Kind.CERTIFICATE:
            continue
        changed = signer_change(ctx, old, new)
        if changed is None:
            continue
        before, after = changed
        now = (
            f"was signed by {before} and is now signed by {after}, another CA ({_signer_key(ctx.pki, after)}, "
            f"was {_signer_key(ctx.old_pki, before)})"
        )
        yield Hit(
            variable=change.name,
            field="certificate",
            line=new.field_line("certificate"),
            message=(
                f"{_cert_what(ctx, new)} {now}: VMs and clients that trust {before} reject it, whatever its 'ca' "
                "field holds."
            ),
            details=change_details(old, new, extra={"signer": after, "previous_signer": before}),
        )


def _signer_key(graph: pki.Graph | None, name: str) -> str:
    cert = graph.certificates.get(name) if graph is not None else None
    return f"key {x509.info(cert).key_id}" if cert is not None else "unknown key"


def foreign_trust(ctx: Context, old: Entry, new: Entry) -> tuple[Certificate, ...]:
    """The CAs added to a changed certificate's ``ca`` field that are no version of one it trusted before; worked
    out once per run (``changed-trust`` and ``rotated-certificate`` ask)."""
    old_graph = ctx.old_pki
    if ctx.old is None or old_graph is None:
        return ()
    return ctx.facts.once("foreign-trust", old, new, lambda: ctx.pki.foreign_trust(old, new, old_graph=old_graph))


def _named(ctx: Context, certs: tuple[Certificate | None, ...]) -> str:
    """CA certificates by variable and label (``nats_ca (CN=..., serial ..., expires ...)``)."""
    shown = []
    for cert in certs:
        if cert is None:
            shown.append("a block that does not parse")
            continue
        holder = ctx.pki.holder(cert) or (ctx.old_pki.holder(cert) if ctx.old_pki is not None else None)
        shown.append(f"{holder} ({label(cert)})" if holder is not None else f"{label(cert)}, in no variable")
    return "; ".join(shown)


@rule(
    code="CL410",
    name="changed-trust",
    severity=Severity.ERROR,
    summary=(
        "A trust field now trusts other CAs: a CA's 'certificate' carries other certificates than before, or a "
        "'ca' field gained a CA that is no version of one it trusted."
    ),
    remedy=(
        "Remove the certificate that was added. To rotate a CA, add its next version as NAME_2 and put that in "
        "the trust fields; to move a certificate to another CA, allow this change deliberately."
    ),
    claims=MODIFIED,
)
def changed_trust(ctx: Context) -> Iterator[Hit]:
    """Every certificate in a CA's ``certificate`` field is a trust anchor for whatever is given
    ``((nats_ca.certificate))``, and every certificate in a ``ca`` field one for whatever is given ``((name.ca))``.
    Parsers read the first certificate of a field, so another CA pasted after it looks like no change at all, yet
    everything that trusts the field now also accepts what that CA signs (for ``nats_ca``: a client certificate
    from ``default_ca`` is accepted as an agent's). A CA's ``certificate`` field that gained or lost a certificate
    after its own is reported, and so is a ``ca`` field that gained a CA that is no version of one it trusted
    before. CAs are told apart by subject and key, never by name or text: a version is a certificate with the
    same subject and the same key (a renewal, a copy), or the certificate of ``NAME_2`` or ``NAME_new`` of its
    signer or of a CA it trusted, with that variable's own key: the trust step of a documented CA rotation is not
    reported. A certificate that copies a trusted CA's subject with another key is another CA. The CA that signed
    a re-issued certificate counts as trusted: ``signer-changed`` speaks for a new signer, by its key."""
    if ctx.old is None:
        return
    for change, old, new in _rotations(ctx):
        if old.kind is not Kind.CERTIFICATE:
            continue
        if ctx.is_ca(old) or ctx.is_ca(new):
            gained, lost = pki.bundle_change(old, new)
            given = f"everything given (({change.name}.certificate))"
            changed = (
                [f"now also carries {_named(ctx, gained)}: {given} now also accepts what it signs"] if gained else []
            )
            changed += [f"no longer carries {_named(ctx, lost)}: {given} now rejects what it signs"] if lost else []
            if changed:
                yield Hit(
                    variable=change.name,
                    field="certificate",
                    line=new.field_line("certificate"),
                    message=f"{_cert_what(ctx, new)}: its 'certificate' field {'; it '.join(changed)}.",
                    details=change_details(old, new),
                )
        foreign = foreign_trust(ctx, old, new)
        if foreign:
            signer = ctx.old_pki.signer(old) if ctx.old_pki is not None else None
            if signer is None:
                trusted = "a CA it trusted before"
            elif signer == change.name:
                trusted = f"{signer} itself"
            else:
                trusted = f"its {'' if ctx.pki.signer(new) == signer else 'previous '}signer {signer}"
            yield Hit(
                variable=change.name,
                field="ca",
                line=new.field_line("ca"),
                message=(
                    f"{_cert_what(ctx, new)}: its 'ca' field now also trusts {_named(ctx, foreign)}, which is no "
                    f"version of {trusted}: everything given (({change.name}.ca)) now also accepts what that CA "
                    "signs. Remove it; to rotate the CA, add its next version as NAME_2 and trust that."
                ),
                details=change_details(old, new),
            )


#: How far in the future a certificate's validity may start: the clock skew between the machine that made it and
#: the machines that check it.
CLOCK_SKEW = timedelta(minutes=5)


@rule(
    code="CL411",
    name="not-yet-valid",
    severity=Severity.ERROR,
    summary="A certificate's validity starts in the future (beyond a few minutes of clock skew).",
    remedy=(
        "Re-issue it with a validity that starts now (delete it so that bosh generates it, or renew it without a "
        "future start date), or restore the previous certificate."
    ),
)
def not_yet_valid(ctx: Context) -> Iterator[Hit]:
    """A certificate is rejected before its ``notBefore`` just as after its ``notAfter``: ``x509: certificate has
    expired or is not yet valid``. One issued with a start date in the future — a wrong clock, a renewal script
    given the wrong date — fails every handshake until then. Five minutes of clock skew are tolerated."""
    for entry, info in _expiry(ctx):
        if ctx.now + CLOCK_SKEW < info.not_before <= info.not_after:
            wait = info.not_before - ctx.now
            when = _days(wait.days) if wait.days else f"{wait.seconds // 3600} h {wait.seconds // 60 % 60} min"
            yield _expiry_hit(
                ctx,
                entry,
                f"is not valid before {info.not_before:%Y-%m-%d %H:%M} UTC (in {when}): every TLS connection that "
                "uses it fails until then.",
            )


#: A re-issued certificate whose two versions parse: ``(change, old, new, old facts, new facts)``.
Versions = tuple[Change, Entry, Entry, x509.CertInfo, x509.CertInfo]


def _versions(ctx: Context) -> tuple[Versions, ...]:
    """The re-issued certificates whose two versions parse (once per run: three rules read them)."""
    return ctx.facts.once("versions", None, None, lambda: tuple(_reissued(ctx)))


def _reissued(ctx: Context) -> Iterator[Versions]:
    for change, old, new in _rotations(ctx):
        if old.kind is not Kind.CERTIFICATE:
            continue
        before, after = ctx.certificate_info(old), ctx.certificate_info(new)
        if before is not None and after is not None and not x509.same_certificate(before, after):
            yield change, old, new, before, after


@rule(
    code="CL412",
    name="became-ca",
    severity=Severity.ERROR,
    summary="A leaf certificate was re-issued as a CA (BasicConstraints CA=true).",
    remedy="Re-issue it as a leaf (is_ca is not set in the manifest's options), or restore the previous certificate.",
    claims=MODIFIED,
)
def became_ca(ctx: Context) -> Iterator[Hit]:
    """A leaf's private key is deployed to the VMs that serve it. Re-issued as a CA and signed by a CA that others
    trust, it lets whoever reads that key on any of those VMs issue certificates that every client of the
    signing CA accepts."""
    for change, _, new, before, after in _versions(ctx):
        if not before.is_ca and after.is_ca:
            yield Hit(
                variable=change.name,
                field="certificate",
                line=new.field_line("certificate"),
                message=(
                    f"{_cert_what(ctx, new)} was a leaf certificate and was re-issued as a CA (BasicConstraints "
                    "CA=true): whoever reads its private key on a VM can issue certificates that every client of "
                    "its signer accepts."
                ),
                details=entry_details(new, prefix="new"),
            )


@rule(
    code="CL413",
    name="no-longer-ca",
    severity=Severity.ERROR,
    summary="A CA was re-issued without CA=true (BasicConstraints) or without keyCertSign (KeyUsage).",
    remedy="Re-issue it as a CA (is_ca in the manifest's options), or restore the previous certificate.",
    claims=MODIFIED,
)
def no_longer_ca(ctx: Context) -> Iterator[Hit]:
    """Verifiers accept an issuer only when its certificate says it is a CA (BasicConstraints CA=true) allowed to
    sign certificates (``keyCertSign``, when it has a KeyUsage extension). A CA re-issued without either keeps
    its key, so nothing looks regenerated, yet every certificate it signed stops verifying."""
    for change, _, new, before, after in _versions(ctx):
        if not before.signs_certificates or after.signs_certificates:
            continue
        lost = "CA=true (BasicConstraints)" if not after.is_ca else "keyCertSign (KeyUsage)"
        yield Hit(
            variable=change.name,
            field="certificate",
            line=new.field_line("certificate"),
            message=(
                f"{_cert_what(ctx, new)} was re-issued without {lost}: verifiers no longer accept it as the issuer "
                f"of anything, so every certificate it signed stops verifying, and {ctx.consequence(new)}."
            ),
            details=entry_details(new, prefix="new"),
        )


@rule(
    code="CL414",
    name="lost-key-usage",
    severity=Severity.WARNING,
    summary="A re-issued certificate lost an extended key usage it had (server_auth, client_auth...).",
    remedy=(
        "Re-issue it with the old extended key usages (extended_key_usage in the manifest's options), or restore "
        "the previous certificate."
    ),
    claims=MODIFIED,
)
def lost_key_usage(ctx: Context) -> Iterator[Hit]:
    """A server presents its certificate for ``server_auth``, a client for ``client_auth``; verifiers reject a
    certificate whose extended key usages do not include the one it is used for. A re-issued certificate that lost
    one fails wherever it was used that way — often the sign of a changed ``extended_key_usage`` option."""
    for change, old, new, _, _ in _versions(ctx):
        lost = lost_usages(ctx, old, new)
        if lost:
            yield Hit(
                variable=change.name,
                field="certificate",
                line=new.field_line("certificate"),
                message=(
                    f"{_cert_what(ctx, new)} was re-issued without the extended key usage {', '.join(lost)}: "
                    "peers that check it for that use reject it."
                ),
                details=entry_details(new, prefix="new"),
            )


def ca_keys_in(ctx: Context, entry: Entry) -> tuple[str, ...]:
    """The CAs of the new store whose key is the private key of ``entry``, a leaf or key pair (worked out once per
    run: two rules ask)."""
    return ctx.facts.once("ca-keys", None, entry, lambda: _ca_keys_in(ctx, entry))


def _ca_keys_in(ctx: Context, entry: Entry) -> tuple[str, ...]:
    if entry.kind not in (Kind.CERTIFICATE, Kind.RSA, Kind.SSH) or ctx.is_ca(entry):
        return ()
    pem = entry.text("private_key")
    key = x509.private_key_der(pem) if pem else None
    if key is None:
        return ()
    return tuple(name for name in ctx.pki.ca_keys.get(key, ()) if name != entry.name)


@rule(
    code="CL415",
    name="ca-key-in-leaf",
    severity=Severity.ERROR,
    summary="A leaf certificate or key pair holds the private key of a CA of the var-store.",
    remedy=(
        "Give it a key of its own: delete it so that bosh generates it, or restore it; then treat the CA's key as "
        "disclosed and rotate the CA."
    ),
    claims=MODIFIED,
)
def ca_key_in_leaf(ctx: Context) -> Iterator[Hit]:
    """A leaf's private key is deployed to every VM that serves it, a CA's stays with the director. A leaf that
    holds a CA's key ships that key to the VMs, where whoever reads it can issue certificates that everything
    trusting the CA accepts. Keys are compared by their public half, whatever the encoding."""
    for entry in ctx.subjects:
        cas = ca_keys_in(ctx, entry)
        if cas:
            yield Hit(
                variable=entry.name,
                field="private_key",
                line=entry.field_line("private_key"),
                message=(
                    f"{what(ctx, entry)}: its private key is the key of the CA {', '.join(cas)}: it is deployed "
                    "with it, and whoever reads it can issue certificates that everything trusting that CA accepts."
                ),
                details=entry_details(entry, prefix="new"),
            )


RULES = (
    stale_ca_reference,
    certificate_not_signed_by_ca,
    key_mismatch,
    expired_certificate,
    expiring_certificate,
    malformed_certificate,
    subject_changed,
    weaker_key,
    signer_changed,
    changed_trust,
    not_yet_valid,
    became_ca,
    no_longer_ca,
    lost_key_usage,
    ca_key_in_leaf,
)
#: The rules whose findings are fixed by ``creds-lint renew``, not by an allowance: a certificate that still works
#: but expires soon (an expired one is an error, whose message gives the command with what it needs).
RENEWABLE = (expiring_certificate,)
