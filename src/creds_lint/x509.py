"""Small pure helpers on ``cryptography``: parse once, fingerprint, compare key pairs, check signatures.

``cryptography`` is imported lazily so that a run with nothing to inspect (identical files, passwords only) never
pays for it. Every parse is cached by the PEM text, so each certificate and key is parsed once per run: the caches
live as long as the run that fills them (:func:`clear_caches`, called by :func:`creds_lint.process.run_scope`
around each run of the CLI), and are bounded for a library caller that never clears them.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from creds_lint import der
from creds_lint.memo import cached

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

_CERT_MARKER = "-----BEGIN CERTIFICATE-----"
#: Entries per cache: every certificate and key of two 10,000-entry var-stores, so that nothing is parsed twice
#: in a run (an LRU cache smaller than the working set misses on every access).
_CACHE = 1 << 16


class CertInfo:
    """What may be shown about a certificate: never the PEM, never a key.

    Each fact is worked out when first asked for: a run names every changed certificate but needs the key size
    or the alternative names of few, and every fact costs Python objects built from the parsed certificate.
    Facts worked out on another CPU (:func:`shipped`, :func:`adopt`) arrive as values, and the certificate they
    were read from is then parsed again only when something asks for it.
    """

    #: The facts that are plain values (no ``cryptography`` object) and that the rules ask of a changed
    #: certificate: what :func:`shipped` sends. Any other is worked out where it is asked for.
    SHIPPED = (
        "common_name",
        "serial",
        "not_before",
        "not_after",
        "subject_der",
        "usages",
        "key_der",
        "is_ca",
        "self_signed",
        "signs_certificates",
        "sans",
        "label",
        "key_strength",
    )

    def __init__(self, cert: x509.Certificate) -> None:
        self.__dict__["cert"] = cert

    @classmethod
    def adopted(cls, pem: str, facts: Mapping[str, object]) -> CertInfo:
        """The facts of the certificate ``pem`` begins with, as :func:`shipped` gave them."""
        adopted = cls.__new__(cls)
        adopted.__dict__.update(facts, _pem=pem)
        return adopted

    def __repr__(self) -> str:
        return f"CertInfo({self.label})"

    def read_all(self, data: bytes | None) -> None:
        """Read every part of the certificate that a check uses (``data``: its DER, when the loader has it), so
        that what ``cryptography`` decodes lazily (the subject, the issuer, the key, the extensions, the signature
        algorithm) fails here, while loading, and never later in a rule: a certificate whose parts cannot all be
        read counts as one that does not parse. What is read is kept; the names are formatted only for the
        messages, which cannot fail (:meth:`_Name.text`)."""
        if data is not None:
            self.__dict__.setdefault("_data", data)
        _ = self._subject, self._issuer, self.key_der, self.not_before, self.not_after
        _ = self.cert.extensions, self.cert.signature_hash_algorithm

    @cached
    def cert(self) -> x509.Certificate:
        """The certificate, for adopted facts: parsed when first asked for (it parsed, and every part of it was
        read, where the facts were worked out)."""
        cert, data = _parse(split_pem_certificates(self.__dict__["_pem"])[0])
        if data is not None:
            self.__dict__.setdefault("_data", data)
        _ADOPTED[cert] = self  # info(cert) gives these facts, not new ones worked out from the certificate
        return cert

    @cached
    def _signed(self) -> der.Signed:
        """The parts of the certificate's DER that a signature check compares: the DER it was loaded from, or the
        DER ``cryptography`` writes, which is the same (it reads DER strictly, and writes back what it read)."""
        data = self.__dict__.get("_data")
        return der.signed(data if isinstance(data, bytes) else certificate_der(self.cert))

    @cached
    def _subject(self) -> _Name:
        signed = self._signed.subject
        known = _NAMES.get(signed)
        return known if known is not None else _known(signed, self.cert.subject)

    @cached
    def _issuer(self) -> _Name:
        """The issuer, decoded by ``cryptography`` unless a name with the same DER was (the subject of the CA that
        signed it, or the issuer of another certificate it signed)."""
        signed = self._signed.issuer
        known = _NAMES.get(signed)
        return known if known is not None else _known(signed, self.cert.issuer)

    @cached
    def _key(self) -> PublicKeyTypes:
        return self.cert.public_key()

    @cached
    def common_name(self) -> str:
        from cryptography.x509.oid import NameOID

        for rdn in self._subject.name.rdns:  # the first, as get_attributes_for_oid lists them (at a third the cost)
            for attribute in rdn:
                if attribute.oid == NameOID.COMMON_NAME:
                    return str(attribute.value)
        return ""

    @cached
    def subject(self) -> str:
        return self._subject.text

    @cached
    def issuer(self) -> str:
        return self._issuer.text

    @cached
    def serial(self) -> str:
        return format(self.cert.serial_number, "x")

    @cached
    def not_before(self) -> datetime:
        return self.cert.not_valid_before_utc

    @cached
    def not_after(self) -> datetime:
        return self.cert.not_valid_after_utc

    @cached
    def fingerprint(self) -> str:
        from cryptography.hazmat.primitives import hashes

        return "sha256:" + self.cert.fingerprint(hashes.SHA256()).hex()[:8]

    @cached
    def subject_der(self) -> bytes:
        """The subject as DER (re-encoded with the string types it was written with): how verifiers match a
        certificate to its issuer, never by its text. ``creds_lint.der`` reads the bytes as written, at 15 times
        the cost, where a renewal must keep them."""
        return self._subject.der

    @cached
    def issuer_der(self) -> bytes:
        return self._issuer.der

    @cached
    def usages(self) -> tuple[str, ...]:
        return extended_key_usages(self.cert)

    @cached
    def key_der(self) -> bytes:
        """The DER SubjectPublicKeyInfo of the certificate's key: who the certificate is, with the subject."""
        return public_key_der(self._key)

    @cached
    def key_id(self) -> str:
        """A short fingerprint of the certificate's key pair (as :func:`key_id`)."""
        return "sha256:" + hashlib.sha256(self.key_der).hexdigest()[:8]

    @cached
    def is_ca(self) -> bool:
        """BasicConstraints CA=true."""
        from cryptography import x509

        try:
            return bool(self.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
        except x509.ExtensionNotFound:
            return False
        except ValueError:  # a malformed extension
            return False

    @cached
    def self_signed(self) -> bool:
        """Whether the certificate names itself as issuer and its own key verifies its signature (a root). The names
        are compared as DER, as the signature check does (the same name in text may be another name in DER)."""
        return self._signed.issuer == self._signed.subject and self.signed_by(self)

    @cached
    def signs_certificates(self) -> bool:
        """Whether verifiers accept the certificate as the issuer of other certificates: BasicConstraints CA=true
        and, when it has a KeyUsage extension, ``keyCertSign`` in it."""
        from cryptography import x509

        if not self.is_ca:
            return False
        try:
            return bool(self.cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign)
        except x509.ExtensionNotFound:
            return True
        except ValueError:  # a malformed extension
            return False

    @cached
    def sans(self) -> tuple[str, ...]:
        from cryptography import x509

        try:
            san = self.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        except (x509.ExtensionNotFound, ValueError):
            return ()
        return tuple(sorted(str(v) for v in san.get_values_for_type(x509.DNSName))) + tuple(
            sorted(str(v) for v in san.get_values_for_type(x509.IPAddress))
        )

    @cached
    def label(self) -> str:
        """``CN=..., serial ..., expires YYYY-MM-DD``: how messages name the certificate."""
        serial = self.serial if len(self.serial) <= 16 else self.serial[:16] + "…"
        return f"CN={self.common_name}, serial {serial}, expires {self.not_after:%Y-%m-%d}"

    @cached
    def key_bits(self) -> int | None:
        try:
            return key_bits(self._key)
        except (ValueError, TypeError):  # pragma: no cover - unsupported key algorithm
            return None

    @cached
    def key_strength(self) -> tuple[str, int] | None:
        """``(algorithm, bits)`` of the certificate's key (``("RSA", 3072)``), as :func:`key_type` and
        :func:`key_bits` give them: what ``weaker-key`` compares; ``None`` for a key without a size."""
        bits = self.key_bits
        return (key_type(self._key), bits) if bits is not None else None

    def days_left(self, now: datetime) -> int:
        """The whole days the certificate has left: the floor of ``(not_after - now) / 1 day``, negative once it
        has expired. 35.5 days ahead is 35; 35.5 days ago is -36, said as "36 days ago"; 12 hours ago is -1, never
        0. The one rounding of days left: rule messages, the text table, JSON and ``rotate plan`` use it."""
        return (self.not_after - now).days  # timedelta.days is the floor of the difference in days

    def signed_by(self, issuer: CertInfo) -> bool:
        """Whether ``issuer``'s key signed this certificate and ``issuer``'s subject is its issuer, as
        ``verify_directly_issued_by`` says. An RSA PKCS #1 v1.5 signature (what bosh, CredHub and openssl write)
        is verified here with the issuer's key as parsed once, over the same bytes, after the same checks of
        names and algorithms: ``cryptography``'s check loads the key again for each certificate, which costs as
        much as the signature. Any other signature is left to ``cryptography``."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        try:
            own = self._signed
            digest = _rsa_pkcs1().get(own.algorithm)
            key = issuer._key
            if (
                digest is not None
                and own.inner_algorithm == own.algorithm
                and own.issuer == issuer._signed.subject
                and isinstance(key, rsa.RSAPublicKey)
            ):
                key.verify(self.cert.signature, own.tbs, padding.PKCS1v15(), digest)
            else:
                self.cert.verify_directly_issued_by(issuer.cert)
        except InvalidSignature:
            return False
        except unreadable():
            return False
        return True


def same_certificate(a: CertInfo, b: CertInfo) -> bool:
    """Whether ``a`` and ``b`` are facts of the same certificate (the same DER). Facts that every re-issue changes
    (the serial, the validity, the key) tell most apart; only when they all agree are the certificates compared,
    which parses again a certificate whose facts came from another CPU."""
    if a is b:
        return True
    if a.serial != b.serial or a.not_before != b.not_before or a.not_after != b.not_after or a.key_der != b.key_der:
        return False
    return a.cert == b.cert


def now_utc() -> datetime:
    return datetime.now(UTC)


def split_pem_certificates(text: str) -> tuple[str, ...]:
    """Every certificate PEM block in ``text`` (a trust field may concatenate several CAs)."""
    blocks: list[str] = []
    start = text.find(_CERT_MARKER)
    while start != -1:
        end = text.find("-----END CERTIFICATE-----", start)
        if end == -1:
            blocks.append(text[start:])
            break
        end += len("-----END CERTIFICATE-----")
        blocks.append(text[start:end])
        start = text.find(_CERT_MARKER, end)
    return tuple(blocks)


_BEGIN = "-----BEGIN "
_DASHES = "-----"


@lru_cache(maxsize=_CACHE)
def _pem_scan(text: str) -> tuple[tuple[tuple[str, str], ...], bool]:
    """``(blocks, text outside)``: each ``-----BEGIN LABEL-----`` up to its ``-----END LABEL-----`` (or the end of
    ``text`` when it is cut short), and whether anything but whitespace lies outside the blocks. One pass of
    ``str.find``: every key and certificate field of a store is scanned, some of them twice."""
    blocks: list[tuple[str, str]] = []
    outside = False
    position = 0
    start = text.find(_BEGIN)
    while start != -1:
        label_start = start + len(_BEGIN)
        label_end = text.find(_DASHES, label_start)
        if label_end == -1 or "\n" in text[label_start:label_end] or "\r" in text[label_start:label_end]:
            start = text.find(_BEGIN, start + 1)
            continue
        label = text[label_start:label_end]
        footer = f"-----END {label}-----"
        end = text.find(footer, label_end + len(_DASHES))
        end = len(text) if end == -1 else end + len(footer)
        outside = outside or bool(text[position:start].strip())
        blocks.append((label, text[start:end]))
        position = end
        start = text.find(_BEGIN, end)
    return tuple(blocks), outside or bool(text[position:].strip())


def pem_blocks(text: str) -> tuple[tuple[str, str], ...]:
    """``(label, block)`` of every PEM block in ``text``, whatever its type (a block cut short runs to the end).

    The label is text from the file: show :func:`pem_kind` instead."""
    return _pem_scan(text)[0]


def pem_kind(label: str) -> str:
    """What a PEM block holds, in words, from its label (``RSA PRIVATE KEY`` -> ``private key``)."""
    for kind in ("private key", "public key", "certificate"):
        if kind.upper() in label:
            return kind
    return "unknown PEM type"


def outside_pem(text: str) -> str:
    """What ``text`` holds outside its PEM blocks, stripped (a secret, like the blocks: never show it)."""
    parts, position = [], 0
    for _, block in pem_blocks(text):
        start = text.index(block, position)
        parts.append(text[position:start])
        position = start + len(block)
    parts.append(text[position:])
    return "\n".join(part.strip() for part in parts if part.strip())


def text_outside_pem(text: str) -> bool:
    """Whether ``text`` holds anything but whitespace outside its PEM blocks."""
    return _pem_scan(text)[1]


@lru_cache(maxsize=_CACHE)
def load_certificate(pem: str) -> x509.Certificate | None:
    """The first certificate in ``pem``, or ``None`` when it does not parse.

    Only the first: a field that holds more (a bundle, or a CA pasted after the certificate) is told apart by
    :func:`load_certificates` and :func:`pem_blocks`, never here."""
    facts = certificate_info(pem)
    return facts.cert if facts is not None else None


def _parse(block: str) -> tuple[x509.Certificate, bytes | None]:
    """The certificate of a PEM block, and its DER when the block is canonical (:func:`_canonical_der`)."""
    from cryptography import x509

    data = _canonical_der(block)
    if data is not None:
        return x509.load_der_x509_certificate(data), data
    return x509.load_pem_x509_certificate(block.encode("ascii")), None


_HEAD = _CERT_MARKER + "\n"
_TAIL = "\n-----END CERTIFICATE-----"


def _canonical_der(block: str) -> bytes | None:
    """The DER of a certificate block written as bosh, openssl and ``cryptography`` write one (its header line,
    the canonical base64 of the DER in lines, its footer; nothing else), or ``None`` for any other block.

    ``cryptography``'s PEM reader gives these same bytes for such a block (there is no header to skip and no
    other character to drop), so the certificate is loaded from them: the PEM reader costs more than loading the
    DER, and the DER is what the signature checks read. Any other block is left to the PEM reader."""
    if not block.startswith(_HEAD) or not block.endswith(_TAIL) or "\n\n" in block:
        return None
    body = block[len(_HEAD) : -len(_TAIL)].replace("\n", "")
    try:
        data = binascii.a2b_base64(body)
        canonical = binascii.b2a_base64(data, newline=False) == body.encode("ascii")
    except ValueError:  # not ASCII (binascii.Error, UnicodeEncodeError)
        return None
    return data if canonical else None


@lru_cache(maxsize=_CACHE)
def certificate_info(pem: str) -> CertInfo | None:
    """The facts of the first certificate in ``pem``, or ``None`` when it does not parse or a part of it does
    not read (:meth:`CertInfo.read_all`): looked up by the text, which costs less than by the certificate
    (hashing a certificate hashes its parsed structure), and every rule asks for facts of the certificates it
    names."""
    if pem in _SEEDS:
        return _SEEDS[pem]
    blocks = split_pem_certificates(pem)
    if not blocks:
        return None
    try:
        cert, data = _parse(blocks[0])
        facts = info(cert)
        facts.read_all(data)
    except unreadable():
        return None
    return facts


#: Facts of certificates worked out on another CPU, by the PEM text they were read from (``None``: it does not
#: parse); consulted when a text is first asked for, emptied with the caches (:func:`clear_caches`).
_SEEDS: dict[str, CertInfo | None] = {}
#: The adopted facts of each certificate parsed again for them (:attr:`CertInfo.cert`), until :func:`info` takes
#: them.
_ADOPTED: dict[x509.Certificate, CertInfo] = {}


def shipped(pem: str, *, every: bool = True) -> dict[str, object] | None:
    """The plain facts of the certificate ``pem`` begins with, to send to the process that will :func:`adopt`
    them: every one of :attr:`CertInfo.SHIPPED` (``every``), or those worked out already; ``None`` when it does
    not parse."""
    facts = certificate_info(pem)
    if facts is None:
        return None
    known = vars(facts)
    return {name: getattr(facts, name) for name in CertInfo.SHIPPED if every or name in known}


def adopt(found: Mapping[str, Mapping[str, object] | None]) -> None:
    """Take the facts :func:`shipped` gave for each PEM text: a text asked for from now on is answered with them
    (the same facts this process would work out). Bounded as the caches are: a library caller that never clears
    them forgets the oldest run's facts first."""
    if len(_SEEDS) + len(found) > _CACHE:
        _SEEDS.clear()
        _ADOPTED.clear()
    for pem, facts in found.items():
        _SEEDS.setdefault(pem, CertInfo.adopted(pem, facts) if facts is not None else None)


@lru_cache(maxsize=1)
def unreadable() -> tuple[type[Exception], ...]:
    """What ``cryptography`` raises for a certificate or key it cannot read: bad base64 or DER, a bad version,
    an unknown algorithm identifier, a name or extension that does not decode."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.x509 import InvalidVersion

    return (ValueError, TypeError, UnsupportedAlgorithm, InvalidVersion)


@lru_cache(maxsize=_CACHE)
def load_certificates(pem: str) -> tuple[x509.Certificate, ...] | None:
    """All certificates in ``pem`` (a concatenated trust field), or ``None`` if any block does not parse."""
    certs = []
    for block in split_pem_certificates(pem):
        cert = load_certificate(block)
        if cert is None:
            return None
        certs.append(cert)
    return tuple(certs) if certs else None


@lru_cache(maxsize=_CACHE)
def load_private_key(pem: str) -> PrivateKeyTypes | None:
    """A PEM private key (PKCS#1, PKCS#8, SEC1 EC), or ``None`` when it does not parse or is encrypted.

    OpenSSL's RSA key check costs ~100 ms per 3072-bit key (seconds for a var-store); the arithmetic that makes
    an RSA key consistent (``p * q == n``, ``e * d == 1 mod lcm(p - 1, q - 1)``) is checked here instead, in
    microseconds, so a corrupted key still counts as one that does not parse.
    """
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = _parse_private_key(pem)
    if isinstance(key, rsa.RSAPrivateKey) and not _consistent_rsa(key.private_numbers()):
        return None
    return key


@lru_cache(maxsize=_CACHE)
def _parse_private_key(pem: str) -> PrivateKeyTypes | None:
    """A PEM private key as it parses, without OpenSSL's (slow) RSA consistency check; ``None`` otherwise."""
    from cryptography.hazmat.primitives import serialization

    try:
        return serialization.load_pem_private_key(
            pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
        )
    except unreadable():
        return None


def _consistent_rsa(numbers: rsa.RSAPrivateNumbers) -> bool:
    """Whether ``p * q == n`` and ``e * d == 1`` modulo ``lcm(p - 1, q - 1)``: the latter as ``e * d - 1``
    divisible by both ``p - 1`` and ``q - 1``, which is the same and needs no gcd (most of the check's cost). An
    RSA prime is odd: a factor below 3 is no key."""
    p, q, d = numbers.p, numbers.q, numbers.d
    n, e = numbers.public_numbers.n, numbers.public_numbers.e
    if p < 3 or q < 3 or p * q != n:
        return False
    unit = e * d - 1
    return unit % (p - 1) == 0 and unit % (q - 1) == 0


@lru_cache(maxsize=_CACHE)
def load_public_key(text: str) -> PublicKeyTypes | None:
    """A public key as PEM (PKIX or PKCS#1) or OpenSSH (``ssh-rsa AAAA...``), or ``None``."""
    from cryptography.hazmat.primitives import serialization

    data = text.strip().encode("ascii", "replace")
    try:
        if data.startswith(b"-----BEGIN"):
            return serialization.load_pem_public_key(data)
        return serialization.load_ssh_public_key(data)
    except unreadable():
        return None


def certificate_der(cert: x509.Certificate) -> bytes:
    """The DER of a certificate (what ``cryptography`` read, written back as it was read)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)


def public_key_der(key: PublicKeyTypes | PrivateKeyTypes) -> bytes:
    """DER SubjectPublicKeyInfo of a key, the identity of a key pair whatever its encoding."""
    public = key.public_key() if hasattr(key, "public_key") else key
    return public.public_bytes(*_spki())


@lru_cache(maxsize=1)
def _spki() -> tuple[serialization.Encoding, serialization.PublicFormat]:
    """The encoding of :func:`public_key_der` (imported once: it is asked for every key of a store)."""
    from cryptography.hazmat.primitives import serialization

    return serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo


@lru_cache(maxsize=_CACHE)
def private_key_der(pem: str) -> bytes | None:
    """:func:`public_key_der` of a PEM private key (as :func:`load_private_key` reads it), or ``None``: the key
    pair a private key belongs to, worked out once per key of a run (each check that matches keys asks)."""
    key = load_private_key(pem)
    return public_key_der(key) if key is not None else None


def key_id(key: PublicKeyTypes | PrivateKeyTypes) -> str:
    """A short fingerprint of a key pair: SHA-256 of its public key."""
    return "sha256:" + hashlib.sha256(public_key_der(key)).hexdigest()[:8]


def key_bits(key: PublicKeyTypes | PrivateKeyTypes) -> int | None:
    size = getattr(key, "key_size", None)
    return size if isinstance(size, int) else None


def is_ca(cert: x509.Certificate) -> bool:
    """BasicConstraints CA=true (:attr:`CertInfo.is_ca`)."""
    return info(cert).is_ca


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer``'s key signed ``cert`` and ``issuer``'s subject is ``cert``'s issuer
    (:meth:`CertInfo.signed_by`)."""
    return info(cert).signed_by(info(issuer))


class _Name:
    """A distinguished name as ``cryptography`` decodes it, and what is shown of it (its RFC 4514 text) and
    compared (its DER as re-encoded), each worked out once per name: a CA's subject is the issuer of each
    certificate it signed."""

    def __init__(self, name: x509.Name) -> None:
        self.name = name

    @cached
    def text(self) -> str:
        """Formatting a decoded name cannot fail (text and hex of its values): it is left for the messages."""
        return self.name.rfc4514_string()

    @cached
    def der(self) -> bytes:
        return self.name.public_bytes()


#: Every name decoded in the run, by its DER as written (:attr:`CertInfo._subject`, :attr:`CertInfo._issuer`).
#: The same bytes decode to the same name, so a name found here cannot fail to decode for another certificate.
_NAMES: dict[bytes, _Name] = {}


def _known(signed: bytes, name: x509.Name) -> _Name:
    """``name``, decoded from the DER ``signed``, kept for the next certificate that carries it."""
    if len(_NAMES) >= _CACHE:
        _NAMES.clear()
    known = _NAMES[signed] = _Name(name)
    return known


@lru_cache(maxsize=1)
def _rsa_pkcs1() -> dict[bytes, hashes.HashAlgorithm]:
    """The digest of each RSA PKCS #1 v1.5 signature algorithm, by the DER of its AlgorithmIdentifier (with the
    NULL parameters RFC 4055 asks for, or none)."""
    from cryptography.hazmat.primitives import hashes

    found: dict[bytes, hashes.HashAlgorithm] = {}
    for last, digest in ((0x0B, hashes.SHA256()), (0x0C, hashes.SHA384()), (0x0D, hashes.SHA512())):
        oid = bytes.fromhex("06092a864886f70d0101") + bytes((last,))
        found[der.sequence(oid, bytes.fromhex("0500"))] = digest
        found[der.sequence(oid)] = digest
    return found


def info(cert: x509.Certificate) -> CertInfo:
    """The facts of ``cert``, the same for every certificate equal to it. Looked up by the object first: hashing
    a certificate hashes its parsed structure, and the rules ask for the facts of the same objects many times."""
    found = _INFO.get(id(cert))
    if found is not None and found[0] is cert:
        return found[1]
    facts = _info(cert)
    if len(_INFO) >= _CACHE:
        _INFO.clear()
    _INFO[id(cert)] = (cert, facts)  # the certificate is held here, so that its id is not reused meanwhile
    return facts


@lru_cache(maxsize=_CACHE)
def _info(cert: x509.Certificate) -> CertInfo:
    adopted = _ADOPTED.pop(cert, None) if _ADOPTED else None
    return adopted if adopted is not None else CertInfo(cert)


#: :func:`info` by the id of each certificate object asked about.
_INFO: dict[int, tuple[x509.Certificate, CertInfo]] = {}


def same_key_pair(a: PublicKeyTypes | PrivateKeyTypes, b: PublicKeyTypes | PrivateKeyTypes) -> bool:
    return public_key_der(a) == public_key_der(b)


def certificate_key(cert: x509.Certificate) -> PublicKeyTypes | None:
    try:
        return cert.public_key()
    except (ValueError, TypeError):  # pragma: no cover - unsupported key algorithm
        return None


@lru_cache(maxsize=8192)
def describe_private_key(pem: str) -> tuple[str, int | None, str] | None:
    """``(algorithm, bits, key id)`` of a PEM private key for display, or ``None`` when it does not parse.

    Only the public half is used, so the RSA consistency checks (slow for large keys) are skipped: this is for
    showing which key a value holds, never for deciding whether a key is sound.
    """
    key = _parse_private_key(pem)
    if key is None:
        return None
    algorithm = type(key).__name__.removeprefix("_").replace("PrivateKey", "").lower() or "key"
    return algorithm, key_bits(key), key_id(key)


def key_identifiers(cert: x509.Certificate) -> tuple[bytes | None, bytes | None]:
    """``(subject key id, authority key id)`` as written in the certificate's extensions, never recomputed.

    bosh writes the SKID as the SHA-1 of the modulus, not the RFC 5280 method; comparing the values found in the
    certificates is the only reliable way to match an AKID to its CA.
    """
    from cryptography import x509

    skid: bytes | None = None
    akid: bytes | None = None
    try:
        skid = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except (x509.ExtensionNotFound, ValueError):
        skid = None
    try:
        akid = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except (x509.ExtensionNotFound, ValueError):
        akid = None
    return skid, akid


def self_signed(cert: x509.Certificate) -> bool:
    """Whether ``cert`` names itself as issuer and its own key verifies its signature (a root)."""
    return info(cert).self_signed


def key_type(key: PublicKeyTypes | PrivateKeyTypes) -> str:
    """``RSA``, ``EC``, ``Ed25519``...: the algorithm of a key, to compare key sizes only within one algorithm
    (worked out once per class of key: a store's keys are of few)."""
    kind = type(key)
    found = _KEY_TYPES.get(kind)
    if found is None:
        found = _KEY_TYPES[kind] = _key_type(key)
    return found


#: :func:`key_type` by the class of the key.
_KEY_TYPES: dict[type, str] = {}


def _key_type(key: PublicKeyTypes | PrivateKeyTypes) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return "EC"
    return type(key).__name__.removeprefix("_").removesuffix("PrivateKey").removesuffix("PublicKey")


def ssh_fingerprints(key: PublicKeyTypes | PrivateKeyTypes) -> tuple[str, str] | None:
    """``(MD5 colon hex, "SHA256:" base64)`` of a key's OpenSSH blob, as bosh (MD5) and OpenSSH (SHA256) write
    them; ``None`` for a key type OpenSSH cannot encode."""
    import base64

    from cryptography.hazmat.primitives import serialization

    public = key.public_key() if hasattr(key, "public_key") else key
    try:
        line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    except (ValueError, TypeError):
        return None
    blob = base64.b64decode(line.split()[1])
    md5 = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    sha256 = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return ":".join(md5[i : i + 2] for i in range(0, len(md5), 2)), "SHA256:" + sha256


#: Extended key usages by the names bosh manifests give them (``extended_key_usage`` option).
EKU_NAMES = {
    "1.3.6.1.5.5.7.3.1": "server_auth",
    "1.3.6.1.5.5.7.3.2": "client_auth",
    "1.3.6.1.5.5.7.3.3": "code_signing",
    "1.3.6.1.5.5.7.3.4": "email_protection",
    "1.3.6.1.5.5.7.3.8": "timestamping",
}


def extended_key_usages(cert: x509.Certificate) -> tuple[str, ...]:
    """The certificate's extended key usages, by bosh name (an unknown one by its dotted OID); ``()`` for none."""
    from cryptography import x509

    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except (x509.ExtensionNotFound, ValueError):
        return ()
    return tuple(sorted(EKU_NAMES.get(oid.dotted_string, oid.dotted_string) for oid in usages))


def clear_caches() -> None:
    """Forget every parsed certificate and key (every ``lru_cache`` of this module, and the adopted facts): the end
    of a run."""
    for value in tuple(globals().values()):
        clear = getattr(value, "cache_clear", None)
        if callable(clear):
            clear()
    _SEEDS.clear()
    _ADOPTED.clear()
    _NAMES.clear()
    _INFO.clear()


#: ``anyExtendedKeyUsage``: an extended key usage extension that allows every usage.
ANY_USAGE = "2.5.29.37.0"


def lost_usages(old: CertInfo, new: CertInfo) -> tuple[str, ...]:
    """The extended key usages ``old`` had and ``new`` does not allow (bosh names). A certificate without the
    extension, or with ``anyExtendedKeyUsage``, allows every usage."""
    after = new.usages
    if not after or ANY_USAGE in after:
        return ()
    kept = set(after)
    return tuple(usage for usage in old.usages if usage not in kept and usage != ANY_USAGE)


def signs_certificates(cert: x509.Certificate) -> bool:
    """Whether verifiers accept ``cert`` as the issuer of other certificates (:attr:`CertInfo.signs_certificates`)."""
    return info(cert).signs_certificates
