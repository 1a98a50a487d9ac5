from __future__ import annotations

# Builders for REAL BOSH var-store data (creds.yml), shaped like what the bosh CLI writes.
#
# Everything here produces genuine key material with `cryptography`: certificates verify against their
# CA, ssh fingerprints match their keys. RSA key generation is the slow part, so keys come from a
# module-level pool indexed by (slot, bits): the same slot gives the same key, another slot another key.
#
# Shape of the values, checked against var-stores written by the real CLI:
# - certificate: {"ca", "certificate", "private_key"}; PKCS#1 "RSA PRIVATE KEY"; subject C=US,
#   O=Cloud Foundry, CN=...; SKID is the SHA-1 of the modulus bytes (what bosh writes -- NOT the RFC 5280
#   method that `x509.SubjectKeyIdentifier.from_public_key` uses); AKID carries only the signer's SKID;
#   random serial below 2**128; KeyUsage critical, BasicConstraints critical, EKU and SANs not.
# - rsa: {"private_key" (PKCS#1), "public_key" (PKIX PEM)}.
# - ssh: {"private_key" (PKCS#1), "public_key" ("ssh-rsa AAAA...\n", WITH a final newline),
#   "public_key_fingerprint" (MD5 of the key blob, colon-separated lowercase hex)}.
# - password: 20 chars of [a-z0-9].
import base64
import copy
import functools
import hashlib
import ipaddress
import itertools
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from creds_lint import emitter, yamlv2
from creds_lint.model import Typed, YamlType

__all__ = [
    "BOSH_CAS",
    "BOSH_LEAVES",
    "BOSH_PASSWORDS",
    "Cert",
    "Scenarios",
    "bosh_store",
    "cert_from_value",
    "dump_store",
    "go_yaml_key_order",
    "incident",
    "leaf_rotation",
    "make_ca",
    "make_leaf",
    "make_rsa",
    "make_ssh",
    "password",
    "renew",
    "rsa_key",
    "scaled_scenarios",
    "skid",
]

# --------------------------------------------------------------------------------------------------- key pool

_KEYS: dict[tuple[int, int], rsa.RSAPrivateKey] = {}
# modulus -> (slot, bits), to recognise pool keys found in a store and pick slots that are really new.
_SLOT_OF: dict[int, tuple[int, int]] = {}
# Slots handed out by the scenario helpers start here, far from anything a test picks by hand; each scenario
# has its own range so that the keys of incident() and leaf_rotation() never coincide.
_INCIDENT_BASE: Final = 1000
_ROTATION_BASE: Final = 2000
# Leaves share this many keys per scenario: enough to be "different keys", few enough to stay fast.
_LEAF_POOL: Final = 3


#: Slots from here on hold keys of their own, made from a pool of primes (:func:`_composed_key`): a store with a key
#: per certificate, as bosh writes one, for the price of a few generated keys.
DISTINCT_BASE: Final = 1_000_000
#: Primes of ``bits // 2`` bits, by ``bits``: the factors of generated keys.
_PRIMES: dict[int, list[int]] = {}


def rsa_key(slot: int, bits: int = 2048) -> rsa.RSAPrivateKey:
    """The pool's RSA key for (slot, bits): generated once, then the same object on every call."""
    key = _KEYS.get((slot, bits))
    if key is None:
        key = (
            _composed_key(slot - DISTINCT_BASE, bits)
            if slot >= DISTINCT_BASE
            else rsa.generate_private_key(public_exponent=65537, key_size=bits)
        )
        _KEYS[(slot, bits)] = key
        _SLOT_OF[key.public_key().public_numbers().n] = (slot, bits)
    return key


def _composed_key(index: int, bits: int) -> rsa.RSAPrivateKey:
    """The ``index``-th key of pairs of primes, each from a generated key: a key to parse like any other (a
    distinct modulus, a valid key), for a benchmark's store; keys that share a factor are no secret, so never
    for anything but test data. A pool of P primes gives P * (P - 1) / 2 keys."""
    high = int((1 + math.isqrt(1 + 8 * index)) // 2)  # the pair (high, low), low < high, of the index-th key
    while high * (high - 1) // 2 > index:
        high -= 1
    while (high + 1) * high // 2 <= index:
        high += 1
    low = index - high * (high - 1) // 2
    primes = _PRIMES.setdefault(bits, [])
    while len(primes) <= high:
        numbers = rsa.generate_private_key(public_exponent=65537, key_size=bits).private_numbers()
        primes.extend((numbers.p, numbers.q))
    p, q, e = primes[high], primes[low], 65537
    d = rsa.rsa_recover_private_exponent(e, p, q)
    return rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=rsa.RSAPublicNumbers(e, p * q),
    ).private_key(unsafe_skip_rsa_key_validation=True)


def pool_keys() -> dict[str, str]:
    """The pool's keys as PKCS#1 PEM by ``"slot:bits"``, so that a test session can keep them for the next one
    (tests/conftest.py keeps them in pytest's cache): generating them is most of the fast lane's time."""
    return {f"{slot}:{bits}": _private_pem(key) for (slot, bits), key in _KEYS.items() if slot < DISTINCT_BASE}


def preload(kept: Mapping[str, object]) -> None:
    """Put keys kept by :func:`pool_keys` back in the pool; an entry that does not read as such a key is passed
    over (its slot gets a new key when a test asks for it)."""
    for name, pem in kept.items():
        try:
            slot, bits = (int(part) for part in name.split(":"))
            key = _load_key(pem) if isinstance(pem, str) else None
        except ValueError:
            continue
        if key is not None and key.key_size == bits and (slot, bits) not in _KEYS:
            _KEYS[(slot, bits)] = key
            _SLOT_OF[key.public_key().public_numbers().n] = (slot, bits)


def _private_pem(key: rsa.RSAPrivateKey) -> str:
    fmt = serialization.PrivateFormat.TraditionalOpenSSL  # PKCS#1 "RSA PRIVATE KEY"
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode("ascii")


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _load_key(pem: str) -> rsa.RSAPrivateKey:
    # Skipping OpenSSL's RSA consistency check makes loading much faster; these are test keys.
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"expected an RSA private key, got {type(key).__name__}")
    return key


def _new_slots(store: Mapping[str, object], count: int, bits: int, base: int) -> list[int]:
    """`count` pool slots (for `bits`) whose keys appear nowhere in `store`; stable for a given store."""
    used = {sb[0] for n in _store_moduli(store) if (sb := _SLOT_OF.get(n)) is not None and sb[1] == bits}
    out: list[int] = []
    slot = base
    while len(out) < count:
        if slot not in used:
            out.append(slot)
        slot += 1
    return out


def _store_moduli(store: Mapping[str, object]) -> set[int]:
    moduli: set[int] = set()
    for value in store.values():
        if isinstance(value, Mapping) and isinstance(pem := value.get("private_key"), str):
            try:
                moduli.add(_load_key(pem).public_key().public_numbers().n)
            except (ValueError, TypeError):
                continue
    return moduli


# --------------------------------------------------------------------------------------------- certificates


@dataclass(frozen=True, kw_only=True)
class Cert:
    """A certificate variable: the three serialized fields plus the live objects (not compared)."""

    ca: str
    certificate: str
    private_key: str
    cert_obj: x509.Certificate = field(compare=False, repr=False)
    key_obj: rsa.RSAPrivateKey = field(compare=False, repr=False)

    def as_value(self) -> dict[str, str]:
        return {"ca": self.ca, "certificate": self.certificate, "private_key": self.private_key}


def skid(public_key: rsa.RSAPublicKey) -> bytes:
    """Subject key identifier as bosh writes it: SHA-1 of the big-endian modulus bytes."""
    n = public_key.public_numbers().n
    return hashlib.sha1(n.to_bytes((n.bit_length() + 7) // 8, "big"), usedforsecurity=False).digest()


# Go's encoding/asn1 writes PrintableString when every character allows it (no '*', no '&'), else UTF8String.
_PRINTABLE: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


def _attr(oid: x509.ObjectIdentifier, value: str) -> x509.NameAttribute[str]:
    kind = _ASN1Type.PrintableString if set(value) <= _PRINTABLE else _ASN1Type.UTF8String
    return x509.NameAttribute(oid, value, _type=kind)


def _subject(common_name: str) -> x509.Name:
    return x509.Name(
        [
            _attr(NameOID.COUNTRY_NAME, "US"),
            _attr(NameOID.ORGANIZATION_NAME, "Cloud Foundry"),
            _attr(NameOID.COMMON_NAME, common_name),
        ]
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _serial() -> int:
    # bosh: crypto/rand integer below 2**128.
    while (n := secrets.randbits(128)) == 0:
        pass
    return n


def _signer_skid(signer: Cert) -> bytes:
    try:
        return signer.cert_obj.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return skid(signer.key_obj.public_key())


_EKU: Final[Mapping[str, x509.ObjectIdentifier]] = {
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
}


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _sans(names: Sequence[str]) -> x509.SubjectAlternativeName:
    dns: list[x509.GeneralName] = []
    ips: list[x509.GeneralName] = []
    for name in names:
        try:
            ips.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            dns.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(dns + ips)  # Go writes DNS names before IP addresses


def _build(
    *,
    subject: x509.Name,
    key: rsa.RSAPrivateKey,
    signer: Cert | None,
    extensions: Sequence[x509.Extension[x509.ExtensionType]],
    not_before: datetime | None,
    validity: timedelta,
    serial: int | None,
) -> Cert:
    """Sign a certificate for `key` (self-signed when `signer` is None).

    SKID and AKID entries of `extensions` are recomputed for `key` and `signer`.
    """
    start = not_before if not_before is not None else _now()
    issuer = signer.cert_obj.subject if signer is not None else subject
    sign_key = signer.key_obj if signer is not None else key
    own_skid = skid(key.public_key())
    akid = _signer_skid(signer) if signer is not None else own_skid
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial if serial is not None else _serial())
        .not_valid_before(start)
        .not_valid_after(start + validity)
    )
    for ext in extensions:
        value: x509.ExtensionType = ext.value
        if isinstance(value, x509.SubjectKeyIdentifier):
            value = x509.SubjectKeyIdentifier(own_skid)
        elif isinstance(value, x509.AuthorityKeyIdentifier):
            value = x509.AuthorityKeyIdentifier(akid, None, None)
        builder = builder.add_extension(value, critical=ext.critical)
    cert = builder.sign(sign_key, hashes.SHA256())
    pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return Cert(
        ca=signer.certificate if signer is not None else pem,
        certificate=pem,
        private_key=_private_pem(key),
        cert_obj=cert,
        key_obj=key,
    )


def _ext(value: x509.ExtensionType, *, critical: bool) -> x509.Extension[x509.ExtensionType]:
    return x509.Extension(value.oid, critical, value)


def _id_exts() -> list[x509.Extension[x509.ExtensionType]]:
    # Placeholders: _build fills in the real identifiers.
    return [
        _ext(x509.SubjectKeyIdentifier(b""), critical=False),
        _ext(x509.AuthorityKeyIdentifier(b"", None, None), critical=False),
    ]


def make_ca(
    common_name: str,
    *,
    key_slot: int = 0,
    bits: int = 2048,
    signer: Cert | None = None,
    not_before: datetime | None = None,
    days: int = 365,
    serial: int | None = None,
) -> Cert:
    """A root CA (self-signed, `ca` == own certificate); with `signer`, an intermediate (`ca` == signer's)."""
    exts = [
        _ext(_key_usage(ca=True), critical=True),
        _ext(x509.BasicConstraints(ca=True, path_length=None), critical=True),
        *_id_exts(),
    ]
    return _build(
        subject=_subject(common_name),
        key=rsa_key(key_slot, bits),
        signer=signer,
        extensions=exts,
        not_before=not_before,
        validity=timedelta(days=days),
        serial=serial,
    )


def make_leaf(
    common_name: str,
    ca: Cert,
    *,
    key_slot: int = 9,
    bits: int = 2048,
    sans: Sequence[str] = (),
    not_before: datetime | None = None,
    days: int = 365,
    serial: int | None = None,
    extended_key_usage: Sequence[str] = ("server_auth",),
) -> Cert:
    """A leaf certificate signed by `ca`. `sans` that parse as IP addresses become IP SANs, others DNS."""
    exts = [_ext(_key_usage(ca=False), critical=True)]
    if extended_key_usage:
        try:
            usages = [_EKU[u] for u in extended_key_usage]
        except KeyError as exc:
            raise ValueError(f"unknown extended_key_usage {exc.args[0]!r}; known: {sorted(_EKU)}") from None
        exts.append(_ext(x509.ExtendedKeyUsage(usages), critical=False))
    exts += [_ext(x509.BasicConstraints(ca=False, path_length=None), critical=True), *_id_exts()]
    if sans:
        exts.append(_ext(_sans(sans), critical=False))
    return _build(
        subject=_subject(common_name),
        key=rsa_key(key_slot, bits),
        signer=ca,
        extensions=exts,
        not_before=not_before,
        validity=timedelta(days=days),
        serial=serial,
    )


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _reissue(
    old: Cert,
    *,
    key: rsa.RSAPrivateKey,
    signer: Cert | None,
    not_before: datetime | None = None,
    validity: timedelta | None = None,
    serial: int | None = None,
    replace: Sequence[x509.ExtensionType] = (),
) -> Cert:
    """Same subject and extensions as `old` (those of `replace` put in place of their kind, or added), for `key`,
    signed by `signer` (None: self-signed)."""
    c = old.cert_obj
    replaced = {value.oid: value for value in replace}
    extensions = [
        _ext(replaced.pop(ext.oid), critical=ext.critical) if ext.oid in replaced else ext for ext in c.extensions
    ]
    extensions += [_ext(value, critical=False) for value in replaced.values()]
    return _build(
        subject=c.subject,
        key=key,
        signer=signer,
        extensions=extensions,
        not_before=not_before,
        validity=validity if validity is not None else c.not_valid_after_utc - c.not_valid_before_utc,
        serial=serial,
    )


def renew(
    cert: Cert,
    signer: Cert | None = None,
    *,
    days: int = 365,
    serial: int | None = None,
    not_before: datetime | None = None,
    replace: Sequence[x509.ExtensionType] = (),
) -> Cert:
    """Re-issue `cert` with the same subject, extensions and KEY, new serial and validity.

    `signer` None: `cert` must be a self-signed root and stays self-signed. Renewing a CA this way keeps every
    signature it made valid. `replace`: extensions put in place of those of their kind (BasicConstraints, KeyUsage,
    ExtendedKeyUsage...), for renewals that change what the certificate may do.
    """
    if signer is None and not _self_signed(cert.cert_obj):
        raise ValueError("renew() needs a signer for a certificate that is not self-signed")
    key, validity = cert.key_obj, timedelta(days=days)
    return _reissue(
        cert, key=key, signer=signer, not_before=not_before, validity=validity, serial=serial, replace=replace
    )


def cert_from_value(value: Mapping[str, Any]) -> Cert:
    """Parse a certificate variable's value (as loaded from a var-store) back into a Cert."""
    certificate, private_key, ca = value["certificate"], value["private_key"], value.get("ca")
    if not isinstance(certificate, str) or not isinstance(private_key, str):
        raise TypeError("certificate and private_key must be PEM strings")
    return Cert(
        ca=ca if isinstance(ca, str) else "",
        certificate=certificate,
        private_key=private_key,
        cert_obj=x509.load_pem_x509_certificate(certificate.encode("ascii")),
        key_obj=_load_key(private_key),
    )


# ----------------------------------------------------------------------------------------- rsa, ssh, password


def make_rsa(key_slot: int, *, bits: int = 2048) -> dict[str, str]:
    key = rsa_key(key_slot, bits)
    return {"private_key": _private_pem(key), "public_key": _public_pem(key)}


def make_ssh(key_slot: int, *, bits: int = 2048) -> dict[str, str]:
    key = rsa_key(key_slot, bits)
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    return {
        "private_key": _private_pem(key),
        "public_key": line.decode("ascii") + "\n",  # bosh writes the authorized_keys line with its newline
        "public_key_fingerprint": ":".join(digest[i : i + 2] for i in range(0, len(digest), 2)),
    }


_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz0123456789"


def password(seed: str) -> str:
    """Deterministic bosh-style password: 20 chars of [a-z0-9] derived from `seed`."""
    n = int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest(), "big")
    chars = []
    for _ in range(20):
        n, r = divmod(n, len(_ALPHABET))
        chars.append(_ALPHABET[r])
    return "".join(chars)


# ------------------------------------------------------------------------------------------------ YAML output

go_yaml_key_order = emitter.ORDER
"""Sort key for mapping keys in the order Go's yaml.v2 writes them ("key_9" < "key_10", "_" < letters)."""

_STR_TAG: Final = "tag:yaml.org,2002:str"
# yaml.v2 resolves these as booleans too (YAML 1.1), PyYAML does not: quote them like Go does.
_GO_ONLY_BOOLS: Final = frozenset({"y", "Y", "n", "N"})


class _GoDumper(yaml.CSafeDumper):
    """libyaml's emitter (as Go's yaml.v2, a port of libyaml): the pure-Python one writes the same, 17x slower."""


def _plain_tag(dumper: yaml.CSafeDumper, data: str) -> str:
    tag: str = dumper.resolve(yaml.ScalarNode, data, (True, False))  # type: ignore[no-untyped-call]
    return tag


def _represent_str(dumper: yaml.CSafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        # Literal block; the emitter picks `|`, `|-` or `|+` from the trailing newlines, and falls back to
        # double quotes when a block is impossible (trailing spaces, ...), exactly as libyaml/yaml.v2 do.
        return dumper.represent_scalar(_STR_TAG, data, style="|")
    # quoted when yaml.v2 (what bosh reads with) or PyYAML (what some tests read with) would read another type:
    # `1e5` is a float to yaml.v2 only, `1:30` an integer to PyYAML only
    if data in _GO_ONLY_BOOLS or _plain_tag(dumper, data) != _STR_TAG or yamlv2.plain_tag(data) != yamlv2.STR:
        return dumper.represent_scalar(_STR_TAG, data, style='"')
    return dumper.represent_scalar(_STR_TAG, data)


def _represent_map(dumper: yaml.CSafeDumper, data: Mapping[Any, Any]) -> yaml.MappingNode:
    items = sorted(data.items(), key=lambda kv: go_yaml_key_order(kv[0]))
    return dumper.represent_mapping("tag:yaml.org,2002:map", items)


def _represent_typed(dumper: yaml.CSafeDumper, data: Typed) -> yaml.ScalarNode:
    """A number or boolean as yaml.v2 reads it (a value the loader built), written plain."""
    special = {"nan": ".nan", "inf": ".inf", "-inf": "-.inf"}
    tag = {YamlType.INT: "int", YamlType.FLOAT: "float", YamlType.BOOL: "bool"}[data.type]
    return dumper.represent_scalar(f"tag:yaml.org,2002:{tag}", special.get(data.canonical, data.canonical))


_GoDumper.add_representer(Typed, _represent_typed)
_GoDumper.add_representer(str, _represent_str)
_GoDumper.add_multi_representer(str, _represent_str)
_GoDumper.add_representer(dict, _represent_map)
_GoDumper.add_multi_representer(dict, _represent_map)


def dump_store(store: Mapping[str, object]) -> str:
    """Serialize a var-store the way the bosh CLI (Go yaml.v2) writes it."""
    out: str = yaml.dump(
        dict(store), Dumper=_GoDumper, default_flow_style=False, sort_keys=False, allow_unicode=True, indent=2
    )
    return out


# ------------------------------------------------------------------------------------------- bosh-deployment

_IP: Final = "192.168.56.6"
_IP_INTERNAL: Final = "10.254.50.4"

BOSH_PASSWORDS: Final[tuple[str, ...]] = (
    "admin_password",
    "blobstore_agent_password",
    "blobstore_director_password",
    "credhub_admin_client_secret",
    "credhub_cli_user_password",
    "credhub_encryption_password",
    "hm_password",
    "mbus_bootstrap_password",
    "nats_password",
    "nats_sync_password",
    "postgres_password",
    "uaa_admin_client_secret",
    "uaa_clients_director_to_credhub",
    "uaa_encryption_key_1",
)
# name -> common name
BOSH_CAS: Final[Mapping[str, str]] = {
    "default_ca": "ca",
    "nats_ca": "default.nats-ca.bosh-internal",
    "blobstore_ca": "default.blobstore-ca.bosh-internal",
    "credhub_ca": "CredHub CA",
}
# name -> (ca name, common name, alternative names, extended key usage)
BOSH_LEAVES: Final[Mapping[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]]] = {
    "director_ssl": ("default_ca", _IP, (_IP,), ("server_auth",)),
    "mbus_bootstrap_ssl": ("default_ca", _IP, (_IP,), ("server_auth",)),
    "uaa_ssl": ("default_ca", _IP, (_IP,), ("server_auth",)),
    "uaa_service_provider_ssl": ("default_ca", _IP, (_IP,), ("server_auth",)),
    "nats_server_tls": ("nats_ca", "default.nats.bosh-internal", (_IP, _IP_INTERNAL), ("server_auth",)),
    "nats_clients_director_tls": ("nats_ca", "default.director.bosh-internal", (), ("client_auth",)),
    "nats_clients_health_monitor_tls": ("nats_ca", "default.hm.bosh-internal", (), ("client_auth",)),
    "blobstore_server_tls": ("blobstore_ca", _IP, (_IP, _IP_INTERNAL), ("server_auth",)),
    "credhub_tls": ("credhub_ca", _IP, (_IP,), ("server_auth",)),
}
# Key slots of the fresh store: one per CA, a small pool shared by the leaves, one each for rsa and ssh.
_CA_SLOTS: Final = {name: i for i, name in enumerate(BOSH_CAS)}
_LEAF_SLOTS: Final = tuple(10 + i for i in range(_LEAF_POOL))
_RSA_SLOT: Final = 20
_SSH_SLOT: Final = 21


@functools.cache
def _bosh_store(bits: int) -> dict[str, object]:
    store: dict[str, object] = {name: password(name) for name in BOSH_PASSWORDS}
    cas = {name: make_ca(cn, key_slot=_CA_SLOTS[name], bits=bits) for name, cn in BOSH_CAS.items()}
    store.update({name: ca.as_value() for name, ca in cas.items()})
    for i, (name, (ca_name, cn, sans, eku)) in enumerate(BOSH_LEAVES.items()):
        slot = _LEAF_SLOTS[i % _LEAF_POOL]
        leaf = make_leaf(cn, cas[ca_name], key_slot=slot, bits=bits, sans=sans, extended_key_usage=eku)
        store[name] = leaf.as_value()
    store["uaa_jwt_signing_key"] = make_rsa(_RSA_SLOT, bits=bits)
    store["jumpbox_ssh"] = make_ssh(_SSH_SLOT, bits=bits)
    return store


def bosh_store(*, bits: int = 2048) -> dict[str, object]:
    """A fresh bosh-deployment var-store (plain dicts and strings); a new deep copy on every call."""
    return copy.deepcopy(_bosh_store(bits))


# ------------------------------------------------------------------------------------------------- scenarios


def _parse_certs(store: Mapping[str, object]) -> dict[str, Cert]:
    """Every certificate entry of `store` that parses, by name."""
    out: dict[str, Cert] = {}
    for name, value in store.items():
        if isinstance(value, Mapping) and "certificate" in value and "private_key" in value:
            try:
                out[name] = cert_from_value(value)
            except (ValueError, TypeError, KeyError):
                continue
    return out


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _find_signer(name: str, cert: Cert, cas: Mapping[str, Cert]) -> str | None:
    """Name of the CA in the store that signed `cert`: by `ca` PEM, then by signature, then by issuer DN."""
    others = {n: c for n, c in cas.items() if n != name}
    for n, c in others.items():
        if cert.ca and cert.ca == c.certificate:
            return n
    for n, c in others.items():
        try:
            cert.cert_obj.verify_directly_issued_by(c.cert_obj)
        except (InvalidSignature, ValueError, TypeError):
            continue
        return n
    by_dn = [n for n, c in others.items() if c.cert_obj.subject == cert.cert_obj.issuer]
    return by_dn[0] if len(by_dn) == 1 else None


def _signers(certs: Mapping[str, Cert], names: Sequence[str]) -> dict[str, str | None]:
    """name -> signer name (None for self-signed roots); raises if a non-root has no signer in the store."""
    cas = {n: c for n, c in certs.items() if _is_ca(c.cert_obj)}
    out: dict[str, str | None] = {}
    for name in names:
        cert = certs[name]
        if name in cas and _self_signed(cert.cert_obj):
            out[name] = None
            continue
        signer = _find_signer(name, cert, cas)
        if signer is None:
            raise ValueError(f"{name}: no CA in the store signed this certificate")
        out[name] = signer
    return out


def _regen_password(name: str, old: object) -> str:
    k = 1
    while (new := password(f"{name}@{k}")) == old:
        k += 1
    return new


def leaf_rotation(store: Mapping[str, object]) -> dict[str, object]:
    """Every leaf re-issued (new key and serial, same subject/SANs/usages) by its UNCHANGED CA."""
    out = dict(store)
    certs = _parse_certs(store)
    leaves = [n for n in certs if not _is_ca(certs[n].cert_obj)]
    signers = _signers(certs, leaves)
    by_bits: dict[int, list[int]] = {}
    for i, name in enumerate(leaves):
        bits = certs[name].key_obj.key_size
        if bits not in by_bits:
            by_bits[bits] = _new_slots(store, _LEAF_POOL, bits, _ROTATION_BASE)
        pool = by_bits[bits]
        signer = signers[name]
        assert signer is not None  # a leaf is never self-signed here: _signers found its CA
        out[name] = _reissue(certs[name], key=rsa_key(pool[i % len(pool)], bits), signer=certs[signer]).as_value()
    return out


def incident(
    store: Mapping[str, object], *, passwords: Sequence[str] = ("credhub_encryption_password",)
) -> dict[str, object]:
    """Every certificate and the given passwords deleted, then regenerated as the bosh CLI would.

    New passwords; every CA gets a new key pair (roots first, then intermediates signed by their new parent);
    every leaf is re-issued with a new key by the NEW version of its CA. Other entries are untouched.
    """
    out = dict(store)
    for name in passwords:
        if name in out:
            out[name] = _regen_password(name, out[name])
    certs = _parse_certs(store)
    signers = _signers(certs, list(certs))
    ca_names = [n for n in certs if _is_ca(certs[n].cert_obj)]
    leaf_names = [n for n in certs if n not in ca_names]
    all_bits = {c.key_obj.key_size for c in certs.values()}
    slots = {bits: iter(_new_slots(store, len(ca_names) + _LEAF_POOL, bits, _INCIDENT_BASE)) for bits in all_bits}
    leaf_pools: dict[int, list[int]] = {}
    new: dict[str, Cert] = {}

    def regen(name: str) -> Cert:
        if name in new:
            return new[name]
        old, signer = certs[name], signers[name]
        parent = regen(signer) if signer is not None else None
        bits = old.key_obj.key_size
        if name in ca_names:
            slot = next(slots[bits])
        else:
            if bits not in leaf_pools:
                leaf_pools[bits] = [next(slots[bits]) for _ in range(_LEAF_POOL)]
            pool = leaf_pools[bits]
            slot = pool[leaf_names.index(name) % _LEAF_POOL]
        new[name] = _reissue(old, key=rsa_key(slot, bits), signer=parent)
        return new[name]

    for name in ca_names + leaf_names:
        out[name] = regen(name).as_value()
    return out


# ---------------------------------------------------------------------------------------------- scaled stores

# Key slots of scaled_scenarios(): a few keys shared by many certificates (signing is cheap, key generation is
# not). Base CAs, base leaves, rotated leaves, incident CAs and incident leaves each have their own range.
_SCALED_CA_BASE: Final = 3000
_SCALED_LEAF_BASE: Final = 3100
_SCALED_ROTATION_BASE: Final = 3200
_SCALED_INCIDENT_CA_BASE: Final = 3300
_SCALED_INCIDENT_LEAF_BASE: Final = 3400
_SCALED_CA_KEYS: Final = 8


@dataclass(frozen=True, kw_only=True)
class Scenarios:
    """A var-store and two successors: every leaf rotated under unchanged CAs, and the incident."""

    store: dict[str, object]
    rotation: dict[str, object]
    incident: dict[str, object]


def scaled_scenarios(entries: int, *, bits: int = 2048, distinct_keys: bool = False) -> Scenarios:
    """A var-store of ``entries`` variables (at least the 29 of bosh-deployment) shaped like cf-deployment, with
    real, distinct certificates: per service a CA, three leaves, passwords of every role, now and then an rsa
    or ssh key pair. Every certificate is signed separately; keys come from a small pool, or with
    ``distinct_keys`` each certificate and key pair has its own key, as in a store bosh wrote.

    ``rotation`` re-issues every leaf with a new key under its unchanged CA; ``incident`` regenerates every CA
    (new key pair) and leaf and ``credhub_encryption_password``, as ``bosh create-env`` does after the incident.
    """
    base = bosh_store(bits=bits)
    store: dict[str, object] = dict(base)
    rotation: dict[str, object] = leaf_rotation(base)
    incident_store: dict[str, object] = incident(base)
    fresh = itertools.count(DISTINCT_BASE)

    def slot(pooled: int) -> int:
        return next(fresh) if distinct_keys else pooled

    service = 0
    while len(store) < entries:
        prefix = f"svc{service}"
        ca = make_ca(f"{prefix}-ca", key_slot=slot(_SCALED_CA_BASE + service % _SCALED_CA_KEYS), bits=bits)
        new_ca = make_ca(f"{prefix}-ca", key_slot=slot(_SCALED_INCIDENT_CA_BASE + service % _SCALED_CA_KEYS), bits=bits)
        group: list[tuple[str, object, object, object]] = [(f"{prefix}_ca", ca.as_value(), None, new_ca.as_value())]
        for j, leaf_name in enumerate(("server_tls", "client_tls", "internal_tls")):
            cn = f"{leaf_name}.{prefix}.service.cf.internal"
            pooled = (service + j) % _LEAF_POOL
            leaf = make_leaf(cn, ca, key_slot=slot(_SCALED_LEAF_BASE + pooled), bits=bits, sans=(cn,))
            rotated = make_leaf(cn, ca, key_slot=slot(_SCALED_ROTATION_BASE + pooled), bits=bits, sans=(cn,))
            regenerated = make_leaf(
                cn, new_ca, key_slot=slot(_SCALED_INCIDENT_LEAF_BASE + pooled), bits=bits, sans=(cn,)
            )
            group.append((f"{prefix}_{leaf_name}", leaf.as_value(), rotated.as_value(), regenerated.as_value()))
        for suffix in ("password", "admin_password", "client_secret", "db_encryption_key"):
            name = f"{prefix}_{suffix}"
            group.append((name, password(name), None, None))
        if service % 10 == 3:
            group.append(
                (f"{prefix}_jwt_signing_key", make_rsa(slot(_SCALED_CA_BASE + service % 5), bits=bits), None, None)
            )
        elif service % 10 == 7:
            group.append(
                (f"{prefix}_ssh_host_key", make_ssh(slot(_SCALED_CA_BASE + service % 5), bits=bits), None, None)
            )
        for name, value, rotated_value, incident_value in group[: entries - len(store)]:
            store[name] = value
            rotation[name] = rotated_value if rotated_value is not None else value
            incident_store[name] = incident_value if incident_value is not None else value
        service += 1
    return Scenarios(store=store, rotation=rotation, incident=incident_store)
