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
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

import yaml

from creds_lint import encrypted, yamlv2
from creds_lint.errors import CredsLintError
from creds_lint.model import Duplicate, Entry, Kind, Typed, VarStore, normalize
from creds_lint.origin import STDIN
from creds_lint.yamlread import (
    MAX_BYTES,
    MAX_CHARS,
    MAX_DEPTH,
    MAX_VALUES,
    NO_LINES,
    Built,
    Duplicates,
    Reader,
    text_of,
)

_CONFLICT = re.compile(rb"^(<{7}|={7}|>{7})(?: |\r?$)", re.MULTILINE)
_VAR_STORE = "a var-store"
_NEWLINE = ord("\n")


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
    conflict = _CONFLICT.search(data) if _may_conflict(data) else None
    if conflict:
        line = data.count(b"\n", 0, conflict.start()) + 1
        raise CredsLintError(
            f"line {line}: git merge-conflict marker; resolve the conflict before running bosh", source=source
        )
    return _build(text, source, hashlib.sha256(data).hexdigest())


def _may_conflict(data: bytes) -> bool:
    """Whether ``data`` may hold a git merge-conflict marker, which starts a line (:data:`_CONFLICT` then says).

    Substring searches are much faster than the anchored pattern over a large file, and a search for one byte
    faster still: a bosh var-store has neither ``<`` nor ``>``, and its ``=`` end base64 lines."""
    return (
        (b"<" in data and b"<<<<<<<" in data)
        or (b">" in data and b">>>>>>>" in data)
        or _starts_a_line(data, b"=======")
    )


def _starts_a_line(data: bytes, marker: bytes) -> bool:
    """Whether a line of ``data`` starts with ``marker``: each of its first bytes is found by a one-byte search and
    looked at, as long as they are a few per kilobyte (the ``=`` of base64 padding); beyond that, one substring
    search."""
    first = marker[:1]
    budget = len(data) // 1024 + 64
    at = data.find(first)
    while at >= 0:
        if (at == 0 or data[at - 1] == _NEWLINE) and data.startswith(marker, at):
            return True
        budget -= 1
        if not budget:
            return b"\n" + marker in data
        at = data.find(first, at + 1)
    return False


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


#: The events, compared by class: the parser makes exactly these, and an identity test is the cheapest one.
_SCALAR = yaml.ScalarEvent
_ALIAS = yaml.AliasEvent
_MAPPING = yaml.MappingStartEvent
_MAPPING_END = yaml.MappingEndEvent
_SEQUENCE = yaml.SequenceStartEvent
_SEQUENCE_END = yaml.SequenceEndEvent
_HINTED = yamlv2.HINTED

#: One key of a mapping as :meth:`_Builder.items` gives it: its name, its line, its value, and for a mapping value
#: the line of each of its keys and its :data:`Duplicates`.
Item = tuple[str, int, object, Mapping[str, int], Duplicates]


class _Builder(Reader):
    """Builds a var-store's plain values straight from the reader's events, every scalar as yaml.v2 reads it.

    A var-store is some 60,000 events, so the common ones take a fast path: a plain name as a key, an untagged
    string as a value, counted inline, with no :class:`Built` for a value nobody aliases. Anything else (aliases,
    anchors, tags, a scalar that may be a number) goes through the same checks as it always did.
    """

    scalar_tags = yamlv2.TAGS
    shape = "mapping"

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text, source, what=_VAR_STORE)
        #: What alias keys counted when they expanded (:meth:`name`): a key is one value in the size of the
        #: mapping that holds it, whatever it aliases, so an anchored node's size leaves this out.
        self.key_values = 0
        self.key_chars = 0

    def node(self, event: yaml.Event, depth: int) -> Built:
        """The node that starts with ``event``, with its size: the values and characters counted while it was
        read (every event is counted as it is read, aliases expanded), which an alias to it counts again."""
        if type(event) is _ALIAS:
            return self.alias(event)
        if depth > MAX_DEPTH:
            self.deep(event, depth)
        assert isinstance(event, yaml.NodeEvent)
        anchor = event.anchor
        if anchor is not None:
            self.anchors[anchor] = None
        values, chars = self.values - self.key_values, self.chars - self.key_chars
        value: object
        lines: dict[str, int]
        if type(event) is _MAPPING:
            self.check_collection_tag(event, "map")
            self.count(event, 1, 0)
            value, lines, duplicates = self.mapping(depth)
        else:
            value, lines, duplicates = self.build(event, depth), {}, ()
        node = Built(
            value=value,
            size=self.values - self.key_values - values,
            chars=self.chars - self.key_chars - chars,
            lines=MappingProxyType(lines) if lines else NO_LINES,
            duplicates=duplicates,
        )
        if anchor is not None:
            self.anchors[anchor] = node
        return node

    def value(self, event: yaml.Event, depth: int) -> object:
        """The value of the node that starts with ``event``: built directly unless an alias may ask for it."""
        if type(event) is _ALIAS or depth > MAX_DEPTH or _anchor(event) is not None:
            return self.node(event, depth).value
        return self.build(event, depth)

    def build(self, event: yaml.Event, depth: int) -> object:
        """The value of a scalar, list or mapping that starts with ``event``, which is neither an alias nor
        anchored, at a depth within the bound."""
        if type(event) is _SCALAR:
            self.count(event, 1, len(event.value))
            return self.scalar(event)
        if type(event) is _SEQUENCE:
            self.check_collection_tag(event, "seq")
            self.count(event, 1, 0)
            items: list[object] = []
            while type(child := self.next()) is not _SEQUENCE_END:
                items.append(self.value(child, depth + 1))
            return items
        if type(event) is _MAPPING:
            self.check_collection_tag(event, "map")
            self.count(event, 1, 0)
            return self.mapping(depth)[0]
        raise self.error(event, "unsupported YAML node")  # pragma: no cover - the parser emits no other node event

    def name(self, event: yaml.Event) -> str:
        """The name a key gives (:meth:`key`), counted as one value and its characters."""
        if type(event) is _SCALAR and event.tag is None and event.anchor is None and event.value != "<<":
            name: str = event.value  # the common key, a plain name, which key() would give as it is
        elif type(event) is _ALIAS:
            values, chars = self.values, self.chars
            name = self.key(event)
            self.key_values += self.values - values
            self.key_chars += self.chars - chars
        else:
            name = self.key(event)
        self.values += 1
        self.chars += len(name)
        if self.chars > MAX_CHARS or self.values > MAX_VALUES:
            raise self.too_many(event)
        return name

    def items(self, depth: int) -> Iterator[Item]:
        """The keys of the rest of a mapping (:data:`Item`), in order, duplicates included: a var-store's
        variables, a credential's fields."""
        child = depth + 1
        while type(key := self.next()) is not _MAPPING_END:
            name = self.name(key)
            line = _line(key)
            event = self.next()
            if type(event) is _MAPPING and event.anchor is None and child <= MAX_DEPTH:
                self.check_collection_tag(event, "map")
                self.count(event, 1, 0)
                value, lines, duplicates = self.mapping(child)
                yield name, line, value, MappingProxyType(lines), duplicates
            elif type(event) is _ALIAS or child > MAX_DEPTH or _anchor(event) is not None:
                node = self.node(event, child)
                yield name, line, node.value, node.lines, node.duplicates
            else:
                yield name, line, self.build(event, child), NO_LINES, ()

    def mapping(self, depth: int) -> tuple[dict[str, object], dict[str, int], Duplicates]:
        """The rest of a mapping: its value, the line of each key, and its :data:`Duplicates`. A duplicate key
        keeps its last value, as bosh does; every line it appears on is kept."""
        result: dict[str, object] = {}
        lines: dict[str, int] = {}
        again: dict[str, list[int]] = {}
        child = depth + 1
        shallow = child <= MAX_DEPTH
        while type(key := self.next()) is not _MAPPING_END:
            name = self.name(key)
            line = _line(key)
            event = self.next()
            # Most values are untagged strings (a PEM block, a password): counted and read here as build() would.
            if shallow and type(event) is _SCALAR and event.anchor is None:
                text: str = event.value
                self.values += 1
                self.chars += len(text)
                if self.chars > MAX_CHARS or self.values > MAX_VALUES:
                    raise self.too_many(event)
                if event.tag is None and (not event.implicit[0] or (text and text[0] not in _HINTED)):
                    value: object = text
                else:
                    value = self.scalar(event)
            else:
                value = self.value(event, child)
            if name in lines:
                again.setdefault(name, [lines[name]]).append(line)
                del result[name]
            result[name] = value
            lines[name] = line
        return result, lines, tuple((name, tuple(again[name])) for name in lines if name in again) if again else ()

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


def _anchor(event: yaml.Event) -> str | None:
    return event.anchor if isinstance(event, yaml.NodeEvent) else None


def _line(event: yaml.Event) -> int:
    # The parser marks every event (line_of also allows for an event without a mark).
    return event.start_mark.line + 1  # type: ignore[union-attr]


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
    first: dict[str, int] = {}  # the line of each name where it is first written, in that order
    again: dict[str, list[int]] = {}
    field_duplicates: list[Duplicate] = []
    for name, line, item, lines, duplicates in builder.items(0):
        if name in entries:
            # bosh keeps the last value of a duplicate key; so do we, and the duplicate is reported.
            again.setdefault(name, [entries[name].line]).append(line)
            del entries[name]
        else:
            first[name] = line
        if duplicates:
            field_duplicates.extend(Duplicate(name=name, field=f, lines=at) for f, at in duplicates)
        entries[name] = Entry(name=name, value=normalize(item), line=line, field_lines=lines)
    builder.finish()
    return VarStore(
        source=source,
        entries=MappingProxyType(entries),
        duplicates=(*(Duplicate(name=n, lines=tuple(again[n])) for n in first if n in again), *field_duplicates),
        digest=digest,
    )
