"""Bytes -> :class:`VarStore`, safely.

YAML is composed with the libyaml C parser when available (the pure-Python one otherwise) into a node graph and
built into plain values here, so that:

* no tag can construct an object (``!!python/object`` and any other non-standard tag is refused);
* every top-level variable and every field gets its line number;
* duplicate keys are noticed (bosh silently keeps the last one);
* aliases are expanded only within a fixed budget (alias bombs fail fast), recursive aliases are refused;
* error messages give line and column but never quote the file (a YAML snippet can hold a password).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import yaml

from creds_lint.errors import CredsLintError
from creds_lint.model import Duplicate, Entry, VarStore, normalize

try:
    _Loader: type[yaml.CSafeLoader] | type[yaml.SafeLoader] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

#: A var-store is a flat mapping of a few thousand small values; beyond these limits the input is hostile.
MAX_BYTES = 64 * 1024 * 1024
MAX_DEPTH = 32
MAX_EXPANDED_NODES = 2_000_000

_CORE = "tag:yaml.org,2002:"
_NULL = _CORE + "null"
_MERGE = _CORE + "merge"
_SCALAR_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp", "binary"))
_CONFLICT = re.compile(rb"^(<{7}|={7}|>{7})(?: |\r?$)", re.MULTILINE)
_QUOTED = re.compile(r"'[^']{4,}'|\"[^\"]{4,}\"")


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


def load_store(path: str | Path) -> VarStore:
    """Read and parse the var-store at ``path``."""
    return parse_store(read_file(path), source=str(path))


def parse_store(data: bytes, *, source: str) -> VarStore:
    """Parse the bytes of a var-store. Raises :class:`CredsLintError` for anything that is not one."""
    if len(data) > MAX_BYTES:
        raise CredsLintError(f"larger than {MAX_BYTES // 2**20} MiB: not a var-store", source=source)
    text = _decode(data, source)
    conflict = _CONFLICT.search(data)
    if conflict:
        line = data.count(b"\n", 0, conflict.start()) + 1
        raise CredsLintError(
            f"line {line}: git merge-conflict marker; resolve the conflict before running bosh", source=source
        )
    root = _compose(text, source)
    digest = hashlib.sha256(data).hexdigest()
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == _NULL):
        return VarStore(source=source, entries=MappingProxyType({}), digest=digest)
    if not isinstance(root, yaml.MappingNode):
        what = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        raise CredsLintError(f"the top level is {what}, not a mapping of variable names to values", source=source)
    _check_expansion(root, source)
    return _build(root, source, digest)


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


def _compose(text: str, source: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise CredsLintError(_describe(exc), source=source) from None
    except yaml.YAMLError:
        raise CredsLintError("not valid YAML", source=source) from None
    except RecursionError:
        raise CredsLintError("YAML nested too deeply: not a var-store", source=source) from None
    finally:
        loader.dispose()


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
        if total > MAX_EXPANDED_NODES:
            raise CredsLintError("YAML aliases expand to too many values (an alias bomb?)", source=source)
        sizes[key] = total
        return total

    size(root, 0)


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _build(root: yaml.MappingNode, source: str, digest: str) -> VarStore:
    entries: dict[str, Entry] = {}
    seen: dict[str, list[int]] = {}
    duplicates: list[Duplicate] = []
    for key_node, value_node in root.value:
        name = _key(key_node, source)
        line = _line(key_node)
        seen.setdefault(name, []).append(line)
        value = _value(value_node, source)
        field_lines: Mapping[str, int] = MappingProxyType({})
        if isinstance(value_node, yaml.MappingNode):
            lines: dict[str, int] = {}
            field_seen: dict[str, list[int]] = {}
            for field_key, _ in value_node.value:
                field_name = _key(field_key, source)
                lines[field_name] = _line(field_key)
                field_seen.setdefault(field_name, []).append(_line(field_key))
            field_lines = MappingProxyType(lines)
            duplicates.extend(
                Duplicate(name=name, field=f, lines=tuple(at)) for f, at in field_seen.items() if len(at) > 1
            )
        # bosh keeps the last value of a duplicate key; so do we, and the duplicate is reported.
        entries.pop(name, None)
        entries[name] = Entry(name=name, value=normalize(value), line=line, field_lines=field_lines)
    duplicates[:0] = [Duplicate(name=n, lines=tuple(at)) for n, at in seen.items() if len(at) > 1]
    return VarStore(source=source, entries=MappingProxyType(entries), duplicates=tuple(duplicates), digest=digest)


def _key(node: yaml.Node, source: str) -> str:
    if not isinstance(node, yaml.ScalarNode):
        raise CredsLintError(f"line {_line(node)}: a key must be a plain name, not a list or mapping", source=source)
    if node.tag == _MERGE:
        raise CredsLintError(f"line {_line(node)}: YAML merge keys (<<) are not supported", source=source)
    _check_tag(node, source)
    return str(node.value)


def _value(node: yaml.Node, source: str) -> object:
    if isinstance(node, yaml.ScalarNode):
        _check_tag(node, source)
        return None if node.tag == _NULL else str(node.value)
    if isinstance(node, yaml.SequenceNode):
        _check_collection_tag(node, "seq", source)
        return [_value(child, source) for child in node.value]
    if isinstance(node, yaml.MappingNode):
        _check_collection_tag(node, "map", source)
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            result[_key(key_node, source)] = _value(value_node, source)
        return result
    raise CredsLintError(f"line {_line(node)}: unsupported YAML node", source=source)  # pragma: no cover


def _check_tag(node: yaml.ScalarNode, source: str) -> None:
    if node.tag not in _SCALAR_TAGS:
        _refuse_tag(node, source)


def _check_collection_tag(node: yaml.Node, expected: str, source: str) -> None:
    if node.tag not in (_CORE + expected, _CORE + "omap", _CORE + "set"):
        _refuse_tag(node, source)


def _refuse_tag(node: yaml.Node, source: str) -> None:
    tag = str(node.tag)
    shown = "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag
    shown = shown.split(":", 1)[0][:40]
    raise CredsLintError(
        f"line {_line(node)}: YAML tag {shown} is not allowed in a var-store (nothing was constructed)",
        source=source,
    )


def compose_yaml(data: bytes, *, source: str) -> yaml.Node | None:
    """The YAML node graph of any small file creds-lint reads besides var-stores (its configuration, manifests),
    with the same safety: no object construction, bounded aliases, errors that never quote the file."""
    if len(data) > MAX_BYTES:
        raise CredsLintError(f"larger than {MAX_BYTES // 2**20} MiB", source=source)
    root = _compose(_decode(data, source), source)
    if root is not None:
        _check_expansion(root, source)
    return root
