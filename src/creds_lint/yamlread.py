"""The one reader of every YAML file creds-lint reads: var-stores, configurations and manifests.

Text is parsed into events by the libyaml C parser when available (the pure-Python one otherwise), and each caller
builds its own values from them without a node graph (:mod:`creds_lint.loader`: a var-store's values as bosh's
yaml.v2 reads them; :mod:`creds_lint.tree`: a configuration's or manifest's located values as PyYAML reads them).
What every file gets here, the same way:

* a bound on its size, its lines, its nesting, its number of values and their characters, aliases expanded, all
  enforced while the text is read (alias bombs, a 50 MB file of tiny entries); recursive aliases are refused;
* no object constructed from a tag: a tag that is not one of the caller's few standard ones is refused, and it is
  named only when it is a well-known language tag (``!!python/object``), never when it could be anything typed;
* the line of every value;
* one-line errors that give line and column but never quote the file: a var-store, a manifest or a configuration
  can hold a password.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType

import yaml

from creds_lint.errors import CredsLintError

try:
    _Loader: type[yaml.CSafeLoader] | type[yaml.SafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

#: A var-store is a flat mapping of at most a few ten thousand small values (10,000 entries with certificates
#: take about 25 MB, 60,000 values and 400,000 lines); beyond these limits the input is hostile. Configurations
#: and manifests are far smaller.
MAX_BYTES = 64 * 1024 * 1024
MAX_LINES = 2_000_000
MAX_DEPTH = 32
#: Values (scalars, lists, mappings and keys) and their characters, aliases expanded: a few aliases to a long
#: value must not become gigabytes of text to hash and compare.
MAX_VALUES = 500_000
MAX_CHARS = MAX_BYTES

CORE = "tag:yaml.org,2002:"
_QUOTED = re.compile(r"'[^']{4,}'|\"[^\"]{4,}\"")
NO_LINES: Mapping[str, int] = MappingProxyType({})
_KNOWN_TAG = re.compile(r"!!?(?:python|ruby|perl|php|java)/[a-z/]{1,30}")


def text_of(data: bytes, *, source: str, what: str) -> str:
    """The text of a YAML file within the size and line bounds (``what`` names the file in errors: "a
    var-store"): UTF-8 (a BOM is dropped) or UTF-16 with its BOM; NUL bytes mean a binary file."""
    if len(data) > MAX_BYTES:
        raise CredsLintError(f"larger than {MAX_BYTES // 2**20} MiB: not {what}", source=source)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise CredsLintError("invalid UTF-16 text", source=source) from None
    elif b"\x00" in data:
        raise CredsLintError(f"binary file (contains NUL bytes), not {what}", source=source)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            raise CredsLintError(f"line {line}: not valid UTF-8 text", source=source) from None
    if data.count(b"\n") > MAX_LINES:
        raise CredsLintError(f"more than {MAX_LINES:,} lines: not {what}", source=source)
    return text


#: Keys written more than once in a mapping, each with every line it is on.
Duplicates = tuple[tuple[str, tuple[int, ...]], ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Built:
    """A value built from events, its size in values and in characters (aliases expanded) and, for a mapping, the
    line of each key and the lines of keys written more than once."""

    value: object
    size: int
    chars: int
    lines: Mapping[str, int] = field(default_factory=lambda: NO_LINES)
    duplicates: Duplicates = ()


class Reader(ABC):
    """The events of one YAML text, with every limit enforced as they are read. A subclass builds values from
    them (:meth:`node`); no node graph is kept, so memory follows the values."""

    #: The scalar tags a subclass resolves; any other is refused.
    scalar_tags: frozenset[str] = frozenset()
    #: What the file is, in :attr:`one_document`.
    shape = "document"

    def __init__(self, text: str, source: str, *, what: str) -> None:
        self.source = source
        self.what = what
        self.loader = _Loader(text)
        #: The next event (called once per event: no wrapper; :meth:`reading` turns YAML errors into ours). The
        #: parser ends every stream with a stream end, after which nothing reads on.
        self.next: Callable[[], yaml.Event] = self.loader.get_event  # type: ignore[assignment]
        #: anchor -> its value; ``None`` while the anchored node is being built (an alias to it is recursive).
        self.anchors: dict[str, Built | None] = {}
        self.values = 0
        self.chars = 0
        self.aliased = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Turn the parser's errors into one-line errors that quote nothing, and free the parser at the end."""
        try:
            yield
        except yaml.MarkedYAMLError as exc:
            raise CredsLintError(self.describe(exc), source=self.source) from None
        except yaml.YAMLError:
            raise CredsLintError("not valid YAML", source=self.source) from None
        finally:
            self.loader.dispose()

    @abstractmethod
    def node(self, event: yaml.Event, depth: int) -> Built:
        """The value of the node that starts with ``event``."""

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
        return CredsLintError(f"line {line_of(event)}: {message}", source=self.source)

    def count(self, event: yaml.Event, size: int, chars: int) -> None:
        self.values += size
        self.chars += chars
        if self.chars > MAX_CHARS or self.values > MAX_VALUES:
            raise self.too_many(event)

    def too_many(self, event: yaml.Event) -> CredsLintError:
        """The values or their characters counted up to ``event`` are beyond their bounds (a caller that counts
        inline checks ``values`` and ``chars`` against them as :meth:`count` does)."""
        if self.aliased:
            return CredsLintError("YAML aliases expand to too many values (an alias bomb?)", source=self.source)
        return self.beyond(event, f"more than {MAX_VALUES:,} values: not {self.what}")

    def deep(self, event: yaml.Event, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self.beyond(event, f"nested more than {MAX_DEPTH} levels deep")

    def beyond(self, event: yaml.Event, message: str) -> CredsLintError:
        """A bound is exceeded: the same error, naming only the line, whatever the file."""
        return CredsLintError(f"line {line_of(event)}: {message}", source=self.source)

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
            raise self.error(event, self.one_document)

    @property
    def one_document(self) -> str:
        return f"more than one YAML document (---): {self.what} is a single {self.shape}"

    def alias(self, event: yaml.AliasEvent) -> Built:
        anchor = str(event.anchor)
        if anchor not in self.anchors:
            raise self.error(event, "invalid YAML: an alias to an undefined anchor")
        node = self.anchors[anchor]
        if node is None:
            raise self.error(event, "recursive YAML alias")
        self.aliased = True
        self.count(event, node.size, node.chars)
        return node

    def key(self, event: yaml.Event) -> str:
        """The name a mapping key gives (an alias to a string names it too); a list, a mapping or a merge key
        (``<<``) is refused."""
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
            self.anchors[event.anchor] = Built(value=event.value, size=1, chars=len(event.value))
        return str(event.value)

    def check_scalar_tag(self, event: yaml.ScalarEvent) -> str | None:
        """The scalar's explicit tag, ``None`` for none (or the non-specific ``!``); a tag not in
        :attr:`scalar_tags` is refused."""
        tag = event.tag
        if tag is None or tag == "!":
            return None
        if tag not in self.scalar_tags:
            raise self.refuse(event, tag)
        return tag

    def check_collection_tag(self, event: yaml.CollectionStartEvent, expected: str) -> None:
        tag = event.tag
        if tag is not None and tag != "!" and tag not in (CORE + expected, CORE + "omap", CORE + "set"):
            raise self.refuse(event, tag)

    def refuse(self, event: yaml.Event, tag: str) -> CredsLintError:
        """A tag is file content: it is named only when it is a well-known language tag (``!!python/object``),
        never when it could be anything the operator typed (``!s3cr3t``)."""
        shown = "!!" + tag[len(CORE) :] if tag.startswith(CORE) else tag
        shown = shown.split(":", 1)[0]
        what = f"YAML tag {shown}" if _KNOWN_TAG.fullmatch(shown) else "a non-standard YAML tag"
        return self.error(event, f"{what} is not allowed in {self.what} (nothing was constructed)")

    def skip(self, event: yaml.Event, depth: int, texts: Callable[[str], object]) -> None:
        """Read past the node that starts with ``event`` without building it (its tags are not looked at: nothing
        is constructed), within every limit; ``texts`` gets the text of each of its scalars, keys included. An
        anchored node is built: an alias elsewhere may use it."""
        if isinstance(event, yaml.AliasEvent):
            self.alias(event)
            return
        self.deep(event, depth)
        assert isinstance(event, yaml.NodeEvent)
        if event.anchor is not None:
            self.node(event, depth)
            return
        if isinstance(event, yaml.ScalarEvent):
            self.count(event, 1, len(event.value))
            texts(event.value)
            return
        self.count(event, 1, 0)
        end = yaml.SequenceEndEvent if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingEndEvent
        while not isinstance(child := self.next(), end):
            self.skip(child, depth + 1, texts)

    def describe(self, exc: yaml.MarkedYAMLError) -> str:
        """A YAML error as ``line L, column C: problem``, with no snippet of the file and no quoted content."""
        problem = exc.problem or "syntax error"
        if "expected a single document" in (exc.context or "") or "another document" in problem:
            problem = self.one_document
        else:
            problem = _QUOTED.sub("'…'", problem)
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return f"{where}invalid YAML: {problem}"


def line_of(event: yaml.Event) -> int:
    mark = event.start_mark
    return int(mark.line) + 1 if mark is not None else 0
