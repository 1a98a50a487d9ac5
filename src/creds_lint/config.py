"""Configuration: discovery and strict validation -> a frozen :class:`Config`.

Where the configuration comes from (the first that applies; files are never merged):

1. ``--config PATH``: that file (YAML, or a ``pyproject.toml`` with a ``[tool.creds-lint]`` table);
2. ``--no-config``: none at all;
3. otherwise, walking up from the directory of the first checked file (or from the working directory) to the
   filesystem root, in each directory: ``.creds-lint.yml``, ``.creds-lint.yaml``, then ``pyproject.toml`` if it
   has a ``[tool.creds-lint]`` table;
4. the built-in defaults.

With ``--base`` (pull requests), discovery reads the files from the base revision with git instead
(:func:`for_pull_request`): rules, severities and classification come from the base; only the head's allowances
are added.

Command-line flags override what the file says; ``--allow`` adds to its allowances. Validation is strict: an
unknown key, an unknown rule, a wrong type or a bad value is a :class:`CredsLintError` naming the file, the key path
and (for YAML) the line. See docs/configuration.md.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType

from creds_lint.allowances import COMMAND_LINE, COMMAND_LINE_REASON, Allowance
from creds_lint.errors import CredsLintError
from creds_lint.findings import ConfigurationNote, Severity
from creds_lint.loader import read_file
from creds_lint.model import DEFAULT_CLASSIFIER, Classifier, Role
from creds_lint.tree import Node, from_python, parse_yaml, suggest

CONFIG_NAMES = (".creds-lint.yml", ".creds-lint.yaml")
PYPROJECT = "pyproject.toml"
TOML_TABLE = "[tool.creds-lint]"

#: ``classify:`` keys and the role each gives.
CLASSIFY_KEYS: Mapping[str, Role] = MappingProxyType(
    {
        "encryption-keys": Role.ENCRYPTION_KEY,
        "cas": Role.CA,
        "agent-credentials": Role.AGENT_CREDENTIAL,
        "signing-keys": Role.SIGNING_KEY,
        "logins": Role.LOGIN,
        "disposable": Role.DISPOSABLE,
    }
)
TOP_KEYS = ("fail-on", "expiry-days", "var-stores", "rules", "classify", "allow", "manifests")
ALLOW_KEYS = ("rule", "variable", "file", "reason", "expires", "fingerprint")
LEVELS = ("error", "warning", "info", "off")
_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{8}")


@dataclass(frozen=True, kw_only=True)
class Config:
    """Validated settings. ``None`` (or empty) means "not set here": the next source or the default applies.

    ``severities`` maps a rule name to a severity, or to ``None`` for a rule turned off. ``patterns`` and
    ``names`` extend the built-in classification. ``manifests`` are paths resolved against the config file's
    directory.
    """

    source: str | None = None
    severities: Mapping[str, Severity | None] = field(default_factory=lambda: MappingProxyType({}))
    fail_on: Severity | None = None
    expiry_days: int | None = None
    var_stores: tuple[str, ...] | None = None
    patterns: Mapping[Role, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    names: Mapping[str, Role] = field(default_factory=lambda: MappingProxyType({}))
    allow: tuple[Allowance, ...] = ()
    manifests: tuple[str, ...] = ()

    def overridden_by(self, flags: Config) -> Config:
        """This configuration with whatever ``flags`` set winning (``--manifest`` replaces the file's manifests);
        allowances add up."""
        return dataclasses.replace(
            self,
            severities=MappingProxyType({**self.severities, **flags.severities}),
            fail_on=flags.fail_on or self.fail_on,
            expiry_days=flags.expiry_days if flags.expiry_days is not None else self.expiry_days,
            var_stores=flags.var_stores if flags.var_stores is not None else self.var_stores,
            patterns=MappingProxyType(
                {r: self.patterns.get(r, ()) + flags.patterns.get(r, ()) for r in {*self.patterns, *flags.patterns}}
            ),
            names=MappingProxyType({**self.names, **flags.names}),
            allow=self.allow + flags.allow,
            manifests=flags.manifests or self.manifests,
        )

    def note(self) -> ConfigurationNote:
        """What a report says about this configuration: its file, the rules it turned off or lowered."""
        from creds_lint.rules import BY_NAME

        off = tuple(sorted(name for name, level in self.severities.items() if level is None))
        lowered = {
            name: level
            for name, level in sorted(self.severities.items())
            if level is not None and level < BY_NAME[name].severity
        }
        return ConfigurationNote(file=self.source, off=off, lowered=MappingProxyType(lowered))

    @property
    def classifier(self) -> Classifier:
        if not self.patterns and not self.names:
            return DEFAULT_CLASSIFIER
        return DEFAULT_CLASSIFIER.extended(patterns=self.patterns, names=self.names)


DEFAULT_CONFIG = Config()


# --- discovery ------------------------------------------------------------------------------------------------


def discover(start: Path) -> Path | None:
    """The configuration file that applies to files in ``start`` (a directory), or ``None``. The path is
    relative to the working directory when the file is below it (it names the file in messages)."""
    start = start.resolve()
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return _shown(candidate)
        pyproject = directory / PYPROJECT
        if pyproject.is_file() and _tool_table(pyproject) is not None:
            return _shown(pyproject)
    return None


def _shown(path: Path) -> Path:
    try:
        return path.relative_to(Path.cwd().resolve())
    except ValueError:
        return path


def start_directory(paths: Sequence[str | Path], cwd: Path | None = None) -> Path:
    """Where discovery starts: the directory of the first checked file, else the working directory."""
    base = cwd or Path.cwd()
    for path in paths:
        candidate = base / path
        return candidate if candidate.is_dir() else candidate.parent
    return base


def load(*, explicit: str | Path | None = None, start: Path | None = None, disabled: bool = False) -> Config:
    """The configuration for a run (see the module docstring for the order)."""
    if disabled:
        return DEFAULT_CONFIG
    if explicit is not None:
        return load_file(Path(explicit))
    found = discover(start or Path.cwd())
    return load_file(found) if found is not None else DEFAULT_CONFIG


def load_file(path: Path) -> Config:
    """Read and validate one configuration file (YAML, or ``pyproject.toml``)."""
    config = _parse_content(read_file(path), name=path.name, source=str(path), base=path.parent)
    if config is None:
        raise CredsLintError(f"no {TOML_TABLE} table", source=str(path))
    return config


def _parse_content(data: bytes, *, name: str, source: str, base: Path) -> Config | None:
    """A configuration file's content; ``None`` for a ``pyproject.toml`` without a ``[tool.creds-lint]`` table."""
    if name == PYPROJECT:
        table = _toml_table(data, source=source)
        return parse(table, base=base) if table is not None else None
    return parse(parse_yaml(data, source=source), base=base)


def _tool_table(path: Path) -> Node | None:
    return _toml_table(read_file(path), source=str(path))


def _toml_table(content: bytes, *, source: str) -> Node | None:
    import tomllib

    try:
        data = tomllib.loads(content.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CredsLintError(f"invalid TOML: {exc}", source=source) from None
    tool = data.get("tool")
    table = tool.get("creds-lint") if isinstance(tool, dict) else None
    if table is None:
        return None
    return from_python(table, source=source, where=f"{TOML_TABLE} ")


def load_at_revision(rev: str, start: Path) -> Config:
    """The configuration that applies to files in ``start`` (a directory of the work tree) as committed in git
    revision ``rev``: discovery as on disk (``.creds-lint.yml``, ``.creds-lint.yaml``, then ``pyproject.toml``
    with a ``[tool.creds-lint]`` table, from ``start`` up to the top of the work tree), read with git from the
    revision; the defaults when the revision has none. Files are named ``REV:path``; ``manifests`` are resolved
    against the work tree."""
    from creds_lint.git import Repo

    repo = Repo.discover(start)
    commit = repo.resolve(rev)
    top = Path(os.path.realpath(repo.root))
    relative = Path(os.path.relpath(os.path.realpath(start), top))
    if relative.parts[:1] == (os.pardir,):
        relative = Path()
    for directory in (relative, *relative.parents):
        for name in (*CONFIG_NAMES, PYPROJECT):
            path = (directory / name).as_posix()
            blob = repo.blob_at(commit, path)
            if blob is None:
                continue
            source = f"{rev}:{path}"
            found = _parse_content(repo.read_blob(blob, label=source), name=name, source=source, base=top / directory)
            if found is not None:
                return found
    return DEFAULT_CONFIG


def for_pull_request(*, base: str, head: str, start: Path) -> Config:
    """The configuration of a ``--base`` run: everything from the base revision (rules, severities,
    ``fail-on``, ``classify``, ``var-stores``, ``expiry-days``, ``manifests``), so that a branch cannot turn off
    the rule that would block it; plus the allowances of the head revision's configuration, which are part of the
    change under review (a reviewer sees them in the diff, each with its reason)."""
    at_base = load_at_revision(base, start)
    at_head = load_at_revision(head, start)
    return dataclasses.replace(at_base, allow=at_base.allow + at_head.allow)


# --- validation -----------------------------------------------------------------------------------------------


def parse(root: Node, *, base: Path) -> Config:
    """Validate a configuration tree."""
    if root.value is None:
        return Config(source=root.source)
    top = _set(root.keys(TOP_KEYS))
    patterns, names = _classify(top["classify"]) if "classify" in top else ({}, {})
    return Config(
        source=root.source,
        severities=MappingProxyType(_rules(top["rules"])) if "rules" in top else MappingProxyType({}),
        fail_on=_severity(top["fail-on"]) if "fail-on" in top else None,
        expiry_days=_expiry_days(top["expiry-days"]) if "expiry-days" in top else None,
        var_stores=_globs(top["var-stores"]) if "var-stores" in top else None,
        patterns=MappingProxyType(patterns),
        names=MappingProxyType(names),
        allow=tuple(_allowance(item) for item in top["allow"].sequence()) if "allow" in top else (),
        manifests=tuple(str(base / p) for p in top["manifests"].strings()) if "manifests" in top else (),
    )


def _set(mapping: Mapping[str, Node]) -> Mapping[str, Node]:
    """The keys that have a value: ``allow:`` left empty (null) is the same as no ``allow:`` at all."""
    return {key: node for key, node in mapping.items() if node.value is not None}


def rule_name(key: str) -> str | None:
    """The name of a rule given by name or code, or ``None``."""
    from creds_lint.rules import find

    found = find(key)
    return found.name if found is not None else None


def _rule(node: Node) -> str:
    from creds_lint.rules import BY_NAME

    text = node.string()
    name = rule_name(text)
    if name is None:
        node.fail(f"unknown rule '{text[:60]}'{suggest(text, list(BY_NAME))}")
    return name


def _level(node: Node) -> Severity | None:
    if node.value is False:  # YAML 1.1 reads a plain `off` as false
        return None
    text = node.string()
    if text.lower() not in LEVELS:
        node.fail(f"unknown severity '{text[:40]}' (choose from {', '.join(LEVELS)})")
    return None if text.lower() == "off" else Severity(text.lower())


def _severity(node: Node) -> Severity:
    level = _level(node)
    if level is None:
        node.fail("'off' is not a threshold (choose from error, warning, info)")
    return level


def _rules(node: Node) -> dict[str, Severity | None]:
    from creds_lint.rules import BY_NAME

    severities: dict[str, Severity | None] = {}
    for key, child in node.mapping().items():
        name = rule_name(key)
        if name is None:
            child.fail(f"unknown rule{suggest(key, list(BY_NAME))}")
        severities[name] = _level(child)
    return severities


#: A century: beyond it no certificate bosh writes is ever "expiring", and dates overflow.
MAX_EXPIRY_DAYS = 36500


def expiry_days_problem(days: int) -> str | None:
    """Why ``days`` is not a valid expiry window, or ``None``; shared by the file and the flag."""
    if not 0 <= days <= MAX_EXPIRY_DAYS:
        return f"must be from 0 to {MAX_EXPIRY_DAYS}"
    return None


def _expiry_days(node: Node) -> int:
    days = node.integer()
    problem = expiry_days_problem(days)
    if problem is not None:
        node.fail(problem)
    return days


def _globs(node: Node) -> tuple[str, ...]:
    globs = node.strings()
    for item, glob in zip(node.sequence(), globs, strict=True):
        if not glob.strip():
            item.fail("an empty glob matches nothing")
    return globs


def _classify(node: Node) -> tuple[dict[Role, tuple[str, ...]], dict[str, Role]]:
    patterns: dict[Role, tuple[str, ...]] = {}
    names: dict[str, Role] = {}
    listed_at: dict[str, str] = {}
    disposable: list[Node] = []
    for key, child in node.keys(tuple(CLASSIFY_KEYS)).items():
        role = CLASSIFY_KEYS[key]
        parts = _set(child.keys(("names", "patterns"))) if child.value is not None else {}
        if "patterns" in parts:
            for item in parts["patterns"].sequence():
                _compile(item)
            patterns[role] = parts["patterns"].strings()
        if "names" in parts:
            for item in parts["names"].sequence():
                name = item.string()
                if name in names and names[name] is not role:
                    item.fail(f"'{name}' is already listed under {listed_at[name]}")
                names[name] = role
                listed_at[name] = item.path
                if role is Role.DISPOSABLE:
                    disposable.append(item)
    keys = DEFAULT_CLASSIFIER.extended(patterns={Role.ENCRYPTION_KEY: patterns.get(Role.ENCRYPTION_KEY, ())}, names={})
    for item in disposable:
        if keys.pattern_matches("encryption_key", item.string()):
            item.fail(f"'{item.string()}' is an encryption key by its name: an encryption key is never disposable")
    return patterns, names


def _compile(node: Node) -> None:
    try:
        re.compile(node.string())
    except re.error as exc:
        node.fail(f"invalid regular expression: {exc}")


def _allowance(node: Node) -> Allowance:
    item = node.keys(ALLOW_KEYS)
    for required in ("rule", "variable", "reason"):
        if required not in item and not (required == "variable" and "file" in item):
            node.fail(f"missing required key '{required}'")
    reason = item["reason"].string().strip()
    if not reason:
        item["reason"].fail("must say why the change is deliberate")
    variable = item["variable"].string() if "variable" in item else None
    if variable == "":
        item["variable"].fail("must name a variable")
    file = item["file"].string() if "file" in item else None
    if file == "":
        item["file"].fail("an empty glob matches nothing")
    return Allowance(
        rule=_rule(item["rule"]),
        variable=variable,
        file=file,
        reason=reason,
        expires=_date(item["expires"]) if "expires" in item else None,
        fingerprint=_fingerprint(item["fingerprint"]) if "fingerprint" in item else None,
        source=node.source,
        line=node.line,
    )


def _date(node: Node) -> date:
    if isinstance(node.value, date):
        return node.value
    text = node.string()
    try:
        return date.fromisoformat(text)
    except ValueError:
        node.fail(f"expected a date as YYYY-MM-DD, got '{text[:40]}'")


def _fingerprint(node: Node) -> str:
    text = node.string()
    if not _FINGERPRINT.fullmatch(text):
        node.fail(f"expected a fingerprint as shown in findings (sha256: and 8 hex digits), got '{text[:40]}'")
    return text


# --- command-line flags ---------------------------------------------------------------------------------------


def from_flags(
    *,
    fail_on: Severity | None = None,
    expiry_days: int | None = None,
    severities: Sequence[str] = (),
    allow: Sequence[str] = (),
    manifests: Sequence[str] = (),
    var_stores: Sequence[str] | None = None,
) -> Config:
    """The settings given on the command line, validated like the file's."""
    flag = Node(value=None, source="", where="")
    levels: dict[str, Severity | None] = {}
    for text in severities:
        key, sep, level = text.partition("=")
        here = dataclasses.replace(flag, where=f"--severity {text[:80]}: ")
        if not sep:
            here.fail("expected RULE=LEVEL")
        name = _rule(dataclasses.replace(here, value=key.strip()))
        levels[name] = _level(dataclasses.replace(here, value=level.strip()))
    allowances = []
    for text in allow:
        key, sep, variable = text.partition(":")
        here = dataclasses.replace(flag, where=f"--allow {text[:80]}: ")
        if not sep or not variable.strip():
            here.fail("expected RULE:VARIABLE")
        allowances.append(
            Allowance(
                rule=_rule(dataclasses.replace(here, value=key.strip())),
                variable=variable.strip(),
                reason=COMMAND_LINE_REASON,
                source=COMMAND_LINE,
            )
        )
    return Config(
        severities=MappingProxyType(levels),
        fail_on=fail_on,
        expiry_days=expiry_days,
        var_stores=tuple(var_stores) if var_stores is not None else None,
        allow=tuple(allowances),
        manifests=tuple(manifests),
    )
