"""The block writer: change chosen top-level entries of a var-store and leave every other byte alone.

The commands that write a var-store (``restore``, ``renew``, ``rotate``) go through this module and
:mod:`creds_lint.atomic`. The API is small:

* ``split(data, source=...) -> Blocks`` reads a var-store into its top-level blocks. A :class:`Block` is one entry:
  its ``name``, its ``raw`` text (from the key's line to the line before the next key, comment lines in between
  left out), its span in the file and its ``value`` as bosh (yaml.v2) decodes it. :class:`Blocks` also keeps
  what is around the blocks (a leading comment, ``---``, a BOM) and the file's :class:`LineEnding`. It refuses,
  with a :class:`~creds_lint.errors.CredsLintError`, what it cannot edit block by block: duplicate top-level keys,
  a flow-style (``{a: 1}``) or otherwise non-block top level, a key that does not start its line, and ciphertext
  (a sops file's values are changed with ``sops set``, which keeps its MAC).
* Edits are values: ``Set(name=..., value=..., raw=...)`` replaces an entry in place or, when the file lacks it,
  inserts it where yaml.v2's key order puts it among the others, without moving any; ``Remove(name=...)`` drops
  one; ``Rename(name=..., to=...)`` moves an entry to another name (its lines kept, the key changed). ``raw`` is
  the entry's text in another var-store (a :class:`Block`'s ``raw``): it is kept verbatim when it
  is in bosh's style (what yaml.v2 writes for that value: sorted, or in the struct order bosh writes the entry it
  generated last), else the value is re-emitted as bosh writes it (:func:`creds_lint.emitter.emit_entry`). Without
  ``raw``, the value is emitted. Either way the text takes the file's line endings.
* ``blocks.apply(edits) -> Applied`` makes the new text and verifies it by parsing it again: every edited name
  has its new value (or is gone), every other entry has its old value, and creds-lint's loader reads the result.
  ``Applied.data`` is the new file's bytes, ``Applied.changes`` says what happened to each edited name.
* :func:`creds_lint.atomic.write` then writes ``Applied.data`` safely (temporary file, fsync, rename, backup).

Nothing here quotes a value: errors name entries and line numbers only.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import yaml

from creds_lint import emitter, encrypted, loader, yamlv2
from creds_lint.emitter import Unrepresentable, Value
from creds_lint.errors import CredsLintError

_BOM = "\ufeff"
#: libyaml's line breaks (it counts NEL, LS and PS as breaks too).
_LINE = re.compile(r"[^\r\n\x85\u2028\u2029]*(?:\r\n|[\r\n\x85\u2028\u2029]|$)")


class LineEnding(enum.Enum):
    """The line endings of a file, which every block written into it takes."""

    LF = "\n"
    CRLF = "\r\n"

    @classmethod
    def of(cls, text: str) -> LineEnding:
        """The style of the first line break (LF for a file of one line)."""
        first = text.find("\n")
        return cls.CRLF if first > 0 and text[first - 1] == "\r" else cls.LF

    def apply(self, text: str) -> str:
        """``text`` with this style of line endings."""
        unix = text.replace("\r\n", "\n")
        return unix if self is LineEnding.LF else unix.replace("\n", "\r\n")


@dataclass(frozen=True, kw_only=True, slots=True)
class Block:
    """One top-level entry of a var-store. ``start``/``end`` are character offsets into the file's text (after
    any BOM): ``raw == text[start:end]``. ``line`` is the key's line (1-based)."""

    name: str
    start: int
    end: int
    line: int
    raw: str
    value: Value


@dataclass(frozen=True, kw_only=True, slots=True)
class Set:
    """Give entry ``name`` this ``value``: in place when the file has it, else inserted in yaml.v2 key order.
    ``raw``: the entry's text in another var-store, kept verbatim when it is in bosh's style."""

    name: str
    value: Value
    raw: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Remove:
    """Drop entry ``name`` (its comment lines, if any, stay)."""

    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Rename:
    """Give entry ``name`` the name ``to`` (which the file must not have), with the same value, at ``to``'s place in
    yaml.v2 key order (``credhub_encryption_password`` -> ``credhub_encryption_password_old``)."""

    name: str
    to: str


Edit = Set | Remove | Rename


class Action(enum.Enum):
    """What an edit did to a name."""

    REPLACED = "replaced"
    INSERTED = "inserted"
    REMOVED = "removed"
    RENAMED = "renamed"


class Text(enum.Enum):
    """Where the text of a written entry came from."""

    VERBATIM = "verbatim"  # the given raw text, as it was (line endings aside)
    EMITTED = "emitted"  # written as bosh writes the value
    NONE = "none"  # removed


@dataclass(frozen=True, kw_only=True, slots=True)
class Change:
    """What an edit did: ``name`` was replaced, inserted, removed, or renamed ``to``."""

    name: str
    action: Action
    text: Text
    to: str | None = None


@dataclass(frozen=True, kw_only=True)
class Applied:
    """The result of :meth:`Blocks.apply`: the new file (verified) and what changed."""

    blocks: Blocks
    changes: tuple[Change, ...]

    @property
    def data(self) -> bytes:
        return self.blocks.data


@dataclass(frozen=True, kw_only=True)
class Blocks:
    """A var-store split into its top-level blocks. ``head`` is the text before the first block; ``gaps[i]`` the
    text after block ``i`` (comment lines before the next key, or the end of the file). ``placeholder``: the file
    holds no entry but some text (``{}``, ``null``, a comment) that a first entry replaces."""

    source: str
    text: str
    bom: bool
    line_ending: LineEnding
    head: str
    blocks: tuple[Block, ...]
    gaps: tuple[str, ...]
    placeholder: bool = False
    _index: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(b.name for b in self.blocks)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def get(self, name: str) -> Block | None:
        at = self._index.get(name)
        return None if at is None else self.blocks[at]

    def values(self) -> dict[str, Value]:
        return {b.name: b.value for b in self.blocks}

    @property
    def data(self) -> bytes:
        return ((_BOM if self.bom else "") + self.text).encode("utf-8")

    def byte_span(self, name: str) -> tuple[int, int]:
        """The bytes of the file that entry ``name`` takes (a BOM counted)."""
        block = self.get(name)
        if block is None:
            raise KeyError(name)
        offset = 3 if self.bom else 0
        start = offset + len(self.text[: block.start].encode("utf-8"))
        return start, start + len(block.raw.encode("utf-8"))

    def in_style(self, name: str, raw: str, value: Value) -> bool:
        """Whether ``raw`` is the text bosh writes for entry ``name`` with ``value`` (line endings aside)."""
        return _in_style(name, raw, value)

    def apply(self, edits: Sequence[Edit]) -> Applied:
        """The file with ``edits`` made, verified by parsing it again (see the module docstring)."""
        seen: set[str] = set()
        for edit in edits:
            for name in (edit.name, edit.to) if isinstance(edit, Rename) else (edit.name,):
                if name in seen:
                    raise CredsLintError(f"{name}: edited twice in one change", source=self.source)
                seen.add(name)
        edited = _Edited([[b.name, b.raw, gap] for b, gap in zip(self.blocks, self.gaps, strict=True)], self.head)
        changes: list[Change] = []
        expected = self.values()
        for edit in edits:
            if isinstance(edit, Remove):
                edited.remove(edit.name, self.source)
                del expected[edit.name]
                changes.append(Change(name=edit.name, action=Action.REMOVED, text=Text.NONE))
            elif isinstance(edit, Rename):
                block = self.get(edit.name)
                if block is None or edit.name not in edited:
                    raise CredsLintError(f"{edit.name}: not in the file, nothing to rename", source=self.source)
                if edit.to in edited:
                    raise CredsLintError(
                        f"{edit.to}: already in the file; refusing to overwrite it", source=self.source
                    )
                text, how = self._renamed(block, edit.to)
                edited.remove(edit.name, self.source)
                edited.insert(edit.to, text)
                expected[edit.to] = expected.pop(edit.name)
                changes.append(Change(name=edit.name, action=Action.RENAMED, text=how, to=edit.to))
            else:
                text, how = self._text_for(edit)
                expected[edit.name] = edit.value
                if edit.name in edited:
                    edited.replace(edit.name, text)
                    changes.append(Change(name=edit.name, action=Action.REPLACED, text=how))
                else:
                    edited.insert(edit.name, text)
                    changes.append(Change(name=edit.name, action=Action.INSERTED, text=how))
        text = self._render(edited.head, edited.segments)
        try:
            result = split(((_BOM if self.bom else "") + text).encode("utf-8"), source=self.source)
        except CredsLintError as exc:
            raise CredsLintError(
                f"the edited file does not read back ({exc.message}); nothing written", source=self.source
            ) from None
        _verify(result, expected, self.source)
        return Applied(blocks=result, changes=tuple(changes))

    def _renamed(self, block: Block, to: str) -> tuple[str, Text]:
        """The text of ``block`` under the name ``to``: the same lines with the key changed when the block is
        written ``NAME: ...`` (bosh's style and most hand edits), else emitted as bosh writes it."""
        key = _key_text(block.name)
        try:
            new_key = _key_text(to)
        except Unrepresentable as exc:  # pragma: no cover - a name is always text
            raise CredsLintError(f"{to}: cannot be written ({exc})", source=self.source) from None
        if key is not None and new_key is not None and block.raw.startswith(key + ":"):
            return new_key + block.raw[len(key) :], Text.VERBATIM
        try:
            return self.line_ending.apply(emitter.emit_entry(to, block.value)), Text.EMITTED
        except Unrepresentable as exc:
            raise CredsLintError(f"{block.name}: cannot be written ({exc})", source=self.source) from None

    def _text_for(self, edit: Set) -> tuple[str, Text]:
        try:
            emitted = emitter.emit_entry(edit.name, edit.value)
        except Unrepresentable as exc:
            if edit.raw is None:
                raise CredsLintError(f"{edit.name}: cannot be written ({exc})", source=self.source) from None
            return self.line_ending.apply(_ended(edit.raw)), Text.VERBATIM
        if edit.raw is not None and _in_style(edit.name, edit.raw, edit.value):
            return self.line_ending.apply(_ended(edit.raw)), Text.VERBATIM
        return self.line_ending.apply(emitted), Text.EMITTED

    def _render(self, head: str, segments: Sequence[list[str]]) -> str:
        """The text of ``segments`` after ``head``; a placeholder (``{}``) goes once there is an entry, and a file
        left with no entry reads ``{}``, as bosh writes an empty store."""
        if not segments:
            if self.placeholder or head.strip(" \t\r\n" + _BOM):
                return head
            return head + "{}" + self.line_ending.value
        parts = ["" if self.placeholder else head]
        for _, raw, gap in segments:
            if parts[-1] and not _ends_with_break(parts[-1]):
                parts.append(self.line_ending.value)
            parts.append(raw)
            parts.append(gap)
        return "".join(parts)


class _Edited:
    """The segments ``[name, text, what follows it]`` of a file being edited, in order, and the text before the
    first one. A replacement is found by name in constant time; only an insertion or a removal walks the list."""

    def __init__(self, segments: list[list[str]], head: str) -> None:
        self.segments = segments
        self.head = head
        self.by_name = {segment[0]: segment for segment in segments}

    def __contains__(self, name: object) -> bool:
        return name in self.by_name

    def remove(self, name: str, source: str) -> None:
        """Drop ``name``'s text; what followed it (comment lines) stays, after the entry before it."""
        segment = self.by_name.pop(name, None)
        if segment is None:
            raise CredsLintError(f"{name}: not in the file, nothing to remove", source=source)
        at = next(i for i, s in enumerate(self.segments) if s is segment)
        if at > 0:
            self.segments[at - 1][2] += segment[2]
        else:
            self.head += segment[2]
        del self.segments[at]

    def replace(self, name: str, text: str) -> None:
        self.by_name[name][1] = text

    def insert(self, name: str, text: str) -> None:
        """Insert before the first entry that yaml.v2's key order puts after ``name``, right after the entry before
        it (comment lines that follow that entry stay above the next one)."""
        at = next((i for i, s in enumerate(self.segments) if emitter.key_less(name, s[0])), len(self.segments))
        segment = [name, text, ""]
        if at > 0:
            previous = self.segments[at - 1]
            segment[2], previous[2] = previous[2], ""
        self.segments.insert(at, segment)
        self.by_name[name] = segment


def _key_text(name: str) -> str | None:
    """How bosh writes ``name`` as a top-level key (``"true"`` quoted), or ``None`` for a key it writes with ``?``."""
    emitted = emitter.emit_entry(name, None)
    suffix = ": null\n"
    return emitted[: -len(suffix)] if emitted.endswith(suffix) and not emitted.startswith("? ") else None


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ended(raw: str) -> str:
    return raw if _ends_with_break(raw) else raw + "\n"


def _ends_with_break(text: str) -> bool:
    return text.endswith(("\n", "\r", "\x85", "\u2028", "\u2029"))


def _in_style(name: str, raw: str, value: Value) -> bool:
    unix = raw.replace("\r\n", "\n")
    try:
        if unix == emitter.emit_entry(name, value):
            return True
        return isinstance(value, dict) and unix == emitter.emit_entry(name, value, sort_top=False)
    except Unrepresentable:
        return False


def _verify(result: Blocks, expected: Mapping[str, Value], source: str) -> None:
    got = result.values()
    if got.keys() != expected.keys():
        raise CredsLintError(
            "the edited file does not read back with the expected entries; nothing written", source=source
        )
    for name, value in expected.items():
        if not same(got[name], value):
            raise CredsLintError(
                f"{name}: the edited file does not read back with the expected value (YAML anchors or aliases "
                "shared between entries?); nothing written",
                source=source,
            )
    loader.parse_store(result.data, source=source)


def same(a: Value, b: Value) -> bool:
    """Whether two values are the same for bosh: of the same type (``"1"`` is not ``1``, ``1`` is not ``True``),
    except that a whole float is the number yaml.v2 writes for it (``1.0`` is written ``1`` and reads back as
    ``1``); NaN is NaN."""
    if _number(a) and _number(b):
        assert isinstance(a, int | float)
        assert isinstance(b, int | float)
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


# --- splitting ------------------------------------------------------------------------------------------------


def split(data: bytes, *, source: str) -> Blocks:
    """The top-level blocks of a var-store's bytes (see the module docstring for what is refused)."""
    cipher = encrypted.detect(data)
    if cipher is not None:  # a block written into ciphertext would be plaintext (or break the file's MAC)
        raise CredsLintError(
            f"encrypted with {cipher.value}: creds-lint edits plaintext var-stores only (decrypt, or use the "
            "tool's own editor)",
            source=source,
        )
    loader.parse_store(data, source=source)  # every safety check of the loader first: size, tags, aliases, markers
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CredsLintError("UTF-16 text: creds-lint writes UTF-8 var-stores only", source=source)
    text = data.decode("utf-8")
    bom = text.startswith(_BOM)
    if bom:
        text = text[1:]
    parser = yaml.CSafeLoader(text) if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader(text)
    try:
        return _split(parser, text, bom, source)
    except yaml.YAMLError:  # pragma: no cover - the loader has read the same text
        raise CredsLintError("not valid YAML", source=source) from None
    except Unrepresentable as exc:
        raise CredsLintError(f"{exc} in the file: not as bosh writes it, refusing to edit", source=source) from None
    finally:
        parser.dispose()


def _split(parser: yaml.CSafeLoader | yaml.SafeLoader, text: str, bom: bool, source: str) -> Blocks:
    events = _Events(parser)
    events.next()  # stream start
    first = events.next()
    ending = LineEnding.of(text)
    if isinstance(first, yaml.StreamEndEvent):
        return _empty(source, text, bom, ending)
    root = events.next()
    if isinstance(root, yaml.ScalarEvent):  # the loader accepts only a null here
        return _empty(source, text, bom, ending)
    assert isinstance(root, yaml.MappingStartEvent)
    if root.flow_style:
        if isinstance(events.peek(), yaml.MappingEndEvent):
            return _empty(source, text, bom, ending)
        raise CredsLintError(
            "the top level is a flow mapping ({...}), not one entry per line as bosh writes it; refusing to edit",
            source=source,
        )
    starts: list[tuple[str, int, int, Value]] = []
    seen: dict[str, int] = {}
    anchors: dict[str, Value] = {}
    while not isinstance(key := events.next(), yaml.MappingEndEvent):
        assert isinstance(key, yaml.ScalarEvent)  # the loader refuses any other key
        mark = key.start_mark
        assert mark is not None
        line = int(mark.line) + 1
        if mark.column != 0:
            raise CredsLintError(
                f"line {line}: a top-level key that does not start its line; refusing to edit", source=source
            )
        name = str(key.value)
        if name in seen:
            raise CredsLintError(
                f"{name}: written twice (lines {seen[name]} and {line}); bosh keeps the last one. Remove one "
                "first; refusing to edit",
                source=source,
            )
        seen[name] = line
        value = _value(events, events.next(), anchors)
        starts.append((name, int(mark.index), line, value))
    if not starts:  # pragma: no cover - an empty block mapping is written {} (flow)
        return _empty(source, text, bom, ending)
    blocks: list[Block] = []
    gaps: list[str] = []
    for i, (name, start, line, value) in enumerate(starts):
        end = starts[i + 1][1] if i + 1 < len(starts) else len(text)
        body, gap = _peel(text[start:end])
        blocks.append(Block(name=name, start=start, end=start + len(body), line=line, raw=body, value=value))
        gaps.append(gap)
    return Blocks(
        source=source,
        text=text,
        bom=bom,
        line_ending=ending,
        head=text[: starts[0][1]],
        blocks=tuple(blocks),
        gaps=tuple(gaps),
        _index=MappingProxyType({b.name: i for i, b in enumerate(blocks)}),
    )


def _empty(source: str, text: str, bom: bool, ending: LineEnding) -> Blocks:
    return Blocks(
        source=source, text=text, bom=bom, line_ending=ending, head=text, blocks=(), gaps=(), placeholder=bool(text)
    )


_KEEP = re.compile(r"[|>][1-9]?\+")


def _peel(text: str) -> tuple[str, str]:
    """(the entry, what follows it before the next key): the trailing run of blank lines, comment lines (``#`` in
    column 0) and ``...``. Blank lines are content after a block scalar that keeps them (``|+``): then only the
    lines from the first comment on are left out."""
    lines = [m.group(0) for m in _LINE.finditer(text) if m.group(0)]
    run = len(lines)
    first_comment = None
    for i in range(len(lines) - 1, 0, -1):
        stripped = lines[i].rstrip("\r\n\x85\u2028\u2029")
        if not stripped.strip():
            run = i
            continue
        if stripped.startswith("#") or stripped.rstrip() == "...":
            run = first_comment = i
            continue
        break
    if _KEEP.search(text) is not None:
        run = first_comment if first_comment is not None else len(lines)
    return "".join(lines[:run]), "".join(lines[run:])


class _Events:
    def __init__(self, parser: yaml.CSafeLoader | yaml.SafeLoader) -> None:
        self.parser = parser

    def next(self) -> yaml.Event:
        event = self.parser.get_event()
        assert event is not None  # the parser ends every stream with a stream end, after which nothing reads on
        return event

    def peek(self) -> yaml.Event:
        event = self.parser.peek_event()
        assert event is not None
        return event


def _value(events: _Events, event: yaml.Event, anchors: dict[str, Value]) -> Value:
    """The value yaml.v2 decodes from the node starting at ``event`` (aliases expanded)."""
    if isinstance(event, yaml.AliasEvent):
        return anchors[str(event.anchor)]
    value: Value
    if isinstance(event, yaml.ScalarEvent):
        tag = event.tag
        try:
            scalar = yamlv2.resolve(str(event.value), tag=tag, plain=bool(event.implicit[0]) and tag is None)
        except yamlv2.Unreadable as exc:  # pragma: no cover - the loader has refused the file already
            raise Unrepresentable(str(exc)) from None
        value = emitter.native(scalar)
    elif isinstance(event, yaml.SequenceStartEvent):
        _collection_tag(event.tag, "seq")
        value = list(_items(events, anchors))
    else:
        assert isinstance(event, yaml.MappingStartEvent)
        _collection_tag(event.tag, "map")
        value = dict(_pairs(events, anchors))
    if event.anchor is not None:
        anchors[str(event.anchor)] = value
    return value


def _items(events: _Events, anchors: dict[str, Value]) -> Iterator[Value]:
    while not isinstance(event := events.next(), yaml.SequenceEndEvent):
        yield _value(events, event, anchors)


def _pairs(events: _Events, anchors: dict[str, Value]) -> Iterator[tuple[object, Value]]:
    while not isinstance(event := events.next(), yaml.MappingEndEvent):
        key = _value(events, event, anchors)
        if isinstance(key, list | dict):
            raise Unrepresentable("a list or mapping used as a key")
        yield key, _value(events, events.next(), anchors)


def _collection_tag(tag: str | None, expected: str) -> None:
    if tag not in (None, "!", "tag:yaml.org,2002:" + expected):
        raise Unrepresentable("an explicit YAML tag")
