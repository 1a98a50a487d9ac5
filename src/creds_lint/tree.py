"""Settings files as trees of located values, read strictly.

The configuration (YAML or a ``pyproject.toml`` table) and BOSH manifests are turned into :class:`Node` values
that remember where they were written (file, key path, and line for YAML), so that every complaint names the exact
place: ``.creds-lint.yml: line 4: rules.removed-ca: unknown severity 'fatal'``. YAML is composed with the var-store
loader's safe composer: no object is ever constructed from a tag.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import NoReturn

import yaml

from creds_lint.errors import CredsLintError
from creds_lint.loader import compose_yaml

_CORE = "tag:yaml.org,2002:"

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


def parse_yaml(data: bytes, *, source: str, section: str | None = None) -> Node:
    """A YAML file as a tree (an empty file is ``None``). With ``section``, only that key of a top-level mapping is
    read (the rest of the file is neither converted nor validated), or the whole file when it is not a mapping;
    a mapping without the key is ``None``."""
    root = compose_yaml(data, source=source)
    if root is None:
        return Node(value=None, source=source, line=1)
    if section is not None and isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if isinstance(key, yaml.ScalarNode) and key.value == section:
                return _from_yaml(value, source, section, int(key.start_mark.line) + 1)
        return Node(value=None, source=source, line=1)
    return _from_yaml(root, source, "")


def _from_yaml(node: yaml.Node, source: str, path: str, line: int | None = None) -> Node:
    """The tree of ``node``; ``line`` is where its key was written (a value's own line for list items)."""
    line = line or int(node.start_mark.line) + 1
    if isinstance(node, yaml.MappingNode):
        items: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _CORE + "merge":
                Node(value=None, source=source, path=path, line=line).fail("keys must be plain names")
            key = str(key_node.value)
            child = _from_yaml(value_node, source, _join(path, key), int(key_node.start_mark.line) + 1)
            if key in items:
                child.fail(f"duplicate key (first on line {items[key].line})")
            items[key] = child
        return Node(value=MappingProxyType(items), source=source, path=path, line=line)
    if isinstance(node, yaml.SequenceNode):
        values = tuple(_from_yaml(child, source, f"{path}[{i}]") for i, child in enumerate(node.value))
        return Node(value=values, source=source, path=path, line=line)
    assert isinstance(node, yaml.ScalarNode)
    return Node(value=_scalar(node, source, path, line), source=source, path=path, line=line)


def _bool(text: str) -> Value:
    return text.lower() in ("true", "yes", "on", "y")


def _int(text: str) -> Value:
    return int(text.replace("_", ""), 0)


#: How each core scalar tag is read; a value its converter refuses stays a string.
_SCALARS: Mapping[str, Callable[[str], Value]] = {
    _CORE + "str": str,
    _CORE + "null": lambda _: None,
    _CORE + "bool": _bool,
    _CORE + "int": _int,
    _CORE + "float": float,
    _CORE + "timestamp": date.fromisoformat,
}


def _scalar(node: yaml.ScalarNode, source: str, path: str, line: int) -> Value:
    text = str(node.value)
    convert = _SCALARS.get(str(node.tag))
    if convert is None:
        shown = str(node.tag).removeprefix(_CORE)[:40]
        Node(value=None, source=source, path=path, line=line).fail(f"YAML tag {shown} is not allowed")
    try:
        return convert(text)
    except ValueError:
        return text


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
