from __future__ import annotations

# The test-data factory must produce what the bosh CLI produces, or every test built on it proves nothing.
import base64
import hashlib
import ipaddress
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from factory import (
    BOSH_CAS,
    BOSH_LEAVES,
    BOSH_PASSWORDS,
    Cert,
    bosh_store,
    cert_from_value,
    dump_store,
    incident,
    leaf_rotation,
    make_ca,
    make_leaf,
    make_rsa,
    make_ssh,
    password,
    renew,
    rsa_key,
    skid,
)


def _cert(pem: object) -> x509.Certificate:
    assert isinstance(pem, str)
    return x509.load_pem_x509_certificate(pem.encode())


def _value(store: dict[str, object], name: str) -> dict[str, Any]:
    value = store[name]
    assert isinstance(value, dict)
    return value


def _modulus(pem: str) -> int:
    key = serialization.load_pem_private_key(pem.encode(), password=None, unsafe_skip_rsa_key_validation=True)
    n: int = key.public_key().public_numbers().n  # type: ignore[union-attr]
    return n


def test_rsa_key_pool_caches_per_slot_and_bits() -> None:
    assert rsa_key(0) is rsa_key(0)
    assert rsa_key(0).public_key() != rsa_key(1).public_key()
    assert rsa_key(0).key_size == 2048
    assert rsa_key(0, 1024).key_size == 1024


def test_root_ca_is_self_signed_and_shaped_like_bosh() -> None:
    root = make_ca("root.test", key_slot=0)
    assert root.ca == root.certificate
    assert root.as_value() == {
        "ca": root.ca,
        "certificate": root.certificate,
        "private_key": root.private_key,
    }
    assert root.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert root.private_key.endswith("-----END RSA PRIVATE KEY-----\n")
    cert = _cert(root.certificate)
    cert.verify_directly_issued_by(cert)
    assert cert.subject.rfc4514_string() == "CN=root.test,O=Cloud Foundry,C=US"
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "root.test"
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical
    assert bc.value.ca
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical
    assert ku.value.key_cert_sign
    assert ku.value.crl_sign
    assert not ku.value.digital_signature
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert ski == skid(root.key_obj.public_key())
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == ski
    assert aki.authority_cert_issuer is None
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc) == timedelta(days=365)
    assert 0 < cert.serial_number < 2**128


def test_leaf_verifies_against_its_ca_and_carries_options() -> None:
    root = make_ca("root.test", key_slot=0)
    start = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    leaf = make_leaf(
        "leaf.test",
        root,
        key_slot=1,
        sans=("10.0.0.1", "leaf.test", "::1"),
        extended_key_usage=("client_auth",),
        not_before=start,
        days=10,
        serial=42,
    )
    assert leaf.ca == root.certificate
    cert = _cert(leaf.certificate)
    cert.verify_directly_issued_by(_cert(root.certificate))
    assert cert.serial_number == 42
    assert cert.not_valid_before_utc == start
    assert cert.not_valid_after_utc == start + timedelta(days=10)
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["leaf.test"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("10.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    assert aki == skid(root.key_obj.public_key())
    # Default: server_auth, and no SAN extension when there are no SANs (as bosh writes nats client certs).
    plain = _cert(make_leaf("plain.test", root).certificate)
    assert list(plain.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.SERVER_AUTH
    ]
    with pytest.raises(x509.ExtensionNotFound):
        plain.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    with pytest.raises(ValueError, match="unknown extended_key_usage"):
        make_leaf("bad.test", root, extended_key_usage=("nonsense",))


def test_intermediate_ca_and_renewal_with_same_key() -> None:
    root = make_ca("root.test", key_slot=0)
    inter = make_ca("inter.test", key_slot=2, signer=root)
    assert inter.ca == root.certificate
    _cert(inter.certificate).verify_directly_issued_by(_cert(root.certificate))
    leaf = make_leaf("leaf.test", inter, key_slot=1)
    assert leaf.ca == inter.certificate
    _cert(leaf.certificate).verify_directly_issued_by(_cert(inter.certificate))

    renewed = renew(root, days=730, serial=7)
    assert renewed.certificate != root.certificate
    assert renewed.ca == renewed.certificate
    assert renewed.private_key == root.private_key
    assert renewed.cert_obj.serial_number == 7
    # Same key and subject: what the old CA signed still verifies against the renewed one.
    _cert(inter.certificate).verify_directly_issued_by(_cert(renewed.certificate))
    renewed_inter = renew(inter, renewed)
    assert renewed_inter.ca == renewed.certificate
    _cert(leaf.certificate).verify_directly_issued_by(_cert(renewed_inter.certificate))
    with pytest.raises(ValueError, match="needs a signer"):
        renew(inter)
    # A new key breaks the old signatures.
    other = make_ca("root.test", key_slot=3)
    with pytest.raises(InvalidSignature):
        _cert(inter.certificate).verify_directly_issued_by(_cert(other.certificate))


def test_cert_from_value_round_trips() -> None:
    leaf = make_leaf("leaf.test", make_ca("root.test"))
    again = cert_from_value(leaf.as_value())
    assert again == leaf
    assert isinstance(again, Cert)
    assert again.key_obj.public_key() == leaf.key_obj.public_key()


def test_ssh_value_matches_bosh_format_and_its_key() -> None:
    value = make_ssh(5)
    assert set(value) == {"private_key", "public_key", "public_key_fingerprint"}
    assert value["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert re.fullmatch(r"ssh-rsa [A-Za-z0-9+/]+=*\n", value["public_key"])
    blob = base64.b64decode(value["public_key"].split()[1])
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    assert value["public_key_fingerprint"] == ":".join(re.findall("..", digest))
    assert re.fullmatch(r"([0-9a-f]{2}:){15}[0-9a-f]{2}", value["public_key_fingerprint"])
    key = serialization.load_pem_private_key(value["private_key"].encode(), password=None)
    expected = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert value["public_key"] == expected.decode() + "\n"


def test_rsa_value_pairs_pkcs1_with_pkix() -> None:
    value = make_rsa(5)
    assert set(value) == {"private_key", "public_key"}
    assert value["private_key"].startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert value["public_key"].startswith("-----BEGIN PUBLIC KEY-----\n")
    public = serialization.load_pem_public_key(value["public_key"].encode())
    assert public.public_numbers().n == _modulus(value["private_key"])  # type: ignore[union-attr]


def test_password_is_deterministic_and_bosh_shaped() -> None:
    assert password("a") == password("a")
    values = {password(f"seed{i}") for i in range(200)}
    assert len(values) == 200
    assert all(re.fullmatch(r"[a-z0-9]{20}", v) for v in values)


def test_dump_store_round_trips_sorts_keys_and_uses_block_scalars() -> None:
    store: dict[str, object] = {
        "zeta": "plain",
        "key_10": "ten",
        "key_9": "nine",
        "a_b": None,
        "ab": {"z": "pem\nwith final newline\n", "a": "no final newline\nhere", "m": {"y": "true", "x": ""}},
        "numberish": "0123",
    }
    out = dump_store(store)
    assert yaml.safe_load(out) == store
    assert not out.startswith("---")
    assert "#" not in out
    top = [line.split(":")[0] for line in out.splitlines() if not line.startswith(" ")]
    # Go's yaml.v2 order: numbers inside keys compare numerically, "_" sorts before letters.
    assert top == ["a_b", "ab", "key_9", "key_10", "numberish", "zeta"]
    assert out.splitlines()[:9] == [
        "a_b: null",
        "ab:",
        "  a: |-",
        "    no final newline",
        "    here",
        "  m:",
        '    x: ""',
        '    "y": "true"',
        "  z: |",
    ]
    assert 'numberish: "0123"' in out
    assert "zeta: plain" in out


def test_dump_store_of_a_bosh_store_has_the_cli_layout() -> None:
    store = bosh_store()
    out = dump_store(store)
    assert yaml.safe_load(out) == store
    assert out.endswith("-----END RSA PRIVATE KEY-----\n")
    for line in out.splitlines():
        assert (
            re.fullmatch(r"[a-z0-9_]+: [a-z0-9]{20}", line)  # password
            or re.fullmatch(r"[a-z0-9_]+:", line)  # map-valued variable
            or re.fullmatch(r"  (ca|certificate|private_key|public_key): \|", line)  # PEM / ssh line
            or re.fullmatch(r"  public_key_fingerprint: [0-9a-f:]{47}", line)
            or re.fullmatch(r"    \S.*", line)  # block scalar content
        ), line
    keys = [line.split(":")[0] for line in out.splitlines() if not line.startswith(" ")]
    assert keys == sorted(keys)


def test_bosh_store_shape() -> None:
    store = bosh_store()
    assert set(store) == {*BOSH_PASSWORDS, *BOSH_CAS, *BOSH_LEAVES, "uaa_jwt_signing_key", "jumpbox_ssh"}
    assert all(isinstance(store[name], str) for name in BOSH_PASSWORDS)
    for name in BOSH_CAS:
        value = _value(store, name)
        assert value["ca"] == value["certificate"]
    for name, (ca_name, common_name, _sans, _eku) in BOSH_LEAVES.items():
        value, ca = _value(store, name), _value(store, ca_name)
        assert value["ca"] == ca["certificate"]
        cert = _cert(value["certificate"])
        cert.verify_directly_issued_by(_cert(ca["certificate"]))
        assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == common_name
    assert set(_value(store, "uaa_jwt_signing_key")) == {"private_key", "public_key"}
    assert "public_key_fingerprint" in _value(store, "jumpbox_ssh")
    ca_keys = {_modulus(_value(store, name)["private_key"]) for name in BOSH_CAS}
    leaf_keys = {_modulus(_value(store, name)["private_key"]) for name in BOSH_LEAVES}
    assert len(ca_keys) == len(BOSH_CAS)
    assert not ca_keys & leaf_keys
    # A deep copy every time: tests may mutate it.
    _value(store, "default_ca")["ca"] = "mutated"
    store["admin_password"] = "mutated"
    fresh = bosh_store()
    assert _value(fresh, "default_ca")["ca"] != "mutated"
    assert fresh["admin_password"] == password("admin_password")


def test_leaf_rotation_keeps_cas_and_reissues_every_leaf() -> None:
    store = bosh_store()
    before = dump_store(store)
    rotated = leaf_rotation(store)
    assert dump_store(store) == before  # input untouched
    assert set(rotated) == set(store)
    for name in set(store) - set(BOSH_LEAVES):
        assert rotated[name] == store[name], name
    for name, (ca_name, _cn, _sans, _eku) in BOSH_LEAVES.items():
        old, new = _value(store, name), _value(rotated, name)
        assert new["ca"] == old["ca"]
        assert new["certificate"] != old["certificate"]
        assert _modulus(new["private_key"]) != _modulus(old["private_key"])
        new_cert, old_cert = _cert(new["certificate"]), _cert(old["certificate"])
        new_cert.verify_directly_issued_by(_cert(_value(rotated, ca_name)["certificate"]))
        assert new_cert.serial_number != old_cert.serial_number
        assert new_cert.subject == old_cert.subject
        assert new_cert.extensions.get_extension_for_class(
            x509.ExtendedKeyUsage
        ) == old_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    # Rotating again gives yet other keys.
    twice = leaf_rotation(rotated)
    for name in BOSH_LEAVES:
        assert _modulus(_value(twice, name)["private_key"]) != _modulus(_value(rotated, name)["private_key"])


def test_incident_regenerates_cas_leaves_and_encryption_password() -> None:
    store = bosh_store()
    before = dump_store(store)
    after = incident(store)
    assert dump_store(store) == before  # input untouched
    assert set(after) == set(store)
    assert after["credhub_encryption_password"] != store["credhub_encryption_password"]
    for name in set(BOSH_PASSWORDS) - {"credhub_encryption_password"}:
        assert after[name] == store[name], name
    assert after["uaa_jwt_signing_key"] == store["uaa_jwt_signing_key"]
    assert after["jumpbox_ssh"] == store["jumpbox_ssh"]
    for name in BOSH_CAS:
        old, new = _value(store, name), _value(after, name)
        assert new["ca"] == new["certificate"]
        assert _cert(new["certificate"]).public_key() != _cert(old["certificate"]).public_key()
        assert _cert(new["certificate"]).subject == _cert(old["certificate"]).subject
    for name, (ca_name, _cn, _sans, _eku) in BOSH_LEAVES.items():
        leaf, new_ca, old_ca = _value(after, name), _value(after, ca_name), _value(store, ca_name)
        assert leaf["ca"] == new_ca["certificate"]
        _cert(leaf["certificate"]).verify_directly_issued_by(_cert(new_ca["certificate"]))
        with pytest.raises(InvalidSignature):
            _cert(leaf["certificate"]).verify_directly_issued_by(_cert(old_ca["certificate"]))
    # The helpers work on what yaml.safe_load returns from a dumped store.
    reloaded = yaml.safe_load(dump_store(after))
    assert set(incident(reloaded)) == set(store)
