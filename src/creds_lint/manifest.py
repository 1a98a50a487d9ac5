"""BOSH manifests: what each variable is declared to be (``--manifest``).

A manifest is read for its ``variables:`` section (a whole manifest with ops files applied, as ``bosh int``
prints it, or just that list). Each variable gives its ``type`` and, for certificates, the options bosh generates
it with: ``is_ca``, ``ca`` (the signer's name), ``common_name``, ``alternative_names``, ``extended_key_usage``,
and ``duration`` (days of validity, which ``creds-lint renew`` uses).
An option whose value still holds a ``((variable))`` reference cannot be compared: it is skipped and listed in
:attr:`Declaration.unresolved`. Several manifests add up; a variable declared again replaces the earlier one (as
an ops file would).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from creds_lint.errors import CredsLintError
from creds_lint.loader import read_file
from creds_lint.model import Kind
from creds_lint.tree import Node, parse_yaml, scan_yaml

#: The types the bosh CLI generates into a var-store, and the kind of value each gives.
GENERATED: Mapping[str, Kind] = MappingProxyType(
    {"password": Kind.PASSWORD, "certificate": Kind.CERTIFICATE, "rsa": Kind.RSA, "ssh": Kind.SSH}
)
COMPARED_OPTIONS = ("is_ca", "ca", "common_name", "alternative_names", "extended_key_usage")
#: A bosh placeholder (director/template): ``((name))``, ``((name.field))``, ``((!name))``, ``((/path/name))``.
_PLACEHOLDER = re.compile(r"\(\((!?[-/.\w]+)\)\)")
_MANIFEST = "a BOSH manifest"


@dataclass(frozen=True, kw_only=True)
class Declaration:
    """One entry of a manifest's ``variables:``. Options that were not given (or not resolved) are ``None``."""

    name: str
    type: str
    source: str
    line: int | None
    is_ca: bool | None = None
    ca: str | None = None
    common_name: str | None = None
    alternative_names: tuple[str, ...] | None = None
    extended_key_usage: tuple[str, ...] | None = None
    duration: int | None = None
    unresolved: tuple[str, ...] = ()

    @property
    def kind(self) -> Kind | None:
        """The kind of value bosh generates for it, or ``None`` for a type the CLI does not generate."""
        return GENERATED.get(self.type)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line is not None else self.source


@dataclass(frozen=True, kw_only=True)
class Manifest:
    """The variables declared by one or more manifests, by name."""

    sources: tuple[str, ...]
    variables: Mapping[str, Declaration]
    references: frozenset[str] = frozenset()

    def reads(self, name: str) -> bool:
        """Whether a ``((name))`` placeholder (or ``((name.field))``) appears anywhere in the manifests."""
        return name in self.references

    @property
    def unresolved(self) -> tuple[str, ...]:
        """``variable.option`` for every option skipped because it holds a ``((variable))``."""
        return tuple(f"{d.name}.{option}" for d in self.variables.values() for option in d.unresolved)

    @property
    def label(self) -> str:
        return ", ".join(self.sources)


def load(paths: Sequence[str | Path]) -> Manifest | None:
    """The manifests at ``paths`` combined, or ``None`` when there is none."""
    if not paths:
        return None
    variables: dict[str, Declaration] = {}
    references: set[str] = set()
    for path in paths:
        declarations, read = parse(read_file(path), source=str(path))
        variables.update((declaration.name, declaration) for declaration in declarations)
        references.update(read)
    return Manifest(
        sources=tuple(str(p) for p in paths), variables=MappingProxyType(variables), references=frozenset(references)
    )


def parse(data: bytes, *, source: str) -> tuple[tuple[Declaration, ...], frozenset[str]]:
    """The variables declared in one manifest file, and the names of the variables its placeholders read."""
    placeholders = _Placeholders()  # in the file's scalars, keys included; a commented-out line reads nothing
    section = parse_yaml(data, source=source, what=_MANIFEST, section="variables", texts=placeholders)
    if section.value is None:
        raise CredsLintError("no variables: section (give a BOSH manifest or its variables list)", source=source)
    if section.path != "variables" and not isinstance(section.value, tuple):
        section.fail("expected a BOSH manifest or a list of variables")
    return tuple(_declaration(item) for item in section.sequence()), frozenset(placeholders.names)


class _Placeholders:
    """The variable of every placeholder in the scalars it is given (``((a.b))`` and ``((!a))`` read ``a``)."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def __call__(self, text: str) -> None:
        if "((" in text:
            self.names.update(m.group(1).removeprefix("!").split(".", 1)[0] for m in _PLACEHOLDER.finditer(text))


def written(path: str | Path) -> tuple[object, ...]:
    """The entries of a manifest's ``variables:`` as written, as plain values (every option, unresolved ones
    too), read as by :func:`load`."""
    section = parse_yaml(read_file(path), source=str(path), what=_MANIFEST, section="variables")
    return tuple(item.plain() for item in section.value) if isinstance(section.value, tuple) else ()


def _declaration(node: Node) -> Declaration:
    item = node.mapping()
    for required in ("name", "type"):
        if required not in item:
            node.fail(f"a variable needs a '{required}'")
    options = item["options"].mapping() if "options" in item and item["options"].value is not None else {}
    unresolved = tuple(name for name in COMPARED_OPTIONS if name in options and _unresolved(options[name]))

    def given(name: str) -> Node | None:
        return options[name] if name in options and name not in unresolved else None

    is_ca, ca, common_name = given("is_ca"), given("ca"), given("common_name")
    sans, usages = given("alternative_names"), given("extended_key_usage")
    duration = options.get("duration")
    return Declaration(
        name=item["name"].string(),
        type=item["type"].string(),
        source=node.source,
        line=node.line,
        is_ca=is_ca.boolean() if is_ca is not None else None,
        ca=ca.string() if ca is not None else None,
        common_name=_text(common_name) if common_name is not None else None,
        alternative_names=tuple(_text(n) for n in sans.sequence()) if sans is not None else None,
        extended_key_usage=usages.strings() if usages is not None else None,
        duration=duration.integer() if duration is not None and not _unresolved(duration) else None,
        unresolved=unresolved,
    )


def _unresolved(node: Node) -> bool:
    if isinstance(node.value, str):
        return "((" in node.value
    if isinstance(node.value, tuple):
        return any(_unresolved(item) for item in node.value)
    return False


def _text(node: Node) -> str:
    """A name option: YAML may read an unquoted one as a number; bosh takes it as text."""
    if isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return str(node.value)
    return node.string()


def normalize_name(name: str) -> str:
    """A subject alternative name as certificates hold it: an IP address in canonical form, a DNS name lowercased."""
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name.lower()


def references(data: bytes, *, source: str) -> frozenset[str]:
    """The variables the placeholders of any YAML document read (an ops file's, say), as for a manifest."""
    placeholders = _Placeholders()
    scan_yaml(data, source=source, what="a YAML file", texts=placeholders)
    return frozenset(placeholders.names)
