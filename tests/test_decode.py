from __future__ import annotations

# A certificate is decoded once and its parts read at load (what cryptography decodes lazily fails there), each
# distinct name is decoded once however many certificates carry it, a canonical PEM block is read as its DER,
# and an RSA signature is checked with the issuer's key as parsed once. Whatever the shortcut, the facts and the
# verdicts are those cryptography gives when asked part by part: each case below is a real certificate (made
# with cryptography, or a real one edited byte by byte) compared with cryptography's own answer.
import base64
import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import InvalidVersion
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from creds_lint import der, x509
from factory import make_ca, make_leaf, rsa_key

DER = serialization.Encoding.DER
SHA256_RSA_NULL = bytes.fromhex("300d06092a864886f70d01010b0500")
SHA256_RSA_BARE = bytes.fromhex("300b06092a864886f70d01010b")


@dataclass(frozen=True, kw_only=True)
class Facts:
    subject: str
    issuer: str
    subject_der: bytes
    issuer_der: bytes
    common_name: str
    key_der: bytes
    der: bytes
    self_signed: bool


def verifies(cert: cx509.Certificate, issuer: cx509.Certificate) -> bool:
    """cryptography's own verdict."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def reference(block: str) -> Facts | None:
    """The facts of ``block`` as cryptography gives them, every part read (the way creds-lint read them before
    it decoded a name once per name and loaded canonical blocks as DER); ``None`` when a part does not read."""
    try:
        cert = cx509.load_pem_x509_certificate(block.encode("ascii"))
        subject, issuer = cert.subject, cert.issuer
        _ = cert.extensions, cert.signature_hash_algorithm, cert.not_valid_before_utc, cert.not_valid_after_utc
        key_der = cert.public_key().public_bytes(DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, TypeError, UnsupportedAlgorithm, InvalidVersion):
        return None
    names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return Facts(
        subject=subject.rfc4514_string(),
        issuer=issuer.rfc4514_string(),
        subject_der=subject.public_bytes(),
        issuer_der=issuer.public_bytes(),
        common_name=str(names[0].value) if names else "",
        key_der=key_der,
        der=cert.public_bytes(DER),
        self_signed=issuer.rfc4514_string() == subject.rfc4514_string() and verifies(cert, cert),
    )


def ours(block: str) -> Facts | None:
    facts = x509.certificate_info(block)
    if facts is None:
        return None
    return Facts(
        subject=facts.subject,
        issuer=facts.issuer,
        subject_der=facts.subject_der,
        issuer_der=facts.issuer_der,
        common_name=facts.common_name,
        key_der=facts.key_der,
        der=facts.cert.public_bytes(DER),
        self_signed=facts.self_signed,
    )


def pem(data: bytes, *, width: int = 64, eol: str = "\n") -> str:
    text = base64.b64encode(data).decode("ascii")
    lines = [text[i : i + width] for i in range(0, len(text), width)]
    return eol.join(["-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----"])


@pytest.fixture(autouse=True)
def _fresh() -> None:
    x509.clear_caches()  # every case decodes for itself (a name decoded by an earlier case would hide nothing)


# --- PEM spellings -----------------------------------------------------------------------------------------


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _stray_bits(line: str) -> str:
    """The last base64 character before the padding with a bit set past the end of the DER: the same bytes to a
    lax decoder, but not canonical base64."""
    body = line.rstrip("=")
    return body[:-1] + ALPHABET[ALPHABET.index(body[-1]) | 1] + line[len(body) :]


def spellings(data: bytes) -> dict[str, str]:
    canonical = pem(data)
    head, *lines, tail = canonical.split("\n")
    body = base64.b64encode(data).decode("ascii")
    return {
        "canonical": canonical,
        "crlf": pem(data, eol="\r\n"),
        "76 columns": pem(data, width=76),
        "one line": pem(data, width=len(body)),
        "blank line after the header": "\n".join([head, "", *lines, tail]),
        "blank line inside": "\n".join([head, *lines[:3], "", *lines[3:], tail]),
        "header field": "\n".join([head, "Comment: x", "", *lines, tail]),
        "indented": "\n".join([head, *("  " + line for line in lines), tail]),
        "trailing spaces": "\n".join([head, *(line + " " for line in lines), tail]),
        "tab inside a line": "\n".join([head, lines[0][:10] + "\t" + lines[0][10:], *lines[1:], tail]),
        "no padding": "\n".join([head, *lines[:-1], lines[-1].rstrip("="), tail]),
        "extra padding": "\n".join([head, *lines, "==", tail]),
        "stray bits": "\n".join([head, *lines[:-1], _stray_bits(lines[-1]), tail]),
        "typo": "\n".join([head, "!" + lines[0][1:], *lines[1:], tail]),
        "non-ASCII": "\n".join([head, "é" + lines[0][1:], *lines[1:], tail]),
        "cut short": "\n".join([head, *lines]),
        "trailing garbage": pem(data + b"\x00\x00"),
        "no newline before the footer": "\n".join([head, *lines]) + tail,
    }


def _leaf_der() -> bytes:
    """A leaf's DER of a length that base64 pads (the names grow by one byte until it is)."""
    ca = make_ca("decode-ca", key_slot=0)
    for extra in range(3):
        cert = make_leaf("decode-leaf" + "x" * extra, ca, key_slot=9).cert_obj.public_bytes(DER)
        if len(cert) % 3:
            return cert
    raise AssertionError("no certificate of a length base64 pads")


@pytest.mark.parametrize("spelling", list(spellings(b"\x30\x00\x00\x00")))
def test_every_spelling_of_a_block_reads_as_cryptography_reads_it(spelling: str) -> None:
    (block,) = x509.split_pem_certificates(spellings(_leaf_der())[spelling])
    assert ours(block) == reference(block)


def test_only_the_canonical_spellings_take_the_short_way() -> None:
    # A test that can fail: the differential test above would pass if every block went through the PEM reader.
    data = _leaf_der()
    taken = {name for name, block in spellings(data).items() if block and x509._canonical_der(block) is not None}
    assert taken == {"canonical", "one line", "76 columns", "trailing garbage"}
    assert x509._canonical_der(pem(data)) == data


# --- names ---------------------------------------------------------------------------------------------------


def _cert(subject: cx509.Name, issuer: cx509.Name, key: rsa.RSAPrivateKey, signer: rsa.RSAPrivateKey) -> str:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    builder = (
        cx509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(12345)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
    )
    return builder.sign(signer, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode("ascii")


def _a(oid: cx509.ObjectIdentifier, value: str, kind: _ASN1Type | None = None) -> cx509.NameAttribute[str]:
    return cx509.NameAttribute(oid, value, _type=kind) if kind is not None else cx509.NameAttribute(oid, value)


ODD_NAMES = {
    "several values in one RDN": cx509.Name(
        [
            cx509.RelativeDistinguishedName([_a(NameOID.COMMON_NAME, "a"), _a(NameOID.ORGANIZATIONAL_UNIT_NAME, "b")]),
            cx509.RelativeDistinguishedName([_a(NameOID.COUNTRY_NAME, "US")]),
        ]
    ),
    "two common names": cx509.Name([_a(NameOID.COMMON_NAME, "first"), _a(NameOID.COMMON_NAME, "second")]),
    "BMPString": cx509.Name([_a(NameOID.COMMON_NAME, "bmp ☃", _ASN1Type.BMPString)]),
    "UniversalString": cx509.Name([_a(NameOID.COMMON_NAME, "univ 𝄞", _ASN1Type.UniversalString)]),
    "same text, other type": cx509.Name([_a(NameOID.COMMON_NAME, "twin", _ASN1Type.PrintableString)]),
    "characters RFC 4514 escapes": cx509.Name(
        [_a(NameOID.COMMON_NAME, '#lead, "q" + <a>; back\\slash \x00 end '), _a(NameOID.ORGANIZATION_NAME, " o")]
    ),
    "unknown attribute": cx509.Name([_a(cx509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), "x")]),
    "unique identifier": cx509.Name(
        [cx509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, b"\x01\x02", _type=_ASN1Type.BitString)]
    ),
    "empty": cx509.Name([]),
}


@pytest.mark.parametrize("name", list(ODD_NAMES))
def test_odd_names_give_the_facts_cryptography_gives(name: str) -> None:
    odd, key, other = ODD_NAMES[name], rsa_key(0), rsa_key(1)
    twin = cx509.Name([_a(NameOID.COMMON_NAME, "twin", _ASN1Type.UTF8String)])
    # self-signed; issued under the odd name; and named by the odd name as issuer, by another key
    blocks = [_cert(odd, odd, key, key), _cert(twin, odd, other, key), _cert(odd, twin, key, other)]
    for block in blocks:
        assert ours(block) == reference(block)
    # the odd name is decoded once for all three (by the first that carries it), and formatting it never fails
    issued = x509.certificate_info(blocks[1])
    assert issued is not None
    assert issued._issuer is x509.certificate_info(blocks[0])._subject  # type: ignore[union-attr]
    assert issued.issuer == odd.rfc4514_string()


def test_the_same_text_in_another_string_type_is_another_issuer() -> None:
    # CN=twin as PrintableString and as UTF8String: one text, two names (verifiers compare DER); a certificate
    # that names itself in one and is issued in the other is not self-signed.
    key = rsa_key(0)
    printable = cx509.Name([_a(NameOID.COMMON_NAME, "twin", _ASN1Type.PrintableString)])
    utf8 = cx509.Name([_a(NameOID.COMMON_NAME, "twin", _ASN1Type.UTF8String)])
    block = _cert(printable, utf8, key, key)
    facts = x509.certificate_info(block)
    assert facts is not None
    assert facts.subject == facts.issuer
    assert facts.subject_der != facts.issuer_der
    assert not facts.self_signed
    assert ours(block) == reference(block)


def _patched(block: str, find: bytes, replacement: bytes) -> str:
    data = cx509.load_pem_x509_certificate(block.encode("ascii")).public_bytes(DER)
    at = data.index(find)
    return pem(data[:at] + replacement + data[at + len(replacement) :])


def test_a_name_that_does_not_decode_is_never_taken_from_another_certificate() -> None:
    # Two certificates carry the issuer CN=ca; in the second its bytes no longer decode (an invalid UTF8String).
    # The first one's decoded issuer is kept by its DER: the second's DER differs, so it is decoded for itself,
    # and fails at load.
    key = rsa_key(0)
    ca = cx509.Name([_a(NameOID.COMMON_NAME, "ca", _ASN1Type.PrintableString)])
    leaf = cx509.Name([_a(NameOID.COMMON_NAME, "leaf", _ASN1Type.PrintableString)])
    good = _cert(leaf, ca, key, key)
    bad = _patched(good, b"\x13\x02ca", b"\x0c\x02\xff\xfe")
    assert x509.certificate_info(good) is not None
    assert reference(bad) is None
    assert x509.certificate_info(bad) is None
    assert x509.load_certificate(bad) is None
    # and a subject that does not decode, the same way
    worse = _patched(good, b"\x13\x04leaf", b"\x0c\x04\xff\xfe\xfd\xfc")
    assert reference(worse) is None
    assert x509.certificate_info(worse) is None


# --- signatures ----------------------------------------------------------------------------------------------


def _resigned(cert: cx509.Certificate, key: rsa.RSAPrivateKey, *, inner: bytes, outer: bytes) -> cx509.Certificate:
    """``cert`` with the signature algorithm written ``inner`` in the signed part and ``outer`` outside it,
    signed again by ``key`` over the new signed part (a real signature either way)."""
    parts = der.tbs(cert.tbs_certificate_bytes)
    tbs = der.assemble_tbs(
        der.Tbs(
            version=parts.version,
            serial=parts.serial,
            signature=inner,
            issuer=parts.issuer,
            validity=parts.validity,
            subject=parts.subject,
            public_key=parts.public_key,
            unique_ids=parts.unique_ids,
            extensions=parts.extensions,
        )
    )
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return cx509.load_der_x509_certificate(der.certificate(tbs, outer, signature))


def _flipped(cert: cx509.Certificate, *, in_signature: bool) -> cx509.Certificate:
    """``cert`` with one bit changed in its signature, or in its serial (the signed part)."""
    data = bytearray(cert.public_bytes(DER))
    data[-5 if in_signature else data.index(b"\xa0\x03\x02\x01\x02\x02") + 7] ^= 1
    return cx509.load_der_x509_certificate(bytes(data))


def signature_cases() -> dict[str, cx509.Certificate]:
    root = make_ca("sig-root", key_slot=0)
    twin = make_ca("sig-root", key_slot=1)  # the same subject, another key
    alias = make_ca("sig-alias", key_slot=0)  # the same key, another subject
    inter = make_ca("sig-inter", key_slot=2, signer=root)
    leaf = make_leaf("sig-leaf", inter, key_slot=9)
    root_key = rsa_key(0)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_name = cx509.Name([_a(NameOID.COMMON_NAME, "sig-ec")])
    ec_root = (
        cx509.CertificateBuilder()
        .subject_name(ec_name)
        .issuer_name(ec_name)
        .public_key(ec_key.public_key())
        .serial_number(7)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .sign(ec_key, hashes.SHA256())
    )
    pss = (
        cx509.CertificateBuilder()
        .subject_name(cx509.Name([_a(NameOID.COMMON_NAME, "sig-pss")]))
        .issuer_name(root.cert_obj.subject)
        .public_key(rsa_key(9).public_key())
        .serial_number(8)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .sign(root_key, hashes.SHA256(), rsa_padding=padding.PSS(padding.MGF1(hashes.SHA256()), 32))
    )
    sha384 = (
        cx509.CertificateBuilder()
        .subject_name(cx509.Name([_a(NameOID.COMMON_NAME, "sig-384")]))
        .issuer_name(root.cert_obj.subject)
        .public_key(rsa_key(9).public_key())
        .serial_number(9)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .sign(root_key, hashes.SHA384())
    )
    by_root = make_leaf("sig-direct", root, key_slot=9).cert_obj
    return {
        "root": root.cert_obj,
        "twin": twin.cert_obj,
        "alias": alias.cert_obj,
        "intermediate": inter.cert_obj,
        "leaf": leaf.cert_obj,
        "direct": by_root,
        "bare parameters": _resigned(by_root, root_key, inner=SHA256_RSA_BARE, outer=SHA256_RSA_BARE),
        "inner and outer differ": _resigned(by_root, root_key, inner=SHA256_RSA_NULL, outer=SHA256_RSA_BARE),
        "signature flipped": _flipped(by_root, in_signature=True),
        "signed part flipped": _flipped(by_root, in_signature=False),
        "sha384": sha384,
        "pss": pss,
        "ec root": ec_root,
    }


def test_every_signature_verdict_is_cryptographys() -> None:
    cases = signature_cases()
    verdicts = {}
    for (a_name, a), (b_name, b) in itertools.product(cases.items(), repeat=2):
        expected = verifies(a, b)
        assert x509.signed_by(a, b) == expected, (a_name, b_name)
        verdicts[a_name, b_name] = expected
    # the cases mean something: each check the short way makes is what decides one of them
    for signed, signer in (
        ("direct", "root"),
        ("bare parameters", "root"),
        ("sha384", "root"),
        ("pss", "root"),
        ("ec root", "ec root"),
        ("leaf", "intermediate"),
        ("intermediate", "root"),
    ):
        assert verdicts[signed, signer], (signed, signer)
    assert not verdicts["direct", "alias"]  # the key verifies, the names differ
    assert not verdicts["direct", "twin"]  # the names match, the key does not verify
    assert not verdicts["inner and outer differ", "root"]  # a valid signature, two algorithms
    assert not verdicts["signature flipped", "root"]
    assert not verdicts["signed part flipped", "root"]


def test_a_short_way_signature_check_is_cryptographys_own_check_over_the_same_bytes() -> None:
    # The signed part the short way verifies is the one cryptography verifies, and the name and algorithms it
    # compares are the bytes cryptography compares.
    for cert in signature_cases().values():
        signed = x509.info(cert)._signed
        assert signed.tbs == cert.tbs_certificate_bytes
        assert signed.algorithm == der.signature_algorithm(cert.public_bytes(DER))
        (block,) = x509.split_pem_certificates(cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))
        assert x509._canonical_der(block) == cert.public_bytes(DER)
