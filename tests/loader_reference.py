"""The var-store builder (and the search for ciphertext) as it was before their fast paths, kept verbatim: the oracle of
tests/test_loader_differential.py, which checks that the loader still builds exactly what this one built, errors
included. It reads the same events from the same :class:`~creds_lint.yamlread.Reader`; only the way values,
sizes, lines and duplicates are built from them differs. Not used by creds-lint itself."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from types import MappingProxyType

import yaml

from creds_lint import encrypted, yamlv2
from creds_lint.errors import CredsLintError
from creds_lint.model import Duplicate, Entry, Typed, VarStore, normalize
from creds_lint.yamlread import MAX_BYTES, MAX_DEPTH, Built, Reader, line_of, text_of

_CONFLICT = re.compile(rb"^(<{7}|={7}|>{7})(?: |\r?$)", re.MULTILINE)
_VAR_STORE = "a var-store"


def parse_store(data: bytes, *, source: str) -> VarStore:
    """:func:`creds_lint.loader.parse_store` of a file that is not sops (which both read alike)."""
    if len(data) > MAX_BYTES:
        raise CredsLintError(f"larger than {MAX_BYTES // 2**20} MiB: not a var-store", source=source)
    cipher = detect(data)
    if cipher is not None:
        raise CredsLintError(cipher.unreadable, source=source)
    text = text_of(data, source=source, what=_VAR_STORE)
    conflict = _CONFLICT.search(data)
    if conflict:
        line = data.count(b"\n", 0, conflict.start()) + 1
        raise CredsLintError(
            f"line {line}: git merge-conflict marker; resolve the conflict before running bosh", source=source
        )
    builder = _Builder(text, source)
    with builder.reading():
        return _store(builder, source, hashlib.sha256(data).hexdigest())


def detect(data: bytes) -> encrypted.Cipher | None:
    """:func:`creds_lint.encrypted.detect` as it was."""
    return encrypted._whole_file(data) or _inside(data)


_SOPS_MAP = re.compile(rb"^sops:[ \t]*\r?$", re.MULTILINE)
_SOPS_JSON = re.compile(rb'^[ \t]*"sops"[ \t]*:[ \t]*\{', re.MULTILINE)


def _inside(data: bytes) -> encrypted.Cipher | None:
    if b"$ANSIBLE_VAULT;" in data:
        return encrypted.Cipher.ANSIBLE_VAULT
    if b"ENC[AES256_GCM," in data:
        return encrypted.Cipher.SOPS
    if b"sops" not in data:
        return None
    yaml_map = (data.startswith(b"sops:") or b"\nsops:" in data) and _SOPS_MAP.search(data)
    if b"mac" in data and (yaml_map or (b'"sops"' in data and _SOPS_JSON.search(data))):
        return encrypted.Cipher.SOPS
    return None


class _Builder(Reader):
    scalar_tags = yamlv2.TAGS
    shape = "mapping"

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text, source, what=_VAR_STORE)

    def node(self, event: yaml.Event, depth: int) -> Built:
        if isinstance(event, yaml.AliasEvent):
            return self.alias(event)
        if depth > MAX_DEPTH:
            self.deep(event, depth)
        assert isinstance(event, yaml.NodeEvent)
        anchor = event.anchor
        if anchor is not None:
            self.anchors[anchor] = None
        if isinstance(event, yaml.ScalarEvent):
            self.count(event, 1, len(event.value))
            node = Built(value=self.scalar(event), size=1, chars=len(event.value))
        elif isinstance(event, yaml.SequenceStartEvent):
            self.check_collection_tag(event, "seq")
            self.count(event, 1, 0)
            items: list[object] = []
            size, chars = 1, 0
            while not isinstance(child := self.next(), yaml.SequenceEndEvent):
                item = self.node(child, depth + 1)
                items.append(item.value)
                size += item.size
                chars += item.chars
            node = Built(value=items, size=size, chars=chars)
        elif isinstance(event, yaml.MappingStartEvent):
            self.check_collection_tag(event, "map")
            self.count(event, 1, 0)
            node = self.mapping(depth)
        else:  # pragma: no cover - the parser emits no other node event
            raise self.error(event, "unsupported YAML node")
        if anchor is not None:
            self.anchors[anchor] = node
        return node

    def pairs(self, depth: int) -> Iterator[tuple[str, int, Built]]:
        while not isinstance(key_event := self.next(), yaml.MappingEndEvent):
            name = self.key(key_event)
            self.count(key_event, 1, len(name))
            yield name, line_of(key_event), self.node(self.next(), depth + 1)

    def items(self, depth: int) -> Iterator[tuple[str, int, object, object, object]]:
        """:meth:`pairs` in the shape :func:`creds_lint.credhub.read_export` reads them now."""
        for name, line, node in self.pairs(depth):
            yield name, line, node.value, node.lines, node.duplicates

    def mapping(self, depth: int) -> Built:
        result: dict[str, object] = {}
        seen: dict[str, list[int]] = {}
        size, chars = 1, 0
        for name, line, node in self.pairs(depth):
            result.pop(name, None)
            result[name] = node.value
            seen.setdefault(name, []).append(line)
            size += 1 + node.size
            chars += len(name) + node.chars
        return Built(
            value=result,
            size=size,
            chars=chars,
            lines=MappingProxyType({name: lines[-1] for name, lines in seen.items()}),
            duplicates=tuple((name, tuple(lines)) for name, lines in seen.items() if len(lines) > 1),
        )

    def scalar(self, event: yaml.ScalarEvent) -> str | Typed | None:
        text: str = event.value
        if event.tag is None and (not event.implicit[0] or not yamlv2.may_resolve(text)):
            return text
        tag = "!" if event.tag == "!" else self.check_scalar_tag(event)
        try:
            return yamlv2.resolve(text, tag=tag, plain=bool(event.implicit[0]) and event.tag is None)
        except yamlv2.Unreadable as exc:
            raise self.error(event, f"{exc}: bosh cannot read this file") from None


def _store(builder: _Builder, source: str, digest: str) -> VarStore:
    root = builder.root()
    empty = VarStore(source=source, entries=MappingProxyType({}), digest=digest)
    if root is None:
        return empty
    if isinstance(root, yaml.ScalarEvent) and builder.scalar(root) is None:
        builder.finish()
        return empty
    if not isinstance(root, yaml.MappingStartEvent):
        what = "a list" if isinstance(root, yaml.SequenceStartEvent) else "a single value"
        raise CredsLintError(f"the top level is {what}, not a mapping of variable names to values", source=source)
    builder.check_collection_tag(root, "map")
    builder.count(root, 1, 0)
    key = builder.next()
    if isinstance(key, yaml.ScalarEvent) and str(key.value).lower() == "credentials":
        value = builder.next()
        if isinstance(value, yaml.SequenceStartEvent):
            from creds_lint import credhub

            return credhub.read_export(builder, key, value, source=source, digest=digest)  # type: ignore[arg-type]
        builder.unread(key, value)
    else:
        builder.unread(key)
    entries: dict[str, Entry] = {}
    seen: dict[str, list[int]] = {}
    field_duplicates: list[Duplicate] = []
    for name, line, node in builder.pairs(0):
        seen.setdefault(name, []).append(line)
        field_duplicates.extend(Duplicate(name=name, field=f, lines=at) for f, at in node.duplicates)
        entries.pop(name, None)
        entries[name] = Entry(name=name, value=normalize(node.value), line=line, field_lines=node.lines)
    builder.finish()
    duplicates = [Duplicate(name=n, lines=tuple(at)) for n, at in seen.items() if len(at) > 1]
    return VarStore(
        source=source,
        entries=MappingProxyType(entries),
        duplicates=(*duplicates, *field_duplicates),
        digest=digest,
    )
