"""The DER of an X.509 certificate, read and written field by field, so that a renewal keeps bytes, not meanings.

A renewed certificate must carry its predecessor's subject, public key and extensions byte for byte: a subject
re-encoded with another string type (``PrintableString`` -> ``UTF8String``) is another name to Go, whose parent
lookup compares issuer and subject DER, and an extension re-encoded by a library may differ from what bosh wrote.
So the to-be-signed part is assembled here from the old certificate's own bytes, with only the serial, the
issuer, the validity and the authority key identifier set anew (RFC 5280, section 4.1).

Only what certificates need is implemented: definite lengths, the universal types of a ``TBSCertificate`` and
context-specific tags. Anything else raises :class:`DerError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

SEQUENCE = 0x30
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
BOOLEAN = 0x01
OID = 0x06
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
#: ``[0] IMPLICIT`` primitive: the keyIdentifier of an AuthorityKeyIdentifier.
KEY_IDENTIFIER_TAG = 0x80
#: ``[0] EXPLICIT`` (the version) and ``[3] EXPLICIT`` (the extensions) of a TBSCertificate.
VERSION_TAG = 0xA0
EXTENSIONS_TAG = 0xA3

#: The DER of the OIDs a renewal sets or reads.
AUTHORITY_KEY_IDENTIFIER = bytes.fromhex("0603551d23")  # 2.5.29.35
SUBJECT_KEY_IDENTIFIER = bytes.fromhex("0603551d0e")  # 2.5.29.14

#: The last year UTCTime encodes; later times are GeneralizedTime (RFC 5280, 4.1.2.5).
LAST_UTC_TIME_YEAR = 2049


class DerError(ValueError):
    """Bytes that are not the DER this module reads."""


@dataclass(frozen=True, kw_only=True)
class Element:
    """One tag-length-value: ``raw`` is the whole encoding, ``content`` what the length covers."""

    tag: int
    raw: bytes
    content: bytes


def _span(data: bytes, offset: int) -> tuple[int, int]:
    """``(content start, end)`` of the element at ``offset``: where its value begins and the offset after it."""
    if offset + 2 > len(data):
        raise DerError("truncated element")
    if data[offset] & 0x1F == 0x1F:
        raise DerError("multi-byte tags are not used in certificates")
    first = data[offset + 1]
    start = offset + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    end = start + length
    if end > len(data):
        raise DerError("truncated element")
    return start, end


def read(data: bytes, offset: int = 0) -> tuple[Element, int]:
    """The element at ``offset`` and the offset after it."""
    start, end = _span(data, offset)
    return Element(tag=data[offset], raw=data[offset:end], content=data[start:end]), end


def parse(data: bytes) -> Element:
    """The single element that ``data`` holds entirely."""
    element, end = read(data)
    if end != len(data):
        raise DerError("trailing bytes")
    return element


def children(element: Element) -> tuple[Element, ...]:
    """The elements inside a constructed element, in order."""
    found: list[Element] = []
    offset = 0
    while offset < len(element.content):
        child, offset = read(element.content, offset)
        found.append(child)
    return tuple(found)


def encode(tag: int, content: bytes) -> bytes:
    """One tag-length-value, with the shortest length encoding (DER)."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def sequence(*parts: bytes) -> bytes:
    return encode(SEQUENCE, b"".join(parts))


def integer(value: int) -> bytes:
    """A non-negative INTEGER (a leading zero octet keeps it positive)."""
    if value < 0:
        raise DerError("negative integers are not written here")
    return encode(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def time(moment: datetime) -> bytes:
    """A validity time as RFC 5280 wants it: UTCTime through 2049, GeneralizedTime after; seconds, ``Z``."""
    moment = moment.astimezone(UTC)
    if moment.year <= LAST_UTC_TIME_YEAR:
        return encode(UTC_TIME, moment.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return encode(GENERALIZED_TIME, moment.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def bit_string(data: bytes) -> bytes:
    return encode(BIT_STRING, b"\x00" + data)


@dataclass(frozen=True, kw_only=True)
class Extension:
    """One extension as written: ``oid`` is the DER of its identifier, ``raw`` the whole Extension element."""

    oid: bytes
    critical: bool
    value: bytes
    raw: bytes


@dataclass(frozen=True, kw_only=True)
class Tbs:
    """The parts of a ``TBSCertificate``, each as its own DER (``unique_ids``: issuer and subject unique IDs)."""

    version: bytes
    serial: bytes
    signature: bytes
    issuer: bytes
    validity: bytes
    subject: bytes
    public_key: bytes
    unique_ids: tuple[bytes, ...]
    extensions: tuple[Extension, ...]


def tbs(data: bytes) -> Tbs:
    """The parts of the DER ``TBSCertificate`` ``data`` (a v3 certificate's, with or without extensions)."""
    parts = list(children(parse(data)))
    if not parts or parts[0].tag != VERSION_TAG:
        raise DerError("not a version 3 certificate")
    if len(parts) < 7:
        raise DerError("a TBSCertificate has at least seven parts")
    version, serial, signature, issuer, validity, subject, public_key, *rest = parts
    extensions: tuple[Extension, ...] = ()
    if rest and rest[-1].tag == EXTENSIONS_TAG:
        extensions = tuple(_extension(e) for e in children(parse(rest.pop().content)))
    return Tbs(
        version=version.raw,
        serial=serial.raw,
        signature=signature.raw,
        issuer=issuer.raw,
        validity=validity.raw,
        subject=subject.raw,
        public_key=public_key.raw,
        unique_ids=tuple(p.raw for p in rest),
        extensions=extensions,
    )


def _extension(element: Element) -> Extension:
    parts = children(element)
    if element.tag != SEQUENCE or len(parts) not in (2, 3) or parts[0].tag != OID or parts[-1].tag != OCTET_STRING:
        raise DerError("malformed extension")
    critical = len(parts) == 3 and parts[1].tag == BOOLEAN and parts[1].content != b"\x00"
    return Extension(oid=parts[0].raw, critical=critical, value=parts[-1].content, raw=element.raw)


def extension(oid: bytes, value: bytes, *, critical: bool) -> bytes:
    """An Extension element (``critical`` written only when true, as DER requires for a default)."""
    flag = encode(BOOLEAN, b"\xff") if critical else b""
    return sequence(oid, flag, encode(OCTET_STRING, value))


def authority_key_identifier(key_id: bytes) -> bytes:
    """The value of an AuthorityKeyIdentifier that holds only ``keyIdentifier`` (what bosh writes)."""
    return sequence(encode(KEY_IDENTIFIER_TAG, key_id))


def assemble_tbs(parts: Tbs) -> bytes:
    """A ``TBSCertificate`` from its parts."""
    extensions = encode(EXTENSIONS_TAG, sequence(*(e.raw for e in parts.extensions))) if parts.extensions else b""
    return sequence(
        parts.version,
        parts.serial,
        parts.signature,
        parts.issuer,
        parts.validity,
        parts.subject,
        parts.public_key,
        *parts.unique_ids,
        extensions,
    )


def certificate(tbs_der: bytes, algorithm: bytes, signature: bytes) -> bytes:
    """A ``Certificate``: the signed part, the signature algorithm (the DER of an AlgorithmIdentifier) and the
    signature."""
    return sequence(tbs_der, algorithm, bit_string(signature))


class Signed(NamedTuple):
    """What a signature check of a certificate reads, each as its DER: the signed part (``tbs``), the signature
    algorithm inside it and outside it, and the issuer and subject names. A named tuple rather than a frozen
    dataclass: one is built for every certificate of a store, and a tuple costs a fifth to build."""

    tbs: bytes
    inner_algorithm: bytes
    issuer: bytes
    subject: bytes
    algorithm: bytes


def signed(certificate_der: bytes) -> Signed:
    """The :class:`Signed` parts of the DER ``Certificate`` ``certificate_der``: one pass over the headers of the
    elements before the subject, nothing else read (a store's every certificate is read this way)."""
    data = certificate_der
    if not data or data[0] != SEQUENCE or _span(data, 0)[1] != len(data):
        raise DerError("not a certificate")
    tbs_start = _span(data, 0)[0]
    position, tbs_end = _span(data, tbs_start)
    if data[position] == VERSION_TAG:
        position = _span(data, position)[1]
    position = _span(data, position)[1]  # the serial
    spans = []
    for _ in range(4):  # signature algorithm, issuer, validity, subject
        end = _span(data, position)[1]
        if end > tbs_end or data[position] != SEQUENCE:
            raise DerError("a TBSCertificate has at least seven parts")
        spans.append((position, end))
        position = end
    (inner_start, inner_end), (issuer_start, issuer_end), _, (subject_start, subject_end) = spans
    algorithm_end = _span(data, tbs_end)[1]
    return Signed(
        tbs=data[tbs_start:tbs_end],
        inner_algorithm=data[inner_start:inner_end],
        issuer=data[issuer_start:issuer_end],
        subject=data[subject_start:subject_end],
        algorithm=data[tbs_end:algorithm_end],
    )


def signature_algorithm(certificate_der: bytes) -> bytes:
    """The DER of a certificate's outer signatureAlgorithm."""
    parts = children(parse(certificate_der))
    if len(parts) != 3:
        raise DerError("a Certificate has three parts")
    return parts[1].raw
