"""Bytes -> :class:`VarStore`, safely.

The text is read by :mod:`creds_lint.yamlread`, the reader of every YAML file creds-lint reads (bounded size,
nesting, values and alias expansion; no tag constructs an object; one-line errors that never quote the file), and
its events are built into plain values here, without composing a node graph, so that:

* every scalar is what bosh's yaml.v2 reads (:mod:`creds_lint.yamlv2`): ``0123`` is an integer, ``"0123"`` a string;
* every top-level variable and every field gets its line number;
* duplicate keys are noticed (bosh silently keeps the last one);
* ciphertext and git merge-conflict markers are named as such.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import yaml

from creds_lint import encrypted, yamlv2
from creds_lint.errors import CredsLintError
from creds_lint.model import Duplicate, Entry, Kind, Typed, VarStore, normalize
from creds_lint.origin import STDIN
from creds_lint.yamlread import MAX_BYTES, MAX_DEPTH, Built, Reader, line_of, text_of

_CONFLICT = re.compile(rb"^(<{7}|={7}|>{7})(?: |\r?$)", re.MULTILINE)
_VAR_STORE = "a var-store"


def read_file(path: str | Path) -> bytes:
    """The bytes of a file, or a one-line :class:`CredsLintError` saying why not."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise CredsLintError("no such file", source=source) from None
    except IsADirectoryError:
        raise CredsLintError("is a directory, not a var-store file", source=source) from None
    except PermissionError:
        raise CredsLintError("permission denied", source=source) from None
    except OSError as exc:
        raise CredsLintError(f"cannot read the file ({exc.strerror or type(exc).__name__})", source=source) from None
    if len(data) > MAX_BYTES:
        raise CredsLintError(f"larger than {MAX_BYTES // 2**20} MiB: not a var-store", source=source)
    return data


def read_stdin() -> bytes:
    """The bytes of standard input (``-`` on the command line), bounded as a file is; a terminal is refused (the
    run would wait for input nobody is typing)."""
    stream = sys.stdin
    if stream is None or stream.isatty():
        raise CredsLintError(
            "standard input is a terminal: pipe a var-store into - (cat FILE | creds-lint ...)", source=STDIN
        )
    try:
        data = stream.buffer.read(MAX_BYTES + 1)
    except OSError as exc:
        raise CredsLintError(
            f"cannot read standard input ({exc.strerror or type(exc).__name__})", source=STDIN
        ) from None
    if len(data) > MAX_BYTES:
        raise CredsLintError(f"larger than {MAX_BYTES // 2**20} MiB: not a var-store", source=STDIN)
    return data


def load_store(path: str | Path) -> VarStore:
    """Read and parse the var-store at ``path``."""
    return parse_store(read_file(path), source=str(path))


def parse_store(data: bytes, *, source: str, decrypt: bool = False) -> VarStore:
    """Parse the bytes of a var-store. Raises :class:`CredsLintError` for anything that is not one.

    Ciphertext is recognised first (:mod:`creds_lint.encrypted`): a sops file is read by :mod:`creds_lint.sops`
    (decrypted by ``sops`` when ``decrypt``), any other is an error that names its tool.
    """
    if len(data) > MAX_BYTES:
        raise CredsLintError(f"larger than {MAX_BYTES // 2**20} MiB: not a var-store", source=source)
    cipher = encrypted.detect(data)
    if cipher is encrypted.Cipher.SOPS:
        from creds_lint import sops

        return sops.load(data, source=source, decrypt=decrypt)
    if cipher is not None:
        raise CredsLintError(cipher.unreadable, source=source)
    return parse_plain(data, source=source)


def parse_plain(data: bytes, *, source: str) -> VarStore:
    """Parse the bytes of a var-store as YAML, whatever they hold (:func:`parse_store` recognises ciphertext)."""
    text = text_of(data, source=source, what=_VAR_STORE)
    # Searching for the marker first is much faster than the anchored pattern over a large file.
    conflict = _CONFLICT.search(data) if b"<<<<<<<" in data or b"=======" in data or b">>>>>>>" in data else None
    if conflict:
        line = data.count(b"\n", 0, conflict.start()) + 1
        raise CredsLintError(
            f"line {line}: git merge-conflict marker; resolve the conflict before running bosh", source=source
        )
    return _build(text, source, hashlib.sha256(data).hexdigest())


#: A password as the bosh CLI generates it: 20 characters, lower-case letters and digits.
_BOSH_PASSWORD = re.compile(r"[a-z0-9]{20}")


def looks_like_var_store(data: bytes) -> bool:
    """Whether a YAML file reads as a bosh var-store whatever its name: a mapping whose every value is one of the
    shapes bosh writes (a certificate with its key, an rsa or ssh key pair, a password), with at least one key pair
    or certificate, or only passwords that bosh generated. A file that is not a readable var-store is not one."""
    try:
        store = parse_store(data, source="")
    except CredsLintError:
        return False
    kinds = [entry.kind for entry in store]
    if not kinds or Kind.UNKNOWN in kinds:
        return False
    if any(kind is not Kind.PASSWORD for kind in kinds):
        return True
    return all(isinstance(e.value, str) and _BOSH_PASSWORD.fullmatch(e.value) for e in store)


class _Builder(Reader):
    """Builds a var-store's plain values straight from the reader's events, every scalar as yaml.v2 reads it."""

    scalar_tags = yamlv2.TAGS
    shape = "mapping"

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text, source, what=_VAR_STORE)

    def node(self, event: yaml.Event, depth: int) -> Built:
        """The node that starts with ``event``."""
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

    def items(self, depth: int) -> Iterator[tuple[str, int, Built]]:
        """(key, line of the key, value) of the rest of a mapping, in order, duplicates included."""
        while not isinstance(key_event := self.next(), yaml.MappingEndEvent):
            name = self.key(key_event)
            self.count(key_event, 1, len(name))
            yield name, line_of(key_event), self.node(self.next(), depth + 1)

    def mapping(self, depth: int) -> Built:
        # A duplicate key keeps its last value, as bosh does; every line it appears on is kept.
        result: dict[str, object] = {}
        seen: dict[str, list[int]] = {}
        size, chars = 1, 0
        for name, line, node in self.items(depth):
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
        """A scalar as bosh's yaml.v2 reads it (:mod:`creds_lint.yamlv2`): a string, ``None`` for a null, a
        :class:`Typed` number or boolean (``0123`` is the integer 83, ``"0123"`` a string), ``!!binary``
        decoded. A value yaml.v2 refuses (``!!int abc``) is an error: bosh cannot read the file."""
        text: str = event.value
        if event.tag is None and (not event.implicit[0] or not yamlv2.may_resolve(text)):
            return text  # quoted, a block, or plain text no other type starts with: most values, read fast
        tag = "!" if event.tag == "!" else self.check_scalar_tag(event)
        try:
            return yamlv2.resolve(text, tag=tag, plain=bool(event.implicit[0]) and event.tag is None)
        except yamlv2.Unreadable as exc:
            raise self.error(event, f"{exc}: bosh cannot read this file") from None


def _build(text: str, source: str, digest: str) -> VarStore:
    builder = _Builder(text, source)
    with builder.reading():
        return _store(builder, source, digest)


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
        if isinstance(value, yaml.SequenceStartEvent):  # a CredHub export: a list of name, type and value
            from creds_lint import credhub

            return credhub.read_export(builder, key, value, source=source, digest=digest)
        builder.unread(key, value)
    else:
        builder.unread(key)
    entries: dict[str, Entry] = {}
    seen: dict[str, list[int]] = {}
    field_duplicates: list[Duplicate] = []
    for name, line, node in builder.items(0):
        seen.setdefault(name, []).append(line)
        field_duplicates.extend(Duplicate(name=name, field=f, lines=at) for f, at in node.duplicates)
        # bosh keeps the last value of a duplicate key; so do we, and the duplicate is reported.
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
