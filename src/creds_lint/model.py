"""What a var-store holds: entries, their kind (from the value's shape) and their role (from what depends on them).

Kinds follow the four types the bosh CLI generates (see docs/rules.md): a string is a password, ``certificate``
plus ``private_key`` is a certificate, ``public_key_fingerprint`` means ssh, ``private_key`` plus ``public_key`` is
rsa. Anything else is ``unknown`` and still protected.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import math
import re
import string
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from creds_lint.findings import WITHHELD
from creds_lint.memo import cached


class Kind(enum.Enum):
    PASSWORD = "password"  # noqa: S105 - a kind name, not a password
    CERTIFICATE = "certificate"
    RSA = "rsa"
    SSH = "ssh"
    UNKNOWN = "unknown"


#: The kinds that are key pairs (never disposable).
KEYPAIR_KINDS = frozenset({Kind.RSA, Kind.SSH})


class Role(enum.Enum):
    """What depends on a variable's value — and so what breaks when it changes."""

    ENCRYPTION_KEY = "encryption key"
    CA = "certificate authority"
    AGENT_CREDENTIAL = "agent credential"
    SIGNING_KEY = "signing key"
    LOGIN = "login"
    DISPOSABLE = "disposable"
    PLAIN = "secret"

    @property
    def consequence(self) -> str:
        return _CONSEQUENCE[self]


class Category(enum.Enum):
    """Which family of rules speaks for a variable that was removed or changed (what kind of thing it is)."""

    ENCRYPTION_KEY = "encryption key"
    CA = "CA"
    KEYPAIR = "key pair"
    CERTIFICATE = "certificate"
    SECRET = "secret"  # noqa: S105 - a category name, not a secret
    DISPOSABLE = "disposable"  # declared safe to regenerate in the configuration (a plain secret only)
    ROTATION = "documented rotation"  # a change that follows a documented rotation (creds_lint.rotations)


@dataclass(frozen=True, kw_only=True)
class Identity:
    """What one variable is, decided once: its ``kind`` (from the value's shape), whether it is a CA (from its
    certificate), its ``role`` (what depends on it) and its ``category`` (which rules speak for it). Every
    command names the variable by :attr:`label` and says what breaks by :attr:`consequence`."""

    name: str
    kind: Kind
    ca: bool
    role: Role
    category: Category

    @property
    def label(self) -> str:
        """What the variable is, in a word or two: ``encryption key``, ``CA``, ``rsa key pair``, ``password``..."""
        if self.category is Category.SECRET:
            label = self.role.value if self.kind is Kind.PASSWORD else f"{self.kind.value} value"
            return "password" if label == "secret" else label
        if self.category is Category.KEYPAIR:
            return f"{self.kind.value} key pair"
        return str(self.category.value)

    @property
    def consequence(self) -> str:
        """What breaks when the variable changes or disappears: the known words for a well-known variable, else
        its role's (for a key pair, the key pair's own: it is no CredHub or UAA key)."""
        known = KNOWN_CONSEQUENCES.get(short_name(self.name))
        if known is not None:
            return known
        if self.category is Category.KEYPAIR and self.role is Role.ENCRYPTION_KEY:
            return "data encrypted with its public key can no longer be decrypted"
        return self.role.consequence


_CONSEQUENCE: Mapping[Role, str] = {
    Role.ENCRYPTION_KEY: "data encrypted with it (CredHub, UAA, Cloud Controller) can no longer be decrypted",
    Role.CA: "every VM and client that trusts it rejects what the new one signs",
    Role.AGENT_CREDENTIAL: (
        "it is baked into every VM's agent settings: agents become unresponsive and the resurrector recreates the VMs"
    ),
    Role.SIGNING_KEY: "everything signed with it (tokens, links, host keys) becomes invalid",
    Role.LOGIN: "people and pipelines that log in with it are locked out",
    Role.DISPOSABLE: "it is declared disposable: BOSH may regenerate it safely",
    Role.PLAIN: "every component configured with the old value fails to authenticate",
}


#: What breaks, in an operator's words, for the variables of bosh-deployment and cf-deployment that hurt most.
KNOWN_CONSEQUENCES: Mapping[str, str] = MappingProxyType(
    {
        "credhub_encryption_password": (
            "CredHub can no longer decrypt its data: it fails to start, and every deployment that reads "
            "credentials from it fails to render its jobs"
        ),
        "uaa_encryption_key_1": "UAA can no longer decrypt what it stored with the old key",
        "uaa_default_encryption_passphrase": "UAA can no longer decrypt what it stored with the old passphrase",
        "cc_db_encryption_key": "Cloud Controller can no longer decrypt the encrypted columns of its database",
        "diego_bbs_encryption_keys_passphrase": "Diego's BBS can no longer decrypt its database",
        "nats_ca": (
            "the director signs every agent's client certificate with it: every agent becomes unresponsive and "
            "the resurrector recreates every VM"
        ),
        "default_ca": "clients of the director, UAA and the agents' bootstrap endpoint reject their certificates",
        "blobstore_ca": "agents can no longer fetch packages and jobs from the blobstore",
        "credhub_ca": "the director and every client of CredHub reject CredHub's certificate",
        "uaa_ca": "every client of UAA rejects UAA's certificate",
        "nats_password": "every agent authenticates to NATS with it: agents become unresponsive",
        "mbus_bootstrap_password": "the director can no longer reach the agent it bootstraps",
        "blobstore_agent_password": "agents can no longer fetch packages and jobs from the blobstore",
        "uaa_jwt_signing_key": "every token UAA issued becomes invalid",
        "jumpbox_ssh": "the jumpbox user can no longer log in with the old key",
        "admin_password": "people and pipelines that log in as admin are locked out",
    }
)


@dataclass(frozen=True, kw_only=True)
class Classifier:
    """Name patterns that say what depends on a variable. The defaults match bosh-deployment and cf-deployment.

    Extra patterns and exact names come from the configuration (:meth:`extended`). A name listed in ``names``
    has that role and no other, whatever the patterns say; otherwise a name matches a role when one of the role's
    patterns matches it with :func:`re.search`.
    """

    encryption_key: tuple[str, ...] = (r"(^|_)encrypt(ion)?(_|$)|_passphrase$",)
    ca: tuple[str, ...] = (r"(^|_)ca(_\d+|_old|_new)?$",)
    agent_credential: tuple[str, ...] = (r"^(nats_|mbus_bootstrap_|blobstore_agent_)",)
    signing_key: tuple[str, ...] = (r"(^|_)(jwt|signing)(_|$)|_host_key$|secure_link_secret$|route_services_secret$",)
    login: tuple[str, ...] = (r"(^|_)admin_password$|_client_secret$|_user_password$|(^|_)jumpbox_ssh$",)
    disposable: tuple[str, ...] = ()
    names: Mapping[str, Role] = field(default_factory=lambda: MappingProxyType({}))

    def extended(self, *, patterns: Mapping[Role, tuple[str, ...]], names: Mapping[str, Role]) -> Classifier:
        """These patterns and exact names on top of this classifier's (exact names win over every pattern)."""
        grown = {
            category: getattr(self, category) + patterns.get(role, ()) for role, category in CATEGORY_OF_ROLE.items()
        }
        return Classifier(**grown, names=MappingProxyType({**self.names, **names}))

    @cached
    def _compiled(self) -> dict[str, re.Pattern[str]]:
        def join(patterns: tuple[str, ...]) -> re.Pattern[str]:
            return re.compile("|".join(f"(?:{p})" for p in patterns) if patterns else r"(?!)")

        return {
            "encryption_key": join(self.encryption_key),
            "ca": join(self.ca),
            "agent_credential": join(self.agent_credential),
            "signing_key": join(self.signing_key),
            "login": join(self.login),
            "disposable": join(self.disposable),
        }

    def matches(self, category: str, name: str) -> bool:
        listed = self.names.get(name)
        if listed is None:
            listed = self.names.get(short_name(name))
        if listed is not None:
            return CATEGORY_OF_ROLE.get(listed) == category
        return self.pattern_matches(category, name)

    def pattern_matches(self, category: str, name: str) -> bool:
        """Whether one of the category's patterns matches ``name``'s last path segment (exact names aside)."""
        return self._compiled[category].search(short_name(name)) is not None

    def identify(self, name: str, kind: Kind, *, is_ca: bool) -> Identity:
        """What a variable of this name and kind is (``is_ca``: a certificate that is a CA): the one decision
        every rule and command reads. The kind decides the category first (a CA, a certificate, a key pair stay
        what they are whatever their name says); the name decides the role. ``disposable`` only ever applies to
        what would otherwise be a plain secret: a CA, a certificate, a key pair or an encryption key stays
        protected whatever the configuration says (``ineffective-configuration`` reports such a setting)."""
        ca = kind is Kind.CERTIFICATE and is_ca
        role = self._role(name, kind, is_ca=ca)
        if kind is Kind.CERTIFICATE:
            category = Category.CA if ca else Category.CERTIFICATE
        elif kind in KEYPAIR_KINDS:
            category = Category.KEYPAIR
        elif role is Role.ENCRYPTION_KEY:
            category = Category.ENCRYPTION_KEY
        elif role is Role.DISPOSABLE:
            category = Category.DISPOSABLE
        else:
            category = Category.SECRET
        return Identity(name=name, kind=kind, ca=ca, role=role, category=category)

    def role(self, name: str, kind: Kind, *, is_ca: bool) -> Role:
        """The role of a variable (see :meth:`identify`)."""
        return self.identify(name, kind, is_ca=is_ca).role

    def _role(self, name: str, kind: Kind, *, is_ca: bool) -> Role:
        """CA status comes from the certificate itself, the rest from the name."""
        if kind is Kind.CERTIFICATE and is_ca:
            return Role.CA
        if self.matches("encryption_key", name):
            return Role.ENCRYPTION_KEY
        if self.matches("disposable", name) and kind not in KEYPAIR_KINDS:  # never a key, a CA or a key pair
            return Role.DISPOSABLE
        for category, role in (
            ("signing_key", Role.SIGNING_KEY),
            ("agent_credential", Role.AGENT_CREDENTIAL),
            ("login", Role.LOGIN),
        ):
            if self.matches(category, name):
                return role
        return Role.PLAIN


#: The Classifier field (and ``matches`` category) of each role that names can be given for.
CATEGORY_OF_ROLE: Mapping[Role, str] = MappingProxyType(
    {
        Role.ENCRYPTION_KEY: "encryption_key",
        Role.CA: "ca",
        Role.AGENT_CREDENTIAL: "agent_credential",
        Role.SIGNING_KEY: "signing_key",
        Role.LOGIN: "login",
        Role.DISPOSABLE: "disposable",
    }
)

DEFAULT_CLASSIFIER = Classifier()


class YamlType(enum.Enum):
    """The types besides strings and nulls that bosh's YAML parser (yaml.v2) reads a scalar as."""

    INT = "integer"
    FLOAT = "float"
    BOOL = "boolean"


@dataclass(frozen=True, kw_only=True, slots=True)
class Typed:
    """A scalar that bosh reads as a number or a boolean, not as a string (see :mod:`creds_lint.yamlv2`):
    ``0123`` is the integer 83, ``yes`` is true. Two are equal when bosh reads the same value (``0123`` and
    ``83``), and never equal to a string (``"0123"``). ``canonical`` is the value written one way (``83``,
    ``true``, ``1e+20`` as Python prints it); it is a secret like any other value and never shown."""

    type: YamlType
    canonical: str = field(repr=False)


def yaml_type(value: object) -> str:
    """How bosh reads a scalar, in words: ``string``, ``integer``, ``float``, ``boolean`` or ``null``."""
    if isinstance(value, Typed):
        return value.type.value
    if value is None:
        return "null"
    return "string" if isinstance(value, str) else type(value).__name__


def short_name(name: str) -> str:
    """The last path segment of a CredHub name (``/bosh-lite/cf/cc_db_encryption_key`` ->
    ``cc_db_encryption_key``): what classification reads. A var-store name has no ``/`` and stays as it is."""
    return name.rpartition("/")[2] if "/" in name else name


def kind_of(value: object) -> Kind:
    """The kind of a value, from its shape alone."""
    if isinstance(value, str | int | float | bool | Typed):
        return Kind.PASSWORD
    if isinstance(value, Mapping):
        if "certificate" in value and "private_key" in value:
            return Kind.CERTIFICATE
        if "public_key_fingerprint" in value:
            return Kind.SSH
        if "private_key" in value and "public_key" in value:
            return Kind.RSA
    return Kind.UNKNOWN


_KEY_TEXT_PREFIXES = ("-----BEGIN ", "ssh-", "ecdsa-sha2-")


def normalize(value: object) -> object:
    """The value as bosh sees it, minus YAML formatting.

    Only where the consumer ignores them — PEM blocks and OpenSSH keys — are a final newline (``|`` versus
    ``|-``) and Windows line endings formatting. Anywhere else they are content: a password that gained a
    newline is deployed with it, and logins fail.
    """
    if isinstance(value, str):
        if value.startswith(_KEY_TEXT_PREFIXES):
            # Looking for one character is a memchr, several times faster than replace's search for two: the
            # loader normalizes every PEM block of both files, and almost none has a carriage return.
            unix = value.replace("\r\n", "\n") if "\r" in value else value
            return unix.rstrip("\n")
        return value
    if isinstance(value, Mapping):
        return {str(k): normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


#: The fields bosh and CredHub write inside a structured value. Any other key could be a secret that an
#: indentation slip or a paste turned into a key, so it is shown by its fingerprint.
KNOWN_FIELDS = frozenset(
    {
        "ca",
        "certificate",
        "private_key",
        "public_key",
        "public_key_fingerprint",
        "username",
        "password",
        "value",
        "ca_name",
    }
)

#: The fields of a CredHub value that bosh never writes, shown by name in messages about a CredHub export.
CREDHUB_FIELDS = ("ca_name", "username", "password")


def field_label(name: str) -> str:
    """How a field is named in any output: its name when bosh or CredHub writes it, else its fingerprint."""
    return name if name in KNOWN_FIELDS else f"field {fingerprint(name)}"


#: Below this many bits of estimated entropy a value's fingerprint is withheld: 8 hex digits of a SHA-256 narrow
#: a search of that size to a handful of candidates in seconds (a 6-digit PIN in well under one).
MIN_FINGERPRINT_BITS = 64


def digest(value: object) -> str:
    """A short, stable identifier of a value: ``sha256:`` and the first 8 hex digits, for comparing values.
    Never shown as it is: :func:`fingerprint` is what outputs show.

    Structured values are hashed as canonical JSON of their normalized form, so reformatting the YAML does not
    change the digest.
    """
    return _digest(normalize(value))


def _digest(normalized: object) -> str:
    if isinstance(normalized, str):
        text = normalized
    elif isinstance(normalized, Typed):
        text = _typed_text(normalized)
    else:
        text = _CANONICAL.encode(normalized)
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def fingerprint(value: object) -> str:
    """How every output names a value: its :func:`digest`, or :data:`WITHHELD` when the value is
    :func:`guessable` (a short SHA-256 prefix of a 6-digit password gives the password back)."""
    return _fingerprint_normalized(normalize(value))


def _fingerprint_normalized(normalized: object) -> str:
    return WITHHELD if _bits(normalized) < MIN_FINGERPRINT_BITS else _digest(normalized)


def guessable(value: object) -> bool:
    """Whether a value could be recovered from its fingerprint by trying candidates: its estimated entropy is
    below :data:`MIN_FINGERPRINT_BITS`, it is all digits, or it is a hand-set word (letters only, shorter than 24).
    Numbers, booleans and empty values always are. A structured value counts the entropy of all its parts."""
    return _bits(normalize(value)) < MIN_FINGERPRINT_BITS


def _bits(value: object) -> float:
    """The estimated entropy of a normalized value, or a lower bound once it reaches
    :data:`MIN_FINGERPRINT_BITS` (a structured value stops counting there)."""
    if isinstance(value, str):
        return _text_bits(value)
    if isinstance(value, Mapping | list):
        total = 0.0
        for item in value.values() if isinstance(value, Mapping) else value:
            total += _bits(item)
            if total >= MIN_FINGERPRINT_BITS:
                break
        return total
    return 0.0  # None, numbers, booleans: a handful of likely values


_CLASSES = ((str.isdigit, 10), (str.islower, 26), (str.isupper, 26))


#: A longer text is first estimated from its first this many characters: a PEM block or a generated password
#: reaches :data:`MIN_FINGERPRINT_BITS` within them, and the estimate of a prefix never exceeds the whole's.
_PREFIX = 128


def _text_bits(text: str) -> float:
    """A cautious estimate of a string's entropy: its length times the bits of the character classes it uses,
    no more than 8 bits per distinct character; nothing for all-digit values and hand-set words.

    For a text longer than :data:`_PREFIX` the estimate may stop at its prefix once that reaches
    :data:`MIN_FINGERPRINT_BITS`: it is then a lower bound, which is all :func:`guessable` asks."""
    if len(text) < 32 and text.isdigit():
        return 0.0
    if len(text) < 24 and text.isalpha():
        return 0.0
    if len(text) > _PREFIX:
        bits = _class_bits(text[:_PREFIX])
        if bits >= MIN_FINGERPRINT_BITS:
            return bits
    return _class_bits(text)


#: The ASCII characters of each class of :data:`_CLASSES`: for ASCII text the classes are these sets.
_ASCII_CLASSES = (frozenset(string.digits), frozenset(string.ascii_lowercase), frozenset(string.ascii_uppercase))


def _class_bits(text: str) -> float:
    distinct = set(text)  # one pass in C; the class tests look at each distinct character once
    if text.isascii():  # every PEM block and generated password: set intersections rather than a test per character
        counts = [len(distinct & chars) for chars in _ASCII_CLASSES]
    else:
        counts = [sum(map(test, distinct)) for test, _ in _CLASSES]  # the classes are disjoint
    pool = sum(size for count, (_, size) in zip(counts, _CLASSES, strict=True) if count)
    pool += 33 if sum(counts) < len(distinct) else 0  # any other character: punctuation, space, non-ASCII
    return min(len(text) * math.log2(max(pool, 2)), 8.0 * len(distinct))


def _typed_text(value: Typed) -> str:
    """A number or boolean for hashing: tagged, so that it never hashes like the string with the same text."""
    return f"!!{value.type.name.lower()} {value.canonical}"


def _typed_json(value: object) -> object:
    """A number or boolean inside a structured value, for hashing as JSON (an object, never a JSON string)."""
    if isinstance(value, Typed):
        return {f"!!{value.type.name.lower()}": value.canonical}
    return str(value)


#: ``json.dumps(value, sort_keys=True, default=_typed_json)``, made once: ``dumps`` builds an encoder per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, default=_typed_json)


def is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One top-level variable of a var-store.

    ``value`` is normalized (see :func:`normalize`); ``line`` is 1-based; ``field_lines`` gives the line of each
    field of a structured value.
    """

    name: str
    value: object
    line: int
    field_lines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def __reduce__(self) -> Pickled:
        return _pickled(self)

    @cached
    def kind(self) -> Kind:
        return kind_of(self.value)

    @property
    def fields(self) -> Mapping[str, object]:
        value = self.value
        if type(value) is dict:  # what the loader builds; asked for on every field read, so skip the ABC check
            return value
        return value if isinstance(value, Mapping) else {}

    def text(self, field_name: str) -> str | None:
        """A string field of a structured value, or ``None``."""
        fields = self.value if type(self.value) is dict else self.fields  # the rules ask some 200,000 times a run
        value = fields.get(field_name)
        return value if type(value) is str or isinstance(value, str) else None

    @cached
    def fingerprint(self) -> str:
        """:func:`fingerprint` of the value, which is normalized already (every reader builds entries so)."""
        return _fingerprint_normalized(self.value)

    def field_line(self, field_name: str | None) -> int:
        if field_name is None:
            return self.line
        return self.field_lines.get(field_name, self.line)


@dataclass(frozen=True, kw_only=True)
class Duplicate:
    """A key written more than once. bosh keeps the last value; ``lines`` lists every occurrence."""

    name: str
    lines: tuple[int, ...]
    field: str | None = None


class Export(enum.Enum):
    """The format of a CredHub export file (``credhub export``), read as a var-store whose names are paths."""

    YAML = "CredHub export"
    JSON = "CredHub export (JSON)"


#: How sops writes an encrypted value: ``ENC[AES256_GCM,data:...,iv:...,tag:...,type:str]``.
SOPS_VALUE_PREFIX = "ENC[AES256_GCM,"


def is_ciphertext(value: object) -> bool:
    """Whether a value is one sops encrypted (readable only with its keys: never parsed as PEM)."""
    return isinstance(value, str) and value.startswith(SOPS_VALUE_PREFIX)


@dataclass(frozen=True, kw_only=True)
class Seal:
    """How a sops-encrypted var-store was read. Without keys its values are ciphertexts (compared as they are)
    and ``data_key`` identifies the wrapped data keys (a fingerprint: a changed one means every ciphertext
    changed); with ``--decrypt`` the values are the plaintext, and ``mac_mismatch`` says that sops found the file
    edited without it."""

    decrypted: bool
    data_key: str = ""
    mac_mismatch: bool = False


@dataclass(frozen=True, kw_only=True)
class VarStore:
    """A parsed var-store: its entries in file order, and what the loader noticed about the text.

    ``export`` says the file is a CredHub export (see :mod:`creds_lint.credhub`); ``mode`` holds its permission
    bits when it was read from a file (``None`` otherwise, and for var-stores). ``seal`` is set for a
    sops-encrypted file (see :mod:`creds_lint.sops`)."""

    source: str
    entries: Mapping[str, Entry]
    duplicates: tuple[Duplicate, ...] = ()
    digest: str = ""
    export: Export | None = None
    mode: int | None = None
    seal: Seal | None = None

    def __reduce__(self) -> Pickled:
        return _pickled(self)

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries.values())

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, name: str) -> Entry | None:
        return self.entries.get(name)

    def values(self) -> dict[str, object]:
        return {name: entry.value for name, entry in self.entries.items()}


#: How :func:`_pickled` says to rebuild a value: a function and its arguments (``object.__reduce__``).
Pickled = tuple[Callable[..., Any], tuple[object, ...]]


def _pickled(value: Any) -> Pickled:  # noqa: ANN401 - any frozen dataclass of this module
    """How an entry or a var-store pickles (a var-store read on another CPU, :mod:`creds_lint.background`): by its
    fields, whatever its class (a CredHub ``Credential`` too), each read-only mapping (which does not pickle) as a
    dict made read-only again."""
    fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    proxies = frozenset(name for name, field_value in fields.items() if isinstance(field_value, MappingProxyType))
    plain = {name: dict(v) if name in proxies else v for name, v in fields.items()}
    return _unpickled, (type(value), plain, proxies)


def _unpickled(kind: Callable[..., Any], fields: dict[str, Any], proxies: frozenset[str]) -> Any:  # noqa: ANN401
    return kind(**{name: MappingProxyType(v) if name in proxies else v for name, v in fields.items()})
