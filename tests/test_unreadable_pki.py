from __future__ import annotations

# A certificate or key that cryptography cannot read — at load time, or lazily when its subject, issuer, key or
# extensions are first read — is a malformed-certificate finding: never an internal error, in every output format, and
# `diff --textconv` (git's filter) still exits 0. Each variant is a real certificate or key edited byte by byte.
import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from conftest import RunCli, WriteStore
from factory import Cert, bosh_store, cert_from_value

RSA_ENCRYPTION = bytes.fromhex("2a864886f70d010101")  # the OID 1.2.840.113549.1.1.1, DER-encoded


def leaf() -> Cert:
    value = bosh_store()["director_ssl"]
    assert isinstance(value, dict)
    return cert_from_value(value)


def pem(label: str, der: bytes) -> str:
    return f"-----BEGIN {label}-----\n{base64.encodebytes(der).decode('ascii')}-----END {label}-----\n"


def patched(der: bytes, find: bytes, offset: int, replacement: bytes) -> bytes:
    at = der.index(find) + offset
    return der[:at] + replacement + der[at + len(replacement) :]


def cert_der() -> bytes:
    return leaf().cert_obj.public_bytes(serialization.Encoding.DER)


def bad_version() -> tuple[str, str]:
    # TBSCertificate version [0] INTEGER 2 (v3) -> 7: cryptography raises InvalidVersion, no ValueError
    return "certificate", pem("CERTIFICATE", patched(cert_der(), bytes.fromhex("a003020102"), 4, b"\x07"))


def unknown_key_algorithm() -> tuple[str, str]:
    # the subject public key's algorithm rsaEncryption -> an unknown OID: loads, then public_key() fails
    return "certificate", pem("CERTIFICATE", patched(cert_der(), RSA_ENCRYPTION, 8, b"\x7e"))


def issuer_that_does_not_decode() -> tuple[str, str]:
    # the issuer's common name (PrintableString "ca") made an invalid UTF8String: loads, then .issuer fails
    return "certificate", pem("CERTIFICATE", patched(cert_der(), b"\x13\x02ca", 0, b"\x0c\x02\xff\xfe"))


def subject_that_does_not_decode() -> tuple[str, str]:
    # the subject's common name (PrintableString "192.168.56.6") made an invalid UTF8String: loads, then .subject
    # fails (the subject is decoded once per name, never taken from a certificate whose subject has other bytes)
    invalid = b"\x0c\x0c" + b"\xff" * 12
    return "certificate", pem("CERTIFICATE", patched(cert_der(), b"\x13\x0c192.168.56.6", 0, invalid))


def extension_that_does_not_decode() -> tuple[str, str]:
    # BasicConstraints (a SEQUENCE) made a SET: loads, then .extensions fails
    basic_constraints = bytes.fromhex("0603551d130101ff04023000")
    return "certificate", pem("CERTIFICATE", patched(cert_der(), basic_constraints, 10, b"\x31"))


def base64_typo() -> tuple[str, str]:
    text = leaf().certificate
    return "certificate", text[:100] + "!" + text[101:]


def private_key_of_unknown_algorithm() -> tuple[str, str]:
    der = leaf().key_obj.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return "private_key", pem("PRIVATE KEY", patched(der, RSA_ENCRYPTION, 8, b"\x7e"))


def ca_of_unknown_key_algorithm() -> tuple[str, str]:
    return "ca", unknown_key_algorithm()[1]


VARIANTS: tuple[Callable[[], tuple[str, str]], ...] = (
    bad_version,
    unknown_key_algorithm,
    issuer_that_does_not_decode,
    subject_that_does_not_decode,
    extension_that_does_not_decode,
    base64_typo,
    private_key_of_unknown_algorithm,
    ca_of_unknown_key_algorithm,
)


@pytest.fixture(params=VARIANTS, ids=lambda v: v.__name__)
def stores(request: pytest.FixtureRequest, write_store: WriteStore) -> tuple[Path, Path, str]:
    field, text = request.param()
    old = bosh_store()
    new = bosh_store()
    value = new["director_ssl"]
    assert isinstance(value, dict)
    new["director_ssl"] = {**value, field: text}
    return write_store("old.yml", old), write_store("new.yml", new), field


def test_a_certificate_that_cryptography_cannot_read_is_a_finding(cli: RunCli, stores: tuple[Path, Path, str]) -> None:
    old, new, field = stores
    run = cli(old, new, "--format", "json")
    assert run.code == 1, run.err
    assert "internal error" not in run.err
    found = [(f["rule"], f["variable"], f["field"]) for f in run.json["findings"] if f["severity"] == "error"]
    assert ("malformed-certificate", "director_ssl", field) in found
    sarif = cli(old, new, "--format", "sarif")
    assert sarif.code == 1, sarif.err
    assert "CL406" in {r["ruleId"] for r in json.loads(sarif.out)["runs"][0]["results"]}
    text = cli(old, new)
    assert text.code == 1, text.err
    assert "BEGIN" not in text.out + text.err


def test_check_and_git_views_of_an_unreadable_certificate(cli: RunCli, stores: tuple[Path, Path, str]) -> None:
    old, new, _ = stores
    audit = cli("check", new, "--format", "json")
    assert audit.code == 1, audit.err
    assert "malformed-certificate" in {f["rule"] for f in audit.json["findings"]}
    conv = cli("diff", "--textconv", new)
    assert conv.code == 0, conv.err
    assert "director_ssl" in conv.out
    assert "BEGIN" not in conv.out
    shown = cli("diff", old, new)
    assert shown.code == 0, shown.err
    assert "~ director_ssl" in shown.out


def test_an_ssh_key_of_an_unknown_type_is_a_finding(cli: RunCli, write_store: WriteStore) -> None:
    old = bosh_store()
    new = bosh_store()
    value = new["jumpbox_ssh"]
    assert isinstance(value, dict)
    new["jumpbox_ssh"] = {**value, "public_key": "ssh-foo AAAAB3NzaC1yc2EAAAADAQABAAABAQ\n"}
    run = cli(write_store("old.yml", old), write_store("new.yml", new), "--format", "json")
    assert run.code == 1, run.err
    assert ("malformed-certificate", "jumpbox_ssh") in run.rules
    conv = cli("diff", "--textconv", write_store("new.yml", new))
    assert conv.code == 0, conv.err
