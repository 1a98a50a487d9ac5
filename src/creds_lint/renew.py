"""Renewal: re-issue certificates with the same key pair, subject and key identifiers, only a new validity.

A renewed certificate keeps its ``private_key`` text, its subject (the same DER), its subject key identifier
(copied: bosh's is the SHA-1 of the modulus, not RFC 5280's method 1, and a recomputed one makes OpenSSL clients
refuse the chain) and every extension with its criticality, byte for byte. Only the serial, the validity, the
issuer (the signer's subject DER), the authority key identifier (the signer's SKI) and the signature are new, and
the signature is made with the signer's existing key (the certificate's own for a root). So every copy of the
old certificate keeps verifying what the renewed one signs, until that copy's own notAfter.

Everything here is a plain function of a :class:`~creds_lint.model.VarStore` and returns data: :func:`renew`
works out the renewal (or the reasons to refuse it), :func:`apply` the values it gives, :func:`verify` checks the
store that would be written against the one that was read. Nothing here writes a file, and nothing returned for
display holds a PEM or a key.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from creds_lint import der, expiry, holders, pki, x509
from creds_lint.errors import CredsLintError
from creds_lint.model import DEFAULT_CLASSIFIER, Classifier, Entry, Kind, VarStore

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
    from cryptography.x509 import Certificate

#: How far in the past a renewed certificate starts: a VM whose clock runs this much behind the machine that
#: renews still accepts it as soon as it is deployed.
SKEW = timedelta(minutes=5)
#: The key type bosh generates; another one is hand-made and is renewed only with ``--force``.
BOSH_KEY_TYPE = "RSA"
#: Bits of a new serial: what bosh uses (a positive integer below 2**128, 17 octets at most in DER).
SERIAL_BITS = 128
#: The rules whose findings a renewal is expected to cause when the old and the new store are compared.
RENEWAL_RULES = frozenset({"renewed-ca", "rotated-certificate", "documented-rotation"})


@dataclass(frozen=True, kw_only=True)
class Selection:
    """What to renew: named variables, the certificates expiring within ``expiring`` days, or ``everything``."""

    names: tuple[str, ...] = ()
    expiring: int | None = None
    everything: bool = False


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How to renew. ``days``: the validity (else ``durations`` by variable, from a manifest's ``duration``
    option, else the old validity length); ``expired_ok``: renew a CA that has already expired; ``force``: renew
    a certificate whose key type bosh does not generate."""

    now: datetime
    days: int | None = None
    durations: Mapping[str, int] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    expired_ok: bool = False
    force: bool = False


@dataclass(frozen=True, kw_only=True)
class Renewed:
    """One renewed certificate, as it may be shown: never the PEM, never a key."""

    variable: str
    common_name: str
    is_ca: bool
    signer: str
    old_serial: str
    new_serial: str
    old_not_after: datetime
    new_not_before: datetime
    new_not_after: datetime


@dataclass(frozen=True, kw_only=True)
class Edit:
    """A field that changes: a renewed certificate's own ``certificate`` (its first block), or a ``ca`` field
    that carries the old certificate of a renewed CA (only that block)."""

    variable: str
    field: str


@dataclass(frozen=True, kw_only=True)
class Holder:
    """Who holds copies of a renewed CA, and until when the old copy works."""

    variable: str
    who: str
    agents: bool
    old_not_after: datetime


@dataclass(frozen=True, kw_only=True)
class Renewal:
    """What a renewal does, or why it is refused (then ``edits`` is empty and nothing may be written).

    ``deadline`` is the earliest old notAfter among the renewed CAs: every holder needs the renewed copy before
    then. ``expired`` names the renewed CAs that had already expired (``--expired-ok``)."""

    renewed: tuple[Renewed, ...] = ()
    edits: tuple[Edit, ...] = ()
    #: The renewed certificates' PEM blocks, by the whitespace-free PEM of the block each replaces.
    replacements: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}), repr=False)
    refusals: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    holders: tuple[Holder, ...] = ()
    expired: tuple[str, ...] = ()

    @property
    def deadline(self) -> datetime | None:
        return min((h.old_not_after for h in self.holders), default=None)


# --- selection ------------------------------------------------------------------------------------------------


def select(store: VarStore, selection: Selection, *, now: datetime) -> tuple[str, ...]:
    """The certificate variables a selection names, in file order. Unknown names are a usage error."""
    if selection.names:
        for name in selection.names:
            entry = store.get(name)
            if entry is None:
                raise CredsLintError(f"no variable {name!r} in the var-store", source=store.source)
            if entry.kind is not Kind.CERTIFICATE:
                raise CredsLintError(f"{name} is not a certificate ({entry.kind.value})", source=store.source)
        wanted = set(selection.names)
        return tuple(entry.name for entry in store if entry.name in wanted)
    certificates = [entry for entry in store if entry.kind is Kind.CERTIFICATE]
    if selection.everything:
        return tuple(entry.name for entry in certificates)
    if selection.expiring is None:
        raise CredsLintError("say what to renew: NAME..., --expiring DAYS or --all")
    days = selection.expiring
    return tuple(
        entry.name
        for entry in certificates
        if (cert := pki.certificate(entry)) is not None and expiry.within(x509.info(cert), now, days)
    )


def _depth(graph: pki.Graph, name: str) -> int:
    """How many CAs of the store stand above a certificate: 0 for a root (and for what has no signer)."""
    depth, seen = 0, {name}
    current = name
    while True:
        entry = graph.store.get(current)
        signer = graph.signer(entry) if entry is not None else None
        if signer is None or signer in seen:
            return depth
        depth += 1
        seen.add(signer)
        current = signer


def order(store: VarStore, names: Iterable[str]) -> tuple[str, ...]:
    """``names`` with every CA before the certificates it signed (file order otherwise)."""
    graph = pki.Graph(store)
    position = {entry.name: index for index, entry in enumerate(store)}
    return tuple(sorted(names, key=lambda name: (_depth(graph, name), position[name])))


# --- the renewal ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Signer:
    name: str
    cert: Certificate
    key: PrivateKeyTypes


def renew(store: VarStore, selection: Selection, settings: Settings) -> Renewal:
    """The renewal of the selected certificates of ``store``: every refusal found, or the new certificates and
    the fields that change (each renewed certificate's own field, and every trust field that carries a renewed
    CA's old certificate)."""
    names = order(store, select(store, selection, now=settings.now))
    graph = pki.Graph(store)
    refusals: list[str] = []
    warnings: list[str] = []
    issued: dict[str, Certificate] = {}
    renewed: list[Renewed] = []
    expired: list[str] = []
    for name in names:
        entry = store.get(name)
        assert entry is not None  # select() only returns names of the store
        outcome = _renew_one(entry, graph, issued, settings)
        if isinstance(outcome, str):
            refusals.append(f"{name}: {outcome}")
            continue
        cert, record = outcome
        issued[name] = cert
        renewed.append(record)
        if record.is_ca and record.old_not_after <= settings.now:
            expired.append(name)
    if refusals:
        return Renewal(refusals=tuple(refusals))
    for record in renewed:
        if record.is_ca and record.signer == record.variable:
            continue
        signer_not_after = _not_after(store, record.signer, issued)
        if signer_not_after is not None and record.new_not_after > signer_not_after:
            warnings.append(
                f"{record.variable} ({record.common_name}) would be valid until {record.new_not_after:%Y-%m-%d}, "
                f"after its CA {record.signer} expires on {signer_not_after:%Y-%m-%d}: renew {record.signer} too, "
                "or give a shorter --days"
            )
    replacements = _replacements(store, issued)
    for entry in store:
        trust = entry.text("ca") if entry.kind is not Kind.CERTIFICATE else None
        if trust and any(pki.pem_key(b) in replacements for b in x509.split_pem_certificates(trust)):
            warnings.append(
                f"{entry.name} is no certificate but its 'ca' field carries the old copy of a renewed CA: it is "
                "left as it is, and works until that copy's notAfter; replace it with the renewed certificate "
                "before then"
            )
    return Renewal(
        renewed=tuple(renewed),
        edits=_edits(store, replacements, renewed=issued.keys()),
        replacements=MappingProxyType(replacements),
        warnings=tuple(warnings),
        holders=tuple(
            Holder(
                variable=r.variable,
                who=holders.copies(r.variable).who,
                agents=holders.held_by_agents(r.variable),
                old_not_after=r.old_not_after,
            )
            for r in renewed
            if r.is_ca
        ),
        expired=tuple(expired),
    )


def _not_after(store: VarStore, name: str, issued: Mapping[str, Certificate]) -> datetime | None:
    if name in issued:
        return issued[name].not_valid_after_utc
    entry = store.get(name)
    cert = pki.certificate(entry) if entry is not None else None
    return x509.info(cert).not_after if cert is not None else None


def _renew_one(  # noqa: PLR0911 - one refusal per return, each with its own words
    entry: Entry, graph: pki.Graph, issued: Mapping[str, Certificate], settings: Settings
) -> tuple[Certificate, Renewed] | str:
    """The renewed certificate of ``entry`` and what may be shown about it, or why it cannot be renewed."""
    cert = pki.certificate(entry)
    if cert is None:
        return "its certificate does not parse"
    chain = graph.chain(entry)
    if chain.trust is not pki.Trust.VALID or chain.signer is None:
        return "no CA of the var-store signed it consistently with its 'ca' field (see `creds-lint check`)"
    own_key = _private_key(entry)
    if own_key is None:
        return "its private_key is missing or does not parse"
    if not x509.same_key_pair(own_key, cert.public_key()):
        return "its private_key is not the key of its certificate"
    signer = _signer(graph, chain.signer, entry=entry, own_key=own_key, cert=cert, issued=issued)
    if isinstance(signer, str):
        return signer
    for what, key in (("its", own_key), (f"its CA {signer.name}'s", signer.key)):
        kind = x509.key_type(key)
        if kind != BOSH_KEY_TYPE and not settings.force:
            return (
                f"{what} key is {kind}, a key type bosh does not generate: this certificate was made by hand "
                "(renew it with --force if that is intended)"
            )
    info = x509.info(cert)
    if info.is_ca and info.not_after <= settings.now and not settings.expired_ok:
        return (
            f"this CA expired on {info.not_after:%Y-%m-%d}: every holder of the old copy already fails. Renewing "
            "still spares new keys everywhere else, but agents that hold the old copy need `bosh recreate --fix`; "
            "give --expired-ok to renew it anyway"
        )
    validity = _validity(entry.name, cert, settings)
    not_before = (settings.now - SKEW).replace(microsecond=0)
    not_after = not_before + validity
    if not_after <= info.not_after:
        return (
            f"the renewed certificate would end on {not_after:%Y-%m-%d %H:%M}, no later than the old one "
            f"({info.not_after:%Y-%m-%d %H:%M}): give a longer --days"
        )
    built = _issue(cert, signer, not_before=not_before, not_after=not_after)
    if isinstance(built, str):
        return built
    return built, Renewed(
        variable=entry.name,
        common_name=info.common_name,
        is_ca=info.is_ca,
        signer=signer.name,
        old_serial=info.serial,
        new_serial=format(built.serial_number, "x"),
        old_not_after=info.not_after,
        new_not_before=not_before,
        new_not_after=not_after,
    )


def _private_key(entry: Entry) -> PrivateKeyTypes | None:
    pem = entry.text("private_key")
    return x509.load_private_key(pem) if pem else None


def _signer(
    graph: pki.Graph,
    name: str,
    *,
    entry: Entry,
    own_key: PrivateKeyTypes,
    cert: Certificate,
    issued: Mapping[str, Certificate],
) -> _Signer | str:
    """The CA that signs the renewal (its renewed certificate when it was renewed first), or why there is none."""
    if name == entry.name:
        return _Signer(name=name, cert=cert, key=own_key)
    signer_entry = graph.store.get(name)
    signer_cert = pki.certificate(signer_entry) if signer_entry is not None else None
    if signer_entry is None or signer_cert is None:
        return f"its CA {name} is not in the var-store"
    key = _private_key(signer_entry)
    if key is None:
        return f"its CA {name} has no private key that parses: nothing can sign the renewal"
    if not x509.same_key_pair(key, signer_cert.public_key()):
        return f"the private_key of its CA {name} is not the key of {name}'s certificate"
    return _Signer(name=name, cert=issued.get(name, signer_cert), key=key)


def _validity(name: str, cert: Certificate, settings: Settings) -> timedelta:
    if settings.days is not None:
        return timedelta(days=settings.days)
    if name in settings.durations:
        return timedelta(days=settings.durations[name])
    return cert.not_valid_after_utc - cert.not_valid_before_utc


def _new_serial(old: int) -> int:
    while (serial := secrets.randbits(SERIAL_BITS)) in (0, old):
        pass
    return serial


def _issue(old: Certificate, signer: _Signer, *, not_before: datetime, not_after: datetime) -> Certificate | str:
    """``old`` re-issued from its own DER: new serial, validity, issuer, authority key identifier, signature."""
    from cryptography import x509 as cx509

    try:
        parts = der.tbs(old.tbs_certificate_bytes)
        signer_parts = der.tbs(signer.cert.tbs_certificate_bytes)
        algorithm = der.signature_algorithm(x509.certificate_der(old))
    except der.DerError:
        return "its certificate is not DER that this tool re-issues byte for byte"
    if algorithm != parts.signature:
        return "its certificate names two different signature algorithms"
    signer_ski, _ = x509.key_identifiers(signer.cert)
    extensions: list[der.Extension] = []
    for extension in parts.extensions:
        if extension.oid != der.AUTHORITY_KEY_IDENTIFIER:
            extensions.append(extension)
            continue
        if signer_ski is None:
            return f"its CA {signer.name} has no subject key identifier for its authority key identifier"
        value = der.authority_key_identifier(signer_ski)
        raw = der.extension(der.AUTHORITY_KEY_IDENTIFIER, value, critical=extension.critical)
        extensions.append(der.Extension(oid=extension.oid, critical=extension.critical, value=value, raw=raw))
    tbs = der.assemble_tbs(
        der.Tbs(
            version=parts.version,
            serial=der.integer(_new_serial(old.serial_number)),
            signature=parts.signature,
            issuer=signer_parts.subject,
            validity=der.sequence(der.time(not_before), der.time(not_after)),
            subject=parts.subject,
            public_key=parts.public_key,
            unique_ids=parts.unique_ids,
            extensions=tuple(extensions),
        )
    )
    signature = _sign(signer.key, old, tbs)
    if isinstance(signature, str):
        return signature
    return cx509.load_der_x509_certificate(der.certificate(tbs, algorithm, signature))


def _sign(key: PrivateKeyTypes, old: Certificate, tbs: bytes) -> bytes | str:
    """The signature of ``tbs`` with ``key``, by the algorithm the old certificate was signed with."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
    from cryptography.x509.oid import SignatureAlgorithmOID

    oid = old.signature_algorithm_oid
    digest = old.signature_hash_algorithm
    strong = isinstance(digest, hashes.SHA224 | hashes.SHA256 | hashes.SHA384 | hashes.SHA512)
    if isinstance(key, rsa.RSAPrivateKey) and oid != SignatureAlgorithmOID.RSASSA_PSS and strong:
        assert digest is not None  # narrowed by `strong`
        return key.sign(tbs, padding.PKCS1v15(), digest)
    if isinstance(key, ec.EllipticCurvePrivateKey) and strong:
        assert digest is not None  # narrowed by `strong`
        return key.sign(tbs, ec.ECDSA(digest))
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey) and digest is None:
        return key.sign(tbs)
    return (
        f"its signature algorithm ({oid.dotted_string}) is not one this tool signs with (RSA PKCS#1 v1.5 or ECDSA "
        "with SHA-2, Ed25519, Ed448)"
    )


# --- the fields that change -------------------------------------------------------------------------------------


def _pem(cert: Certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM).decode("ascii").rstrip("\n")


def replace_blocks(text: str, replacements: Mapping[str, str]) -> str:
    """``text`` with every certificate block whose whitespace-free PEM is a key of ``replacements`` replaced by
    its value; everything around the blocks (other blocks, separators) stays as it was."""
    out: list[str] = []
    position = 0
    for block in x509.split_pem_certificates(text):
        start = text.index(block, position)
        out.append(text[position:start])
        out.append(replacements.get(pki.pem_key(block), block))
        position = start + len(block)
    out.append(text[position:])
    return "".join(out)


def _replacements(store: VarStore, issued: Mapping[str, Certificate]) -> dict[str, str]:
    """Each renewed certificate's PEM block, by the whitespace-free PEM of the block it replaces."""
    replacements: dict[str, str] = {}
    for name, cert in issued.items():
        entry = store.get(name)
        block = pki.first_block(entry.text("certificate")) if entry is not None else None
        if block is not None:
            replacements[pki.pem_key(block)] = _pem(cert)
    return replacements


def _edits(store: VarStore, replacements: Mapping[str, str], *, renewed: Iterable[str]) -> tuple[Edit, ...]:
    """The fields that change, in file order."""
    own = set(renewed)
    edits: list[Edit] = []
    for entry in store:
        if entry.kind is not Kind.CERTIFICATE:
            continue
        if entry.name in own:
            edits.append(Edit(variable=entry.name, field="certificate"))
        trust = entry.text("ca")
        if trust and any(pki.pem_key(b) in replacements for b in x509.split_pem_certificates(trust)):
            edits.append(Edit(variable=entry.name, field="ca"))
    return tuple(edits)


def apply(values: Mapping[str, object], renewal: Renewal) -> dict[str, object]:
    """``values`` (a var-store's, normalized or as read) with the renewal's edits made: in a ``certificate``
    field the first block is replaced, in a ``ca`` field every block of a renewed CA; the text around the blocks
    (other certificates of a bundle, the final newline) stays as it was."""
    out = dict(values)
    for edit in renewal.edits:
        value = out[edit.variable]
        assert isinstance(value, Mapping)  # edits are only made to certificate entries
        text = value[edit.field]
        assert isinstance(text, str)  # the field held the block that is replaced
        if edit.field == "certificate":
            first = pki.first_block(text)
            assert first is not None  # a renewed certificate parses
            wanted = {pki.pem_key(first): renewal.replacements[pki.pem_key(first)]}
        else:
            wanted = dict(renewal.replacements)
        out[edit.variable] = {**value, edit.field: replace_blocks(text, wanted)}
    return out


# --- checks before writing --------------------------------------------------------------------------------------


def verify(
    old: VarStore, new: VarStore, renewal: Renewal, *, now: datetime, classifier: Classifier = DEFAULT_CLASSIFIER
) -> tuple[str, ...]:
    """Everything that is wrong with ``new`` as the renewal of ``old``; empty when it may be written.

    Each renewed certificate verifies under its signer and matches its unchanged key; its subject, public key
    and extensions are the old ones byte for byte, but for the authority key identifier, whose key id is the old
    one; it ends later. Every certificate signed by a renewed CA still verifies under it. Only the fields of the
    edits changed. And creds-lint's comparison of the two stores reports renewals only (nothing that was not
    already reported about the old store, no error, no warning)."""
    problems: list[str] = []
    if list(old.entries) != list(new.entries):
        problems.append("the variables are not the same, in the same order, as before")
        return tuple(problems)
    edited = {(e.variable, e.field) for e in renewal.edits}
    for entry in old:
        after = new.get(entry.name)
        assert after is not None  # same names, checked above
        fields = set(entry.fields) | set(after.fields)
        changed = {f for f in fields if entry.fields.get(f) != after.fields.get(f)} if entry.fields else set()
        if not entry.fields and entry.value != after.value:
            changed = {"value"}
        unexpected = sorted(f for f in changed if (entry.name, f) not in edited)
        if unexpected:
            problems.append(f"{entry.name}: {', '.join(unexpected)} changed, which a renewal never changes")
    renewed_cas = {r.variable for r in renewal.renewed if r.is_ca}
    for record in renewal.renewed:
        problems.extend(f"{record.variable}: {p}" for p in _renewed_problems(old, new, record))
    old_graph, new_graph = pki.Graph(old), pki.Graph(new)
    for entry in new:
        if entry.kind is not Kind.CERTIFICATE or entry.name in renewed_cas:
            continue
        before = old.get(entry.name)
        signer = old_graph.signer(before) if before is not None else None
        if signer not in renewed_cas:
            continue
        chain = new_graph.chain(entry)
        if chain.trust is not pki.Trust.VALID or chain.signer != signer:
            problems.append(f"{entry.name}: no longer verifies under the renewed {signer}")
    problems.extend(_comparison_problems(old, new, renewal, now=now, classifier=classifier))
    return tuple(problems)


def _renewed_problems(old: VarStore, new: VarStore, record: Renewed) -> list[str]:
    before, after = old.get(record.variable), new.get(record.variable)
    signer = new.get(record.signer)
    old_cert = pki.certificate(before) if before is not None else None
    new_cert = pki.certificate(after) if after is not None else None
    signer_cert = pki.certificate(signer) if signer is not None else None
    if before is None or after is None or old_cert is None or new_cert is None or signer_cert is None:
        return ["the renewed certificate or its CA does not parse"]
    problems: list[str] = []
    if not x509.signed_by(new_cert, signer_cert):
        problems.append(f"the renewed certificate does not verify under {record.signer}")
    key = _private_key(after)
    if after.text("private_key") != before.text("private_key") or key is None:
        problems.append("its private_key changed")
    elif not x509.same_key_pair(key, new_cert.public_key()):
        problems.append("its private_key is not the key of the renewed certificate")
    old_parts, new_parts = der.tbs(old_cert.tbs_certificate_bytes), der.tbs(new_cert.tbs_certificate_bytes)
    if new_parts.subject != old_parts.subject:
        problems.append("its subject is not the old subject's DER")
    if new_parts.public_key != old_parts.public_key:
        problems.append("its public key changed")
    old_ids, new_ids = x509.key_identifiers(old_cert), x509.key_identifiers(new_cert)
    if new_ids[0] != old_ids[0]:
        problems.append("its subject key identifier changed")
    if new_ids[1] != old_ids[1]:
        problems.append(
            "its authority key identifier changed (the old one did not name its CA's subject key identifier)"
        )
    kept = [(e.oid, e.critical) for e in old_parts.extensions] == [(e.oid, e.critical) for e in new_parts.extensions]
    same = all(
        a.raw == b.raw
        for a, b in zip(old_parts.extensions, new_parts.extensions, strict=False)
        if a.oid != der.AUTHORITY_KEY_IDENTIFIER
    )
    if not (kept and same):
        problems.append("its extensions (names, key usage, basic constraints...) are not the old ones")
    if new_cert.not_valid_after_utc <= old_cert.not_valid_after_utc:
        problems.append("the renewed certificate does not end later than the old one")
    return problems


def _comparison_problems(
    old: VarStore, new: VarStore, renewal: Renewal, *, now: datetime, classifier: Classifier
) -> list[str]:
    """What creds-lint's own comparison of the two stores reports beyond renewals (and beyond what it already
    reports about the old store alone)."""
    from creds_lint.engine import Options, lint
    from creds_lint.findings import Severity

    options = Options(now=now, classifier=classifier)
    already = {(f.rule, f.variable) for f in lint(None, old, options)}
    renewed = {r.variable for r in renewal.renewed}
    problems: list[str] = []
    for finding in lint(old, new, options):
        if finding.rule in RENEWAL_RULES and finding.severity is Severity.INFO:
            continue
        if finding.variable not in renewed and (finding.rule, finding.variable) in already:
            continue  # about a certificate this renewal did not touch, and reported before it too
        problems.append(
            f"the comparison with the old var-store reports {finding.rule} ({finding.severity.value}) for "
            f"{finding.variable}: {finding.message}"
        )
    return problems


# --- what to do next ------------------------------------------------------------------------------------------


def next_steps(renewal: Renewal, path: str) -> tuple[str, ...]:
    """What the operator does after the renewal, in order: the director first, then every holder of a renewed
    CA's old copy before the deadline, with the resurrector off meanwhile."""
    deadline = renewal.deadline
    before = f", before {deadline:%Y-%m-%d %H:%M} UTC" if deadline is not None else ""
    agents = [h.variable for h in renewal.holders if h.agents]
    expired = [name for name in renewal.expired if name in agents]
    steps = [
        "bosh update-resurrection off: VMs that are briefly unresponsive during the deploys are not recreated",
        f"bosh create-env ... --vars-store {path}: the director VM gets the renewed certificates",
    ]
    if expired:
        steps.append(
            "bosh -d DEPLOYMENT recreate --fix, for each deployment: agents that hold the expired copy of "
            f"{', '.join(expired)} can no longer be reached, and only a recreate gives them the renewed one"
        )
    elif agents:
        steps.append(
            f"bosh -d DEPLOYMENT deploy, for each deployment{before}: one ordinary deploy gives every agent the "
            f"renewed {', '.join(agents)} (no recreate)"
        )
    else:
        steps.append("bosh -d DEPLOYMENT deploy, for each deployment whose jobs use the renewed certificates")
    others = [h.variable for h in renewal.holders if not h.agents]
    if others:
        steps.append(
            f"replace the old copies of {', '.join(others)}{before}: BOSH_CA_CERT in CLI configurations and "
            "pipelines, and the CA copies given to CredHub's and the director's clients"
        )
    steps.append("bosh update-resurrection on")
    return tuple(steps)
