from __future__ import annotations

# Renewal (creds_lint.renew) on real bosh-shaped stores built by tests/factory.py: the same keys, subjects and
# key identifiers, new validity; refusals; and the rule that catches a renewal made elsewhere with a recomputed
# subject key identifier (the way safe and genesis renew).
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from creds_lint import der, renew
from creds_lint.engine import Options, lint
from creds_lint.loader import parse_store
from creds_lint.model import VarStore
from factory import Cert, bosh_store, cert_from_value, dump_store, make_ca, make_leaf, rsa_key

NOW = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
NATS_LEAVES = ("nats_clients_director_tls", "nats_clients_health_monitor_tls", "nats_server_tls")
CAS = ("blobstore_ca", "credhub_ca", "default_ca", "nats_ca")


def loaded(values: Mapping[str, object], name: str = "creds.yml") -> VarStore:
    return parse_store(dump_store(values).encode("utf-8"), source=name)


def cert_of(values: Mapping[str, object], name: str) -> Cert:
    value = values[name]
    assert isinstance(value, Mapping)
    return cert_from_value(value)


def run(
    values: Mapping[str, object],
    selection: renew.Selection,
    *,
    now: datetime = NOW,
    days: int | None = None,
    durations: Mapping[str, int] | None = None,
    expired_ok: bool = False,
    force: bool = False,
) -> tuple[VarStore, renew.Renewal, VarStore | None]:
    store = loaded(values)
    settings = renew.Settings(now=now, days=days, durations=durations or {}, expired_ok=expired_ok, force=force)
    renewal = renew.renew(store, selection, settings)
    if renewal.refusals:
        return store, renewal, None
    return store, renewal, loaded(renew.apply(store.values(), renewal), "renewed.yml")


def parsed(store: VarStore, name: str) -> x509.Certificate:
    entry = store.get(name)
    assert entry is not None
    pem = entry.text("certificate")
    assert pem is not None
    return x509.load_pem_x509_certificate(pem.encode("ascii"))


def ski(cert: x509.Certificate) -> bytes:
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def aki(cert: x509.Certificate) -> bytes | None:
    return cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier


ALL = renew.Selection(everything=True)


def test_all_renews_every_certificate_keeping_keys_subjects_identifiers_and_extensions() -> None:
    old, renewal, new = run(bosh_store(), ALL, days=730)
    assert new is not None
    assert not renewal.refusals
    certificates = [e.name for e in old if "certificate" in e.fields]
    assert sorted(r.variable for r in renewal.renewed) == sorted(certificates)
    for name in certificates:
        before, after = parsed(old, name), parsed(new, name)
        old_parts, new_parts = der.tbs(before.tbs_certificate_bytes), der.tbs(after.tbs_certificate_bytes)
        assert new_parts.subject == old_parts.subject
        assert new_parts.public_key == old_parts.public_key
        assert ski(after) == ski(before)
        assert aki(after) == aki(before)
        assert [e.raw for e in new_parts.extensions if e.oid != der.AUTHORITY_KEY_IDENTIFIER] == [
            e.raw for e in old_parts.extensions if e.oid != der.AUTHORITY_KEY_IDENTIFIER
        ]
        assert [(e.oid, e.critical) for e in after.extensions] == [(e.oid, e.critical) for e in before.extensions]
        assert after.serial_number != before.serial_number
        assert 0 < after.serial_number < 2**159  # positive, at most 20 octets
        assert after.not_valid_before_utc == NOW - renew.SKEW
        assert after.not_valid_after_utc == NOW - renew.SKEW + timedelta(days=730)
        assert old.get(name).text("private_key") == new.get(name).text("private_key")  # type: ignore[union-attr]
    for entry in old:
        if entry.name not in certificates:
            assert new.get(entry.name).value == entry.value  # type: ignore[union-attr]
    assert renew.verify(old, new, renewal, now=NOW) == ()


def test_cas_come_before_what_they_signed_and_leaves_verify_under_both_copies() -> None:
    root = make_ca("root", key_slot=0)
    intermediate = make_ca("intermediate", key_slot=1, signer=root)
    leaf = make_leaf("leaf.internal", intermediate, key_slot=2, sans=("leaf.internal",))
    values = {"leaf": leaf.as_value(), "intermediate": intermediate.as_value(), "root": root.as_value()}
    old, renewal, new = run(values, ALL, days=400)
    assert new is not None
    assert [r.variable for r in renewal.renewed] == ["root", "intermediate", "leaf"]
    assert [r.signer for r in renewal.renewed] == ["root", "root", "intermediate"]
    for name, signer in (("root", "root"), ("intermediate", "root"), ("leaf", "intermediate")):
        renewed = parsed(new, name)
        renewed.verify_directly_issued_by(parsed(new, signer))
        renewed.verify_directly_issued_by(parsed(old, signer))  # the old copy still verifies the renewal
        parsed(old, name).verify_directly_issued_by(parsed(new, signer))  # and the renewed CA the old certificate
    assert new.get("intermediate").text("ca") == new.get("root").text("certificate")  # type: ignore[union-attr]
    assert new.get("leaf").text("ca") == new.get("intermediate").text("certificate")  # type: ignore[union-attr]
    assert new.get("root").text("ca") == new.get("root").text("certificate")  # type: ignore[union-attr]
    assert renew.verify(old, new, renewal, now=NOW) == ()


def test_renewing_a_ca_alone_moves_the_trust_fields_and_keeps_the_leaves() -> None:
    old, renewal, new = run(bosh_store(), renew.Selection(names=("nats_ca",)), days=730)
    assert new is not None
    assert [r.variable for r in renewal.renewed] == ["nats_ca"]
    renewed_pem = new.get("nats_ca").text("certificate")  # type: ignore[union-attr]
    for name in NATS_LEAVES:
        assert new.get(name).text("certificate") == old.get(name).text("certificate")  # type: ignore[union-attr]
        assert new.get(name).text("ca") == renewed_pem  # type: ignore[union-attr]
        parsed(new, name).verify_directly_issued_by(parsed(new, "nats_ca"))
    assert new.get("nats_ca").text("ca") == renewed_pem  # type: ignore[union-attr]
    assert {(e.variable, e.field) for e in renewal.edits} == {
        ("nats_ca", "certificate"),
        ("nats_ca", "ca"),
        *((name, "ca") for name in NATS_LEAVES),
    }
    assert [h.variable for h in renewal.holders] == ["nats_ca"]
    assert renewal.holders[0].agents
    assert renewal.deadline == cert_of(bosh_store(), "nats_ca").cert_obj.not_valid_after_utc
    assert renew.verify(old, new, renewal, now=NOW) == ()
    findings = {(f.rule, f.variable) for f in lint(old, new, Options(now=NOW))}
    assert findings == {("renewed-ca", "nats_ca"), *(("documented-rotation", n) for n in NATS_LEAVES)}


def test_only_the_renewed_block_of_a_bundle_is_replaced() -> None:
    values = bosh_store()
    nats, default = cert_of(values, "nats_ca"), cert_of(values, "default_ca")
    bundle = nats.certificate + default.certificate
    values["nats_server_tls"] = {**cert_of(values, "nats_server_tls").as_value(), "ca": bundle}
    old, renewal, new = run(values, renew.Selection(names=("nats_ca",)), days=730)
    assert new is not None
    trust = new.get("nats_server_tls").text("ca")  # type: ignore[union-attr]
    assert trust == new.get("nats_ca").text("certificate") + "\n" + default.certificate.rstrip("\n")  # type: ignore[union-attr,operator]
    assert renew.verify(old, new, renewal, now=NOW) == ()


def test_validity_from_days_then_manifest_duration_then_the_old_length() -> None:
    values = bosh_store()
    _, renewal, _ = run(values, renew.Selection(names=("nats_ca", "director_ssl")), durations={"director_ssl": 300})
    by_name = {r.variable: r for r in renewal.renewed}
    start = NOW - renew.SKEW
    assert by_name["director_ssl"].new_not_after == start + timedelta(days=300)
    old = cert_of(values, "nats_ca").cert_obj
    assert by_name["nats_ca"].new_not_after == start + (old.not_valid_after_utc - old.not_valid_before_utc)


def test_a_leaf_that_would_outlive_its_ca_is_a_warning() -> None:
    _, renewal, new = run(bosh_store(), renew.Selection(names=("nats_server_tls",)), days=800)
    assert new is not None
    assert len(renewal.warnings) == 1
    assert renewal.warnings[0].startswith("nats_server_tls (default.nats.bosh-internal) would be valid until")
    assert "after its CA nats_ca expires on" in renewal.warnings[0]


def test_expiring_selects_what_ends_within_the_days() -> None:
    values = bosh_store()
    soon = make_leaf("soon.internal", cert_of(values, "default_ca"), key_slot=3, not_before=NOW - timedelta(days=350))
    values["soon_tls"] = soon.as_value()
    store = loaded(values)
    assert renew.select(store, renew.Selection(expiring=30), now=NOW) == ("soon_tls",)
    assert len(renew.select(store, renew.Selection(expiring=400), now=NOW)) == 14


def test_unknown_names_are_usage_errors() -> None:
    store = loaded(bosh_store())
    from creds_lint.errors import CredsLintError

    with pytest.raises(CredsLintError, match="no variable 'nats'"):
        renew.select(store, renew.Selection(names=("nats",)), now=NOW)
    with pytest.raises(CredsLintError, match="admin_password is not a certificate"):
        renew.select(store, renew.Selection(names=("admin_password",)), now=NOW)


def test_a_subject_in_another_string_type_keeps_its_der() -> None:
    key = rsa_key(5)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US", _type=_ASN1Type.PrintableString),
            x509.NameAttribute(NameOID.COMMON_NAME, "utf8 ca", _type=_ASN1Type.UTF8String),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "T61", _type=_ASN1Type.T61String),
        ]
    )
    identifier = x509.SubjectKeyIdentifier(b"\x01" * 20)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(NOW - timedelta(days=300))
        .not_valid_after(NOW + timedelta(days=65))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(identifier, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier(identifier.digest, None, None), critical=False)
        .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4"), b"\x05\x00"), critical=True)
        .sign(key, hashes.SHA384())
    )
    from cryptography.hazmat.primitives import serialization

    pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode("ascii")
    old, renewal, new = run({"odd_ca": {"ca": pem, "certificate": pem, "private_key": private}}, ALL)
    assert new is not None
    renewed = parsed(new, "odd_ca")
    assert der.tbs(renewed.tbs_certificate_bytes).subject == der.tbs(cert.tbs_certificate_bytes).subject
    assert renewed.signature_hash_algorithm.name == "sha384"  # type: ignore[union-attr]
    assert renewed.extensions.get_extension_for_oid(x509.ObjectIdentifier("1.2.3.4")).critical
    assert renewed.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    assert ski(renewed) == b"\x01" * 20
    assert renew.verify(old, new, renewal, now=NOW) == ()


# --- refusals -------------------------------------------------------------------------------------------------


def test_a_missing_or_mismatched_ca_key_is_refused() -> None:
    values = bosh_store()
    values["nats_ca"] = {
        **cert_of(values, "nats_ca").as_value(),
        "private_key": cert_of(values, "default_ca").private_key,
    }
    _, renewal, new = run(values, renew.Selection(names=("nats_server_tls",)))
    assert new is None
    assert renewal.edits == ()
    assert renewal.refusals == (
        "nats_server_tls: the private_key of its CA nats_ca is not the key of nats_ca's certificate",
    )
    values["nats_ca"] = {**cert_of(values, "nats_ca").as_value(), "private_key": ""}
    _, renewal, _ = run(values, renew.Selection(names=("nats_server_tls",)))
    assert renewal.refusals == (
        "nats_server_tls: its CA nats_ca has no private key that parses: nothing can sign the renewal",
    )


def test_a_key_type_bosh_does_not_generate_needs_force() -> None:
    from cryptography.hazmat.primitives import serialization

    key = ec.generate_private_key(ec.SECP256R1())
    ca = cert_of(bosh_store(), "default_ca")
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec.internal")]))
        .issuer_name(ca.cert_obj.subject)
        .public_key(key.public_key())
        .serial_number(9)
        .not_valid_before(NOW - timedelta(days=10))
        .not_valid_after(NOW + timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier(ski(ca.cert_obj), None, None), critical=False)
        .sign(ca.key_obj, hashes.SHA256())
    )
    values = bosh_store()
    values["ec_tls"] = {
        "ca": ca.certificate,
        "certificate": cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        "private_key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii"),
    }
    _, renewal, new = run(values, renew.Selection(names=("ec_tls",)))
    assert new is None
    assert renewal.refusals == (
        "ec_tls: its key is EC, a key type bosh does not generate: this certificate was made by hand (renew it "
        "with --force if that is intended)",
    )
    old, renewal, new = run(values, renew.Selection(names=("ec_tls",)), force=True, days=365)
    assert new is not None
    assert renew.verify(old, new, renewal, now=NOW) == ()


def test_an_expired_ca_needs_expired_ok() -> None:
    later = NOW + timedelta(days=400)
    _, renewal, new = run(bosh_store(), renew.Selection(names=("nats_ca",)), now=later)
    assert new is None
    assert len(renewal.refusals) == 1
    assert renewal.refusals[0].startswith("nats_ca: this CA expired on ")
    assert "`bosh recreate --fix`" in renewal.refusals[0]
    old, renewal, new = run(bosh_store(), renew.Selection(names=("nats_ca",)), now=later, expired_ok=True)
    assert new is not None
    assert renewal.expired == ("nats_ca",)
    assert renew.verify(old, new, renewal, now=later) == ()


def test_every_refusal_is_listed_and_nothing_is_edited() -> None:
    values = bosh_store()
    nats_ca = cert_of(values, "nats_ca")
    values["nats_ca"] = {**nats_ca.as_value(), "private_key": ""}
    director_ssl = cert_of(values, "director_ssl").as_value()
    values["director_ssl"] = {**director_ssl, "private_key": nats_ca.private_key}
    _, renewal, _ = run(values, ALL)
    assert renewal.edits == ()
    assert renewal.renewed == ()
    assert [r.split(":")[0] for r in renewal.refusals] == [
        "nats_ca",
        "director_ssl",
        *NATS_LEAVES_IN_FILE_ORDER,
    ]


NATS_LEAVES_IN_FILE_ORDER = ("nats_clients_director_tls", "nats_clients_health_monitor_tls", "nats_server_tls")


def test_verify_catches_a_tampered_renewal() -> None:
    old, renewal, new = run(bosh_store(), renew.Selection(names=("nats_ca",)), days=730)
    assert new is not None
    values = renew.apply(old.values(), renewal)
    values["admin_password"] = "changed"
    values["nats_server_tls"] = {**values["nats_server_tls"], "ca": old.get("nats_ca").text("certificate")}  # type: ignore[dict-item,union-attr]
    problems = renew.verify(old, loaded(values), renewal, now=NOW)
    assert "admin_password: value changed, which a renewal never changes" in problems
    assert "nats_server_tls: ca changed, which a renewal never changes" not in problems  # an edited field
    values = renew.apply(old.values(), renewal)
    regenerated = make_ca("default.nats-ca.bosh-internal", key_slot=40)
    values["nats_ca"] = {**values["nats_ca"], "certificate": regenerated.certificate}  # type: ignore[dict-item]
    problems = renew.verify(old, loaded(values), renewal, now=NOW)
    assert "nats_ca: its public key changed" in problems
    assert any(p.startswith("nats_server_tls: no longer verifies under the renewed nats_ca") for p in problems)


# --- a renewal made elsewhere, with a recomputed subject key identifier -----------------------------------------


def safe_renew(cert: Cert, *, days: int = 730) -> Cert:
    """Renew a root CA the way safe and genesis do: same key and subject, the SKI recomputed (RFC 5280 method 1)."""
    old, key = cert.cert_obj, cert.key_obj
    identifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(old.subject)
        .issuer_name(old.subject)
        .public_key(key.public_key())
        .serial_number(secrets.randbits(128))
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=days))
    )
    for extension in old.extensions:
        value: x509.ExtensionType = extension.value
        if isinstance(value, x509.SubjectKeyIdentifier):
            value = identifier
        elif isinstance(value, x509.AuthorityKeyIdentifier):
            value = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier)
        builder = builder.add_extension(value, critical=extension.critical)
    new = builder.sign(key, hashes.SHA256())
    from cryptography.hazmat.primitives import serialization

    pem = new.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return Cert(ca=pem, certificate=pem, private_key=cert.private_key, cert_obj=new, key_obj=key)


def test_a_recomputed_subject_key_identifier_is_caught() -> None:
    old_values = bosh_store()
    renewed = safe_renew(cert_of(old_values, "nats_ca"))
    assert ski(renewed.cert_obj) != ski(cert_of(old_values, "nats_ca").cert_obj)
    new_values = {**old_values, "nats_ca": renewed.as_value()}
    for name in NATS_LEAVES:
        new_values[name] = {**cert_of(old_values, name).as_value(), "ca": renewed.certificate}
    findings = lint(loaded(old_values), loaded(new_values, "new.yml"), Options(now=NOW))
    by_rule = {(f.rule, f.variable): f for f in findings}
    assert ("renewed-ca", "nats_ca") not in by_rule
    assert ("regenerated-ca", "nats_ca") not in by_rule
    finding = by_rule[("changed-key-identifier", "nats_ca")]
    assert finding.severity.value == "error"
    assert "3 certificates of the store still name the old one (nats_clients_director_tls, " in finding.message
    assert "OpenSSL clients (the director, the health monitor) given the renewed CA reject them" in finding.message
    # renew refuses to re-issue the leaves under it: their authority key identifier would change
    store = loaded(new_values)
    renewal = renew.renew(store, renew.Selection(names=("nats_server_tls",)), renew.Settings(now=NOW))
    new = loaded(renew.apply(store.values(), renewal))
    problems = renew.verify(store, new, renewal, now=NOW)
    assert problems[0].startswith("nats_server_tls: its authority key identifier changed")


def test_a_renewal_that_copies_the_identifier_is_renewed_ca() -> None:
    old, _, new = run(bosh_store(), renew.Selection(names=("nats_ca",)), days=730)
    assert new is not None
    findings = [(f.rule, f.severity.value) for f in lint(old, new, Options(now=NOW)) if f.variable == "nats_ca"]
    assert findings == [("renewed-ca", "info")]


def test_a_ca_that_agents_hold_is_warned_about_60_days_ahead_with_the_renew_command() -> None:
    values = bosh_store()
    not_after = cert_of(values, "nats_ca").cert_obj.not_valid_after_utc
    store = loaded(values)
    findings = lint(None, store, Options(now=not_after - timedelta(days=45)))
    assert {(f.rule, f.variable) for f in findings} == {
        ("expiring-certificate", "nats_ca"),
        ("expiring-certificate", "blobstore_ca"),
    }
    message = next(f.message for f in findings if f.variable == "nats_ca")
    assert message.endswith(
        "in 45 days (60 days ahead for a CA that every agent holds). Renew it with the same key (nothing that "
        "trusts it breaks): `creds-lint renew creds.yml nats_ca`."
    )
    assert {f.variable for f in lint(None, store, Options(now=not_after - timedelta(days=61)))} == set()
    longer = lint(None, store, Options(now=not_after - timedelta(days=80), expiry_days=90))
    assert "in 80 days (--expiry-days 90)." in next(f.message for f in longer if f.variable == "nats_ca")
    expired = lint(None, store, Options(now=not_after + timedelta(days=1)))
    message = next(f.message for f in expired if f.variable == "nats_ca")
    assert message.endswith(
        "Renew it with the same key: `creds-lint renew creds.yml nats_ca --expired-ok`; agents that hold its old "
        "copy then need `bosh recreate --fix`."
    )


def test_a_renewal_that_the_comparison_warns_about_is_not_written() -> None:
    values = bosh_store()
    soon = make_leaf("soon.internal", cert_of(values, "default_ca"), key_slot=47, not_before=NOW - timedelta(days=350))
    values["soon_tls"] = soon.as_value()
    old, renewal, new = run(values, renew.Selection(names=("soon_tls",)), days=20)
    assert new is not None
    problems = renew.verify(old, new, renewal, now=NOW)
    assert len(problems) == 1
    assert problems[0].startswith(
        "the comparison with the old var-store reports expiring-certificate (warning) for soon_tls: soon_tls "
    )


def test_a_trust_field_outside_a_certificate_is_left_and_warned_about() -> None:
    values = bosh_store()
    values["extra_trust"] = {"ca": cert_of(values, "nats_ca").certificate}
    old, renewal, new = run(values, renew.Selection(names=("nats_ca",)), days=730)
    assert new is not None
    assert new.get("extra_trust") == old.get("extra_trust")
    assert renewal.warnings == (
        "extra_trust is no certificate but its 'ca' field carries the old copy of a renewed CA: it is left as it "
        "is, and works until that copy's notAfter; replace it with the renewed certificate before then",
    )
    assert renew.verify(old, new, renewal, now=NOW) == ()
