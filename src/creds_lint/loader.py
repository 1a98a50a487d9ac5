"""Bytes -> :class:`VarStore`, safely.

YAML is parsed with the libyaml C parser when available (the pure-Python one otherwise) and its events are built
into plain values here, without composing a node graph, so that:

* no tag can construct an object (``!!python/object`` and any other non-standard tag is refused);
* every scalar is what bosh's yaml.v2 reads (:mod:`creds_lint.yamlv2`): ``0123`` is an integer, ``"0123"`` a string;
* every top-level variable and every field gets its line number;
* duplicate keys are noticed (bosh silently keeps the last one);
* hostile input fails fast with bounded memory: nesting depth, the number of values and alias expansion are
  limited while the text is read (alias bombs, a 50 MB file of tiny entries), recursive aliases are refused;
* error messages give line and column but never quote the file (a YAML snippet can hold a password).
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

from creds_lint import encrypted, yamlv2
from creds_lint.errors import CredsLintError
from creds_lint.model import Duplicate, Entry, Kind, Typed, VarStore, normalize
from creds_lint.origin import STDIN

try:
    _Loader: type[yaml.CSafeLoader] | type[yaml.SafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

#: A var-store is a flat mapping of at most a few ten thousand small values (10,000 entries with certificates
#: take about 25 MB, 60,000 values and 400,000 lines); beyond these limits the input is hostile.
MAX_BYTES = 64 * 1024 * 1024
MAX_LINES = 2_000_000
MAX_DEPTH = 32
#: Values (scalars, lists, mappings and keys) and their characters, aliases expanded: a few aliases to a long
#: value must not become gigabytes of text to hash and compare.
MAX_VALUES = 500_000
MAX_CHARS = MAX_BYTES

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = yamlv2.TAGS
_CONFLICT = re.compile(rb"^(<{7}|={7}|>{7})(?: |\r?$)", re.MULTILINE)
_QUOTED = re.compile(r"'[^']{4,}'|\"[^\"]{4,}\"")
_NO_LINES: Mapping[str, int] = MappingProxyType({})
_KNOWN_TAG = re.compile(r"!!?(?:python|ruby|perl|php|java)/[a-z/]{1,30}")


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
    if len(data) > MAX_BYTES:
        raise CredsLintError(f"larger than {MAX_BYTES // 2**20} MiB: not a var-store", source=source)
    text = _decode(data, source)
    if data.count(b"\n") > MAX_LINES:
        raise CredsLintError(f"more than {MAX_LINES:,} lines: not a var-store", source=source)
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


def _decode(data: bytes, source: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise CredsLintError("invalid UTF-16 text", source=source) from None
    if b"\x00" in data:
        raise CredsLintError("binary file (contains NUL bytes), not a YAML var-store", source=source)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CredsLintError(f"line {line}: not valid UTF-8 text", source=source) from None


@dataclass(frozen=True, kw_only=True, slots=True)
class _Node:
    """A built value, its size in values and in characters (aliases expanded) and, for a mapping, the line of
    each key and the lines of keys written more than once."""

    value: object
    size: int
    chars: int
    lines: Mapping[str, int] = field(default_factory=lambda: _NO_LINES)
    duplicates: tuple[tuple[str, tuple[int, ...]], ...] = ()


class _Builder:
    """Builds plain values straight from the parser's events. No node graph is kept, so memory follows the
    values, and every limit (depth, number of values, alias expansion) is enforced while the text is read."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.loader = _Loader(text)
        #: The next event (called once per event: no wrapper; :func:`_build` turns YAML errors into ours). The
        #: parser ends every stream with a stream end, after which nothing reads on.
        self.next: Callable[[], yaml.Event] = self.loader.get_event  # type: ignore[assignment]
        #: anchor -> its node; ``None`` while the anchored node is being built (an alias to it is recursive).
        self.anchors: dict[str, _Node | None] = {}
        self.values = 0
        self.chars = 0
        self.aliased = False

    def unread(self, *events: yaml.Event) -> None:
        """Give ``events`` back: the next calls of :attr:`next` return them, in order, before reading on."""
        pending = list(events)
        read = self.loader.get_event

        def replay() -> yaml.Event:
            event = pending.pop(0)
            if not pending:
                self.next = read  # type: ignore[assignment]
            return event

        if pending:
            self.next = replay

    def error(self, event: yaml.Event, message: str) -> CredsLintError:
        return CredsLintError(f"line {_line(event)}: {message}", source=self.source)

    def count(self, event: yaml.Event, size: int, chars: int) -> None:
        self.values += size
        self.chars += chars
        if self.chars > MAX_CHARS or self.values > MAX_VALUES:
            if self.aliased:
                raise CredsLintError("YAML aliases expand to too many values (an alias bomb?)", source=self.source)
            raise self.error(event, f"more than {MAX_VALUES:,} values: not a var-store")

    def root(self) -> yaml.Event | None:
        """The first event of the one document's root node, or ``None`` when the stream has no document."""
        self.next()  # stream start
        if isinstance(self.next(), yaml.StreamEndEvent):
            return None
        return self.next()

    def finish(self) -> None:
        """Read the end of the document; a second document is an error."""
        self.next()  # document end
        event = self.next()
        if not isinstance(event, yaml.StreamEndEvent):
            raise self.error(event, "more than one YAML document (---): a var-store is a single mapping")

    def node(self, event: yaml.Event, depth: int) -> _Node:
        """The node that starts with ``event``."""
        if isinstance(event, yaml.AliasEvent):
            return self.alias(event)
        if depth > MAX_DEPTH:
            raise self.error(event, f"nested more than {MAX_DEPTH} levels deep")
        assert isinstance(event, yaml.NodeEvent)
        anchor = event.anchor
        if anchor is not None:
            self.anchors[anchor] = None
        if isinstance(event, yaml.ScalarEvent):
            self.count(event, 1, len(event.value))
            node = _Node(value=self.scalar(event), size=1, chars=len(event.value))
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
            node = _Node(value=items, size=size, chars=chars)
        elif isinstance(event, yaml.MappingStartEvent):
            self.check_collection_tag(event, "map")
            self.count(event, 1, 0)
            node = self.mapping(depth)
        else:  # pragma: no cover - the parser emits no other node event
            raise self.error(event, "unsupported YAML node")
        if anchor is not None:
            self.anchors[anchor] = node
        return node

    def alias(self, event: yaml.AliasEvent) -> _Node:
        anchor = str(event.anchor)
        if anchor not in self.anchors:
            raise self.error(event, "invalid YAML: an alias to an undefined anchor")
        node = self.anchors[anchor]
        if node is None:
            raise self.error(event, "recursive YAML alias")
        self.aliased = True
        self.count(event, node.size, node.chars)
        return node

    def items(self, depth: int) -> Iterator[tuple[str, int, _Node]]:
        """(key, line of the key, value) of the rest of a mapping, in order, duplicates included."""
        while not isinstance(key_event := self.next(), yaml.MappingEndEvent):
            name = self.key(key_event)
            self.count(key_event, 1, len(name))
            yield name, _line(key_event), self.node(self.next(), depth + 1)

    def mapping(self, depth: int) -> _Node:
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
        return _Node(
            value=result,
            size=size,
            chars=chars,
            lines=MappingProxyType({name: lines[-1] for name, lines in seen.items()}),
            duplicates=tuple((name, tuple(lines)) for name, lines in seen.items() if len(lines) > 1),
        )

    def key(self, event: yaml.Event) -> str:
        if isinstance(event, yaml.AliasEvent):
            value = self.alias(event).value
            if isinstance(value, str):
                return value
        if not isinstance(event, yaml.ScalarEvent):
            raise self.error(event, "a key must be a plain name, not a list or mapping")
        if event.implicit[0] and event.value == "<<":
            raise self.error(event, "YAML merge keys (<<) are not supported")
        self.check_scalar_tag(event)
        if event.anchor is not None:
            self.anchors[event.anchor] = _Node(value=event.value, size=1, chars=len(event.value))
        return str(event.value)

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

    def check_scalar_tag(self, event: yaml.ScalarEvent) -> str | None:
        tag = event.tag
        if tag is None or tag == "!":
            return None
        if tag not in _SCALAR_TAGS:
            raise self.refuse(event, tag)
        return tag

    def check_collection_tag(self, event: yaml.CollectionStartEvent, expected: str) -> None:
        tag = event.tag
        if tag is not None and tag != "!" and tag not in (_CORE + expected, _CORE + "omap", _CORE + "set"):
            raise self.refuse(event, tag)

    def refuse(self, event: yaml.Event, tag: str) -> CredsLintError:
        """A tag is file content: it is named only when it is a well-known language tag (``!!python/object``),
        never when it could be anything the operator typed (``!s3cr3t``)."""
        shown = "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag
        shown = shown.split(":", 1)[0]
        what = f"YAML tag {shown}" if _KNOWN_TAG.fullmatch(shown) else "a non-standard YAML tag"
        return self.error(event, f"{what} is not allowed in a var-store (nothing was constructed)")


def _build(text: str, source: str, digest: str) -> VarStore:
    builder = _Builder(text, source)
    try:
        return _store(builder, source, digest)
    except yaml.MarkedYAMLError as exc:
        raise CredsLintError(_describe(exc), source=source) from None
    except yaml.YAMLError:
        raise CredsLintError("not valid YAML", source=source) from None
    finally:
        builder.loader.dispose()


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


def _line(item: yaml.Event | yaml.Node) -> int:
    mark = item.start_mark
    return int(mark.line) + 1 if mark is not None else 0


def _describe(exc: yaml.MarkedYAMLError) -> str:
    """A YAML error as ``line L, column C: problem``, with no snippet of the file and no quoted content."""
    problem = exc.problem or "syntax error"
    if "expected a single document" in (exc.context or "") or "another document" in problem:
        problem = "more than one YAML document (---): a var-store is a single mapping"
    else:
        problem = _QUOTED.sub("'…'", problem)
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}invalid YAML: {problem}"


def compose_yaml(data: bytes, *, source: str) -> yaml.Node | None:
    """The YAML node graph of any small file creds-lint reads besides var-stores (its configuration, manifests),
    with the same safety: no object construction, bounded size and aliases, errors that never quote the file."""
    if len(data) > MAX_BYTES:
        raise CredsLintError(f"larger than {MAX_BYTES // 2**20} MiB", source=source)
    text = _decode(data, source)
    if data.count(b"\n") > MAX_LINES:
        raise CredsLintError(f"more than {MAX_LINES:,} lines", source=source)
    _count_events(text, source)
    root = _compose(text, source)
    if root is not None:
        _check_expansion(root, source)
    return root


def _count_events(text: str, source: str) -> None:
    """Refuse a file of more than :data:`MAX_VALUES` YAML events before its node graph is composed: a node costs
    hundreds of bytes, and a 50 MB flow mapping on one line would take gigabytes."""
    loader = _Loader(text)
    try:
        events = 0
        while loader.check_event():
            event = loader.get_event()
            events += 1
            if events > MAX_VALUES and event is not None:
                raise CredsLintError(f"line {_line(event)}: more than {MAX_VALUES:,} values", source=source)
    except yaml.MarkedYAMLError as exc:
        raise CredsLintError(_describe(exc), source=source) from None
    except yaml.YAMLError:
        raise CredsLintError("not valid YAML", source=source) from None
    finally:
        loader.dispose()


def _compose(text: str, source: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise CredsLintError(_describe(exc), source=source) from None
    except yaml.YAMLError:
        raise CredsLintError("not valid YAML", source=source) from None
    except RecursionError:
        raise CredsLintError("YAML nested too deeply", source=source) from None
    finally:
        loader.dispose()


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse recursive aliases and graphs whose alias expansion is too large (billion laughs)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise CredsLintError(f"line {_line(node)}: recursive YAML alias", source=source)
        if depth > MAX_DEPTH:
            raise CredsLintError(f"line {_line(node)}: nested more than {MAX_DEPTH} levels deep", source=source)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            active.add(key)
            total += sum(size(child, depth + 1) for child in node.value)
            active.discard(key)
        elif isinstance(node, yaml.MappingNode):
            active.add(key)
            total += sum(size(k, depth + 1) + size(v, depth + 1) for k, v in node.value)
            active.discard(key)
        if total > MAX_VALUES:
            raise CredsLintError("YAML aliases expand to too many values (an alias bomb?)", source=source)
        sizes[key] = total
        return total

    size(root, 0)
