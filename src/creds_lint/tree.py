"""Settings files as trees of located values, read strictly.

The configuration (YAML or a ``pyproject.toml`` table) and BOSH manifests are turned into :class:`Node` values
that remember where they were written (file, key path, and line for YAML), so that every complaint names the exact
place: ``.creds-lint.yml: line 4: rules.removed-ca: unknown severity 'fatal'``. YAML is read by
:mod:`creds_lint.yamlread`, the reader of var-stores too (the same bounds, no object constructed from a tag, errors
that quote nothing), and each scalar is what PyYAML's safe loader reads (``030`` is 24, ``1:30`` is 90).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import NoReturn

import yaml

from creds_lint.errors import CredsLintError
from creds_lint.yamlread import CORE, Built, Reader, line_of, text_of

Value = None | str | int | float | bool | date | tuple["Node", ...] | Mapping[str, "Node"]


@dataclass(frozen=True, kw_only=True)
class Node:
    """A value with its place: ``path`` is the key path (``allow[0].reason``), ``line`` its 1-based line in a
    YAML file (``None`` for TOML, where ``where`` names the table instead)."""

    value: Value
    source: str
    path: str = ""
    line: int | None = None
    where: str = ""

    def plain(self) -> object:
        """The value as plain Python values (dicts, lists and scalars), as PyYAML's safe loader gives it."""
        if isinstance(self.value, Mapping):
            return {key: child.plain() for key, child in self.value.items()}
        if isinstance(self.value, tuple):
            return [child.plain() for child in self.value]
        return self.value

    def fail(self, message: str) -> NoReturn:
        """Raise the one-line error for this place."""
        place = f"line {self.line}: " if self.line is not None else self.where
        subject = f"{self.path}: " if self.path else ""
        raise CredsLintError(f"{place}{subject}{message}", source=self.source)

    def mapping(self) -> Mapping[str, Node]:
        if not isinstance(self.value, Mapping):
            self.fail(f"expected a mapping, got {type_name(self.value)}")
        return self.value

    def sequence(self) -> tuple[Node, ...]:
        if not isinstance(self.value, tuple):
            self.fail(f"expected a list, got {type_name(self.value)}")
        return self.value

    def string(self) -> str:
        if not isinstance(self.value, str):
            self.fail(f"expected a string, got {type_name(self.value)}")
        return self.value

    def integer(self) -> int:
        if isinstance(self.value, bool) or not isinstance(self.value, int):
            self.fail(f"expected an integer, got {type_name(self.value)}")
        return self.value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            self.fail(f"expected true or false, got {type_name(self.value)}")
        return self.value

    def strings(self) -> tuple[str, ...]:
        """A list of strings (a single string is not accepted: it is a common slip for a one-item list)."""
        return tuple(item.string() for item in self.sequence())

    def keys(self, known: tuple[str, ...]) -> Mapping[str, Node]:
        """The mapping, after refusing any key that is not in ``known``."""
        mapping = self.mapping()
        for key, child in mapping.items():
            if key not in known:
                child.fail(f"unknown key{suggest(key, known)}")
        return mapping


_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),  # before int: a bool is an int
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (date, "a date"),
    (tuple, "a list"),
)


def type_name(value: object) -> str:
    if value is None:
        return "nothing (null)"
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), "a mapping")


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str:
    """`` (did you mean X?)`` or the list of valid choices."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1)
    if close:
        return f" (did you mean {close[0]}?)"
    return f" (expected one of: {', '.join(sorted(choices))})"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --- YAML -----------------------------------------------------------------------------------------------------


def parse_yaml(
    data: bytes,
    *,
    source: str,
    what: str,
    section: str | None = None,
    texts: Callable[[str], object] = lambda _: None,
) -> Node:
    """A YAML file as a tree (an empty file is ``None``), read by :mod:`creds_lint.yamlread` with its bounds;
    ``what`` names the file in errors ("a configuration file"). With ``section``, only that key of a top-level
    mapping is built (the rest of the file is read within the bounds but neither converted nor validated), or the
    whole file when it is not a mapping; a mapping without the key is ``None``. ``texts`` gets the text of every
    scalar of the file, keys included (an aliased one once)."""
    reader = _TreeReader(text_of(data, source=source, what=what), source, what=what, texts=texts)
    with reader.reading():
        return _document(reader, section)


def scan_yaml(data: bytes, *, source: str, what: str, texts: Callable[[str], object]) -> None:
    """Read a YAML file within the bounds of :mod:`creds_lint.yamlread`, building nothing (so validating nothing
    but its syntax): ``texts`` gets the text of every scalar, keys included (an aliased one once)."""
    reader = _TreeReader(text_of(data, source=source, what=what), source, what=what, texts=texts)
    with reader.reading():
        root = reader.root()
        if root is not None:
            reader.skip(root, 0, texts)
            reader.finish()


def _document(reader: _TreeReader, section: str | None) -> Node:
    empty = Node(value=None, source=reader.source, line=1)
    root = reader.root()
    if root is None:
        return empty
    if section is None or not isinstance(root, yaml.MappingStartEvent):
        tree = reader.located(root, 0, "", None).value
    else:
        reader.check_collection_tag(root, "map")
        reader.count(root, 1, 0)
        tree = empty
        while not isinstance(key_event := reader.next(), yaml.MappingEndEvent):
            reader.at = ""
            name = reader.key(key_event)
            reader.count(key_event, 1, len(name))
            reader.texts(name)
            if name == section and tree is empty:
                tree = reader.located(reader.next(), 1, section, line_of(key_event)).value
            else:
                reader.at = name
                reader.skip(reader.next(), 1, reader.texts)
    reader.finish()
    assert isinstance(tree, Node)
    return tree


#: The scalar tags a configuration or a manifest may spell out; any other (``!!binary``, ``!!python/...``) is
#: refused.
_TAGS = frozenset(CORE + tag for tag in ("str", "null", "bool", "int", "float", "timestamp"))


class _TreeReader(Reader):
    """Builds located values (:class:`Node`) from the reader's events, every scalar as PyYAML's safe loader reads
    it (YAML 1.1: ``030`` is the octal 24, ``1:30`` the sexagesimal 90, ``2024-05-01`` a date); duplicate keys are
    errors."""

    scalar_tags = _TAGS

    def __init__(self, text: str, source: str, *, what: str, texts: Callable[[str], object]) -> None:
        super().__init__(text, source, what=what)
        self.texts = texts
        #: The key path being read: every error names it.
        self.at = ""

    def error(self, event: yaml.Event, message: str) -> CredsLintError:
        subject = f"{self.at}: " if self.at else ""
        return CredsLintError(f"line {line_of(event)}: {subject}{message}", source=self.source)

    def node(self, event: yaml.Event, depth: int) -> Built:
        return self.located(event, depth, "", None)

    def key(self, event: yaml.Event) -> str:
        """A key; an alias to a string value names it (the value was built as a :class:`Node`)."""
        if isinstance(event, yaml.AliasEvent):
            anchored = self.alias(event).value
            if isinstance(anchored, Node) and isinstance(anchored.value, str):
                return anchored.value
            raise self.error(event, "a key must be a plain name, not a list or mapping")
        return super().key(event)

    def located(self, event: yaml.Event, depth: int, path: str, line: int | None) -> Built:
        """The tree of the node that starts with ``event``, at key path ``path``; ``line`` is where its key was
        written (a list item's own line otherwise)."""
        self.at = path
        if isinstance(event, yaml.AliasEvent):
            return self.alias(event)
        self.deep(event, depth)
        assert isinstance(event, yaml.NodeEvent)
        line = line or line_of(event)
        anchor = event.anchor
        if anchor is not None:
            self.anchors[anchor] = None
        if isinstance(event, yaml.ScalarEvent):
            self.count(event, 1, len(event.value))
            self.texts(event.value)
            value = self.scalar(event, path, line)
            built = Built(
                value=Node(value=value, source=self.source, path=path, line=line), size=1, chars=len(event.value)
            )
        elif isinstance(event, yaml.SequenceStartEvent):
            self.check_collection_tag(event, "seq")
            self.count(event, 1, 0)
            items: list[Node] = []
            size, chars = 1, 0
            while not isinstance(child := self.next(), yaml.SequenceEndEvent):
                item = self.located(child, depth + 1, f"{path}[{len(items)}]", None)
                items.append(_node(item))
                size += item.size
                chars += item.chars
            built = Built(
                value=Node(value=tuple(items), source=self.source, path=path, line=line), size=size, chars=chars
            )
        else:
            assert isinstance(event, yaml.MappingStartEvent)
            self.check_collection_tag(event, "map")
            self.count(event, 1, 0)
            built = self.mapping(depth, path, line)
        if anchor is not None:
            self.anchors[anchor] = built
        return built

    def mapping(self, depth: int, path: str, line: int) -> Built:
        items: dict[str, Node] = {}
        size, chars = 1, 0
        while not isinstance(key_event := self.next(), yaml.MappingEndEvent):
            self.at = path
            name = self.key(key_event)
            self.count(key_event, 1, len(name))
            self.texts(name)
            at = line_of(key_event)
            child = self.located(self.next(), depth + 1, _join(path, name), at)
            if name in items:
                Node(value=None, source=self.source, path=_join(path, name), line=at).fail(
                    f"duplicate key (first on line {items[name].line})"
                )
            items[name] = _node(child)
            size += 1 + child.size
            chars += len(name) + child.chars
        return Built(
            value=Node(value=MappingProxyType(items), source=self.source, path=path, line=line), size=size, chars=chars
        )

    def scalar(self, event: yaml.ScalarEvent, path: str, line: int) -> Value:
        """The scalar as PyYAML's safe loader reads it: its resolver decides the tag of an untagged scalar, and its
        constructor the value; a value that does not fit its tag (``!!int abc``) is an error, as it is for
        PyYAML, and so is a plain ``<<`` or ``=`` (YAML 1.1's merge and value tags, which it cannot construct)."""
        tag = self.check_scalar_tag(event)
        if tag is None:
            tag = str(self.loader.resolve(yaml.ScalarNode, event.value, event.implicit))  # type: ignore[no-untyped-call]
        place = Node(value=None, source=self.source, path=path, line=line)
        if tag not in _TAGS:
            place.fail(f"a plain {event.value} is not a value (quote it)")
        construct = self.loader.yaml_constructors[tag]
        try:
            value: Value = construct(self.loader, yaml.ScalarNode(tag, event.value))
        except (ValueError, KeyError, AttributeError, yaml.YAMLError):
            place.fail(f"the value is not a valid !!{tag.removeprefix(CORE)}")
        return value


def _node(built: Built) -> Node:
    assert isinstance(built.value, Node)
    return built.value


# --- TOML (already parsed by tomllib) ----------------------------------------------------------------------------


def from_python(value: object, *, source: str, where: str, path: str = "") -> Node:
    """A value parsed by ``tomllib`` as a tree; ``where`` names the table (``[tool.creds-lint] ``)."""
    converted: Value
    if isinstance(value, Mapping):
        converted = MappingProxyType(
            {str(k): from_python(v, source=source, where=where, path=_join(path, str(k))) for k, v in value.items()}
        )
    elif isinstance(value, list):
        converted = tuple(from_python(v, source=source, where=where, path=f"{path}[{i}]") for i, v in enumerate(value))
    elif isinstance(value, datetime):
        converted = value.date() if value.time() == datetime.min.time() else value.isoformat()
    elif value is None or isinstance(value, str | int | float | bool | date):
        converted = value
    else:  # a TOML time of day
        converted = str(value)
    return Node(value=converted, source=source, path=path, where=where)
