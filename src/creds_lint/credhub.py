"""CredHub export files (``credhub export``): read as a var-store whose names are CredHub paths; subset import files.

``credhub export [-p PATH] [-f FILE] [-j]`` writes the latest version of every credential: in YAML a top-level
``credentials:`` list of ``name``/``type``/``value`` (and ``metadata``), with ``-j`` the same in JSON with
capitalised keys (``Credentials``, ``Name``, ...). A certificate signed by another credential carries
``ca_name: SIGNER`` instead of ``ca``. ``credhub import -f FILE`` sets every entry it is given (overwriting), drops
``password_hash`` and ``public_key_fingerprint``, and sets signers before the certificates that name them.

Entries are matched by their full name, never by their position; classification reads the last path segment
(:func:`creds_lint.model.short_name`). Each CredHub type maps to one of the kinds bosh writes, and a ``user``'s
``password_hash`` is no part of its value (a new salt after every import: it is formatting).
"""

from __future__ import annotations

import enum
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import yaml

from creds_lint import x509
from creds_lint.errors import CredsLintError
from creds_lint.model import Duplicate, Entry, Export, Kind, Typed, VarStore, normalize

if TYPE_CHECKING:
    from creds_lint.loader import _Builder
    from creds_lint.yamlread import Duplicates


class CredentialType(enum.Enum):
    """The credential types of CredHub, and the kind of value each one is checked as."""

    PASSWORD = "password"  # noqa: S105 - a type name, not a password
    VALUE = "value"
    JSON = "json"
    USER = "user"
    CERTIFICATE = "certificate"
    RSA = "rsa"
    SSH = "ssh"

    @property
    def kind(self) -> Kind:
        return _KIND[self]


_KIND = {
    CredentialType.PASSWORD: Kind.PASSWORD,
    CredentialType.VALUE: Kind.PASSWORD,
    CredentialType.USER: Kind.PASSWORD,  # a login: its password is the secret
    CredentialType.JSON: Kind.UNKNOWN,  # no known shape: still protected
    CredentialType.CERTIFICATE: Kind.CERTIFICATE,
    CredentialType.RSA: Kind.RSA,
    CredentialType.SSH: Kind.SSH,
}

#: The types whose value is one string, and those whose value is a mapping of fields.
_STRING_TYPES = frozenset({CredentialType.PASSWORD, CredentialType.VALUE})
_MAPPING_TYPES = frozenset({CredentialType.USER, CredentialType.CERTIFICATE, CredentialType.RSA, CredentialType.SSH})
#: Fields CredHub computes and ``credhub import`` drops: never part of the compared value.
_COMPUTED = {CredentialType.USER: "password_hash"}
_SHOWN_TYPE = re.compile(r"[A-Za-z_-]{1,20}")


@dataclass(frozen=True, kw_only=True)
class Credential(Entry):
    """One credential of a CredHub export. ``value`` is what is compared (normalized, without the fields CredHub
    computes); ``raw`` is the value as exported and ``metadata`` the credential's metadata, for import files."""

    type: CredentialType
    raw: object = None
    metadata: object = None

    @cached_property
    def kind(self) -> Kind:
        return self.type.kind

    @property
    def ca_name(self) -> str | None:
        """The credential that signed this certificate, when the export names it (``ca_name``)."""
        return self.text("ca_name")


def is_export(store: VarStore) -> bool:
    return store.export is not None


def read_export(
    builder: _Builder, key: yaml.ScalarEvent, sequence: yaml.SequenceStartEvent, *, source: str, digest: str
) -> VarStore:
    """The rest of a CredHub export, from the start of its ``credentials`` list (``key`` is its key; read by the
    loader's builder, so every limit on hostile input holds): one entry per credential, by name."""
    builder.check_collection_tag(sequence, "seq")
    builder.count(sequence, 1, 0)
    export = Export.JSON if key.style == '"' else Export.YAML  # JSON quotes every key; YAML exports do not
    entries: dict[str, Entry] = {}
    seen: dict[str, list[int]] = {}
    field_duplicates: list[Duplicate] = []
    index = 0
    while not isinstance(event := builder.next(), yaml.SequenceEndEvent):
        index += 1
        credential, duplicates = _credential(builder, event, index)
        seen.setdefault(credential.name, []).append(credential.line)
        field_duplicates.extend(duplicates)
        # credhub import sets every entry in turn: the last one of a name wins.
        entries.pop(credential.name, None)
        entries[credential.name] = credential
    end = builder.next()
    if not isinstance(end, yaml.MappingEndEvent):
        raise builder.error(
            end, "a CredHub export holds only its 'credentials' list, but another top-level key follows"
        )
    builder.finish()
    return VarStore(
        source=source,
        entries=MappingProxyType(entries),
        duplicates=(
            *(Duplicate(name=name, lines=tuple(at)) for name, at in seen.items() if len(at) > 1),
            *field_duplicates,
        ),
        digest=digest,
        export=export,
    )


def _credential(builder: _Builder, event: yaml.Event, index: int) -> tuple[Credential, list[Duplicate]]:
    if not isinstance(event, yaml.MappingStartEvent):
        raise builder.error(event, f"credential {index} of the export is not a mapping of name, type and value")
    builder.check_collection_tag(event, "map")
    builder.count(event, 1, 0)
    fields: dict[str, object] = {}
    lines: dict[str, int] = {}
    value_lines: Mapping[str, int] = MappingProxyType({})
    value_duplicates: Duplicates = ()
    for key, line, item, item_lines, item_duplicates in builder.items(1):
        field = key.lower()  # credhub import lowercases the keys of each credential (JSON writes Name, Type...)
        fields[field] = item
        lines[field] = line
        if field == "value":
            value_lines, value_duplicates = item_lines, item_duplicates
    start = lines.get("name", _line(event))
    name = fields.get("name")
    if not isinstance(name, str) or not name.strip():
        raise builder.error(event, f"credential {index} of the export has no name")
    kind = fields.get("type")
    if not isinstance(kind, str) or not kind.strip():
        raise CredsLintError(f"line {start}: {name} has no type", source=builder.source)
    try:
        credential_type = CredentialType(kind.strip().lower())
    except ValueError:
        shown = f"'{kind}'" if _SHOWN_TYPE.fullmatch(kind) else "an unknown type"
        known = ", ".join(t.value for t in CredentialType)
        raise CredsLintError(
            f"line {start}: {name} has {shown}, not a CredHub type ({known})", source=builder.source
        ) from None
    if "value" not in fields:
        raise CredsLintError(f"line {start}: {name} has no value", source=builder.source)
    raw = fields["value"]
    _check_shape(builder, name, credential_type, raw, start)
    value = normalize(raw)
    computed = _COMPUTED.get(credential_type)
    if computed is not None and isinstance(value, dict):
        value.pop(computed, None)
    duplicates = [Duplicate(name=name, field=f, lines=at) for f, at in value_duplicates]
    credential = Credential(
        name=name,
        value=value,
        line=start,
        field_lines=value_lines,
        type=credential_type,
        raw=raw,
        metadata=fields.get("metadata"),
    )
    return credential, duplicates


def _check_shape(builder: _Builder, name: str, kind: CredentialType, value: object, line: int) -> None:
    """A value of the wrong shape for its type (CredHub would refuse to set it) is bad input; a null value is
    left to ``empty-value``."""
    if value is None:
        return
    if kind in _STRING_TYPES and not isinstance(value, str | Typed):  # credhub import makes numbers strings
        raise CredsLintError(
            f"line {line}: {name} is a {kind.value} but its value is not one string", source=builder.source
        )
    if kind in _MAPPING_TYPES and not isinstance(value, dict):
        raise CredsLintError(
            f"line {line}: {name} is a {kind.value} but its value is not a mapping of fields", source=builder.source
        )


def _line(event: yaml.Event) -> int:
    mark = event.start_mark
    return int(mark.line) + 1 if mark is not None else 0


# --- who depends on whom ------------------------------------------------------------------------------------


def dependents(store: VarStore) -> Mapping[str, tuple[str, ...]]:
    """The certificates of an export by the signer their ``ca_name`` names, in file order (one pass)."""
    found: dict[str, list[str]] = {}
    for entry in store:
        if isinstance(entry, Credential) and (signer := entry.ca_name) is not None and signer != entry.name:
            found.setdefault(signer, []).append(entry.name)
    return {signer: tuple(names) for signer, names in found.items()}


# --- subset import files --------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Selection:
    """What a subset import file holds: the chosen credentials, and the signers added because a chosen
    certificate's ``ca_name`` needs their old version (signers first, the order ``credhub import`` sets them)."""

    chosen: tuple[Credential, ...]
    signers: tuple[Credential, ...] = ()

    @property
    def credentials(self) -> tuple[Credential, ...]:
        return (*self.signers, *self.chosen)


def select(old: VarStore, new: VarStore, names: Iterable[str]) -> Selection:
    """The credentials ``names`` as ``old`` holds them, plus every signer their ``ca_name`` needs: one whose
    version in ``new`` no longer verifies the old certificate (regenerated with a new key, or missing), and so on
    up the chain. A signer that still verifies it (unchanged or renewed with its key) is left as it is."""
    if not is_export(old):
        raise CredsLintError("not a CredHub export (no top-level credentials: list)", source=old.source)
    chosen: list[Credential] = []
    for name in dict.fromkeys(names):
        entry = old.get(name)
        if not isinstance(entry, Credential):
            raise CredsLintError(f"{name} is not in the old export", source=old.source)
        chosen.append(entry)
    picked = {entry.name for entry in chosen}
    signers: list[Credential] = []
    pending = list(chosen)
    while pending:
        entry = pending.pop(0)
        signer = entry.ca_name
        if signer is None or signer in picked:
            continue
        previous = old.get(signer)
        if not isinstance(previous, Credential):
            raise CredsLintError(
                f"{entry.name} is signed by {signer} (ca_name), which is not in the old export: export its path too",
                source=old.source,
            )
        if signs(entry, new.get(signer)):
            continue
        picked.add(signer)
        signers.append(previous)
        pending.append(previous)
    # A signer is set before what it signs: the deepest one first.
    return Selection(chosen=tuple(chosen), signers=tuple(reversed(signers)))


def signs(entry: Entry, signer: Entry | None) -> bool:
    """Whether ``signer``'s certificate verifies the certificate of ``entry``."""
    pem, ca_pem = entry.text("certificate"), signer.text("certificate") if signer is not None else None
    cert = x509.load_certificate(pem) if pem else None
    ca = x509.load_certificate(ca_pem) if ca_pem else None
    return cert is not None and ca is not None and x509.signed_by(cert, ca)


def import_document(selection: Selection) -> str:
    """The YAML that ``credhub import -f`` reads: ``credentials:`` with name, type, value (and metadata)."""
    items: list[dict[str, object]] = []
    for entry in selection.credentials:
        item: dict[str, object] = {"name": entry.name, "type": entry.type.value, "value": entry.raw}
        if entry.metadata is not None:
            item["metadata"] = entry.metadata
        items.append(item)
    return yaml.dump({"credentials": items}, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1 << 30)


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_str(data)


def _represent_typed(dumper: yaml.SafeDumper, data: Typed) -> yaml.ScalarNode:
    """A number or boolean as the export had it: unquoted, so that it is read as one again."""
    tags = {"integer": "int", "float": "float", "boolean": "bool"}
    return dumper.represent_scalar(f"tag:yaml.org,2002:{tags[data.type.value]}", data.canonical)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Typed, _represent_typed)


def write_import_file(path: str | Path, selection: Selection) -> Path:
    """Write the import file with mode 0600 (it holds secrets), all at once: the complete file appears under its
    name or nothing does. An existing file is never replaced (it may be another backup). The text is read back
    first: it must be an export of exactly the selected credentials, with their values."""
    target = Path(path)
    source = str(target)
    text = import_document(selection).encode("utf-8")
    written = _read_back(text, source=source)
    if [e.name for e in written] != [e.name for e in selection.credentials] or any(
        e.value != c.value for e, c in zip(written, selection.credentials, strict=True)
    ):  # pragma: no cover - the writer and the reader disagree: a bug, never a file to import
        raise CredsLintError("the import file would not read back as written; nothing written", source=source)
    if target.exists() or target.is_symlink():
        raise CredsLintError("exists already: give a new file name (nothing written)", source=source)
    directory = target.parent
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise CredsLintError(f"cannot write the import file ({exc.strerror}); nothing written", source=source) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            os.fchmod(stream.fileno(), 0o600)
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.link(temporary, target)  # fails if the name was taken meanwhile: never overwrites
    except FileExistsError:
        raise CredsLintError("exists already: give a new file name (nothing written)", source=source) from None
    except OSError as exc:
        raise CredsLintError(f"cannot write the import file ({exc.strerror}); nothing written", source=source) from None
    finally:
        Path(temporary).unlink(missing_ok=True)
    return target


def _read_back(data: bytes, *, source: str) -> VarStore:
    """``data`` read as an export (the loader), or a :class:`CredsLintError`."""
    from creds_lint.loader import parse_store

    store = parse_store(data, source=source)
    if store.export is None:  # pragma: no cover - import_document always writes a credentials list
        raise CredsLintError("not a CredHub export", source=source)
    return store


def import_command(path: str | Path) -> str:
    return f"credhub import -f {path}"
