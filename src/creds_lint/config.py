"""Configuration: discovery and strict validation -> a frozen :class:`Config`.

Where the configuration comes from (the first that applies; files are never merged):

1. ``--config PATH``: that file (YAML, or a ``pyproject.toml`` with a ``[tool.creds-lint]`` table);
2. ``--no-config``: none at all;
3. otherwise, for each var-store, walking up from its directory to the top of the git work tree (the filesystem
   root outside one), in each directory: ``.creds-lint.yml``, ``.creds-lint.yaml``, then ``pyproject.toml`` if it
   has a ``[tool.creds-lint]`` table;
4. the built-in defaults.

One walker (:class:`Walker`) does discovery over a :class:`Tree`: the disk (:class:`Disk`), the git index
(:class:`Index`: ``--staged``, ``--hook``) or a revision (:class:`Revision`: ``--base``).
:class:`Configurations` gives each var-store of a run its configuration; with ``--base`` everything comes from
the base revision, a ``--config`` file included, and only the head's allowances are added (the head's other
settings are reported, not applied).

Command-line flags override what the file says; ``--allow`` adds to its allowances. Validation is strict: an
unknown key, an unknown rule, a wrong type or a bad value is a :class:`CredsLintError` naming the file, the key path
and (for YAML) the line. See docs/configuration.md.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from creds_lint.allowances import COMMAND_LINE, COMMAND_LINE_REASON, Allowance
from creds_lint.errors import CredsLintError
from creds_lint.findings import ConfigurationChange, ConfigurationNote, Severity
from creds_lint.git import EntryKind, Repo, TreeEntry
from creds_lint.globs import TOP, Globs, Root, problem
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
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, kw_only=True)
class Config:
    """Validated settings. ``None`` (or empty) means "not set here": the next source or the default applies.

    ``severities`` maps a rule name to a severity, or to ``None`` for a rule turned off. ``patterns`` and
    ``names`` extend the built-in classification. ``manifests`` are paths resolved against the config file's
    directory. ``var_stores`` and each allowance's ``file`` are anchored at that directory (at the
    top of the work tree for a ``--config`` file: :mod:`creds_lint.globs`).
    """

    source: str | None = None
    severities: Mapping[str, Severity | None] = field(default_factory=lambda: MappingProxyType({}))
    fail_on: Severity | None = None
    expiry_days: int | None = None
    var_stores: Globs | None = None
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


class Tree(Protocol):
    """Where configuration files are read from: the disk, the git index, or a git revision. Paths are relative to
    ``top`` with ``/`` separators (``""`` is the top itself); discovery never looks above ``top``."""

    @property
    def top(self) -> Path: ...

    def read(self, directory: str, names: Sequence[str]) -> Mapping[str, bytes]:
        """The content of each of ``names`` that is a regular file in ``directory``."""
        ...

    def label(self, path: str) -> str:
        """How messages and reports name the file at ``path``."""
        ...

    def root(self, directory: str) -> Root:
        """Where the globs of a configuration file in ``directory`` are anchored, in the frame the run names files."""
        ...


@dataclass(frozen=True, kw_only=True)
class Disk:
    """Files on disk under ``top``: the top of the git work tree (a ``.creds-lint.yml`` above the repository is
    never read), or the filesystem root outside one. Files are named relative to the working directory."""

    top: Path

    @classmethod
    def around(cls, start: Path) -> Disk:
        """The tree that holds ``start``: up to the nearest directory with a ``.git`` (the top of its work tree),
        else the filesystem root."""
        start = start.resolve()
        for directory in (start, *start.parents):
            if (directory / ".git").exists():
                return cls(top=directory)
        return cls(top=Path(start.anchor))

    def read(self, directory: str, names: Sequence[str]) -> Mapping[str, bytes]:
        folder = self.top / directory
        return {name: read_file(folder / name) for name in names if (folder / name).is_file()}

    def label(self, path: str) -> str:
        return str(_shown(self.top / path))

    def root(self, directory: str) -> Root:
        return Root.on_disk(self.top / directory, top=self.top)


@dataclass(frozen=True, kw_only=True)
class Index:
    """The git index: what the next commit records (``--staged``, ``--hook``). Files are named by their path from
    the top of the work tree, like the staged var-stores."""

    repo: Repo

    @property
    def top(self) -> Path:
        return Path(os.path.realpath(self.repo.root))

    @cached_property
    def _configurations(self) -> Mapping[str, TreeEntry]:
        return self.repo.files_named(_DISCOVERED)

    def read(self, directory: str, names: Sequence[str]) -> Mapping[str, bytes]:
        paths = {_join(directory, name): name for name in names}
        entries = _entries(self._configurations, paths) if _DISCOVERED.issuperset(names) else None
        if entries is None:
            entries = self.repo.staged_entries(list(paths))
        return {paths[p]: self.repo.read_blob(e.oid, label=p) for p, e in entries.items() if e.kind is EntryKind.FILE}

    def label(self, path: str) -> str:
        return path

    def root(self, directory: str) -> Root:
        return Root(folder=directory)


@dataclass(frozen=True, kw_only=True)
class Revision:
    """A commit (``--base``): files are named ``REV:path``."""

    repo: Repo
    rev: str
    commit: str

    @classmethod
    def of(cls, repo: Repo, rev: str) -> Revision:
        return cls(repo=repo, rev=rev, commit=repo.resolve(rev))

    @property
    def top(self) -> Path:
        return Path(os.path.realpath(self.repo.root))

    @cached_property
    def _configurations(self) -> Mapping[str, TreeEntry]:
        return self.repo.files_named(_DISCOVERED, rev=self.commit)

    def read(self, directory: str, names: Sequence[str]) -> Mapping[str, bytes]:
        paths = {_join(directory, name): name for name in names}
        entries = _entries(self._configurations, paths) if _DISCOVERED.issuperset(names) else None
        if entries is None:
            entries = self.repo.entries_at(self.commit, list(paths))
        return {
            paths[p]: self.repo.read_blob(e.oid, label=self.label(p))
            for p, e in entries.items()
            if e.kind is EntryKind.FILE
        }

    def label(self, path: str) -> str:
        return f"{self.rev}:{path}"

    def root(self, directory: str) -> Root:
        return Root(folder=directory)


#: The file names discovery looks for: a git tree lists them all with one call.
_DISCOVERED = frozenset((*CONFIG_NAMES, PYPROJECT))


def _entries(listing: Mapping[str, TreeEntry], paths: Mapping[str, str]) -> dict[str, TreeEntry]:
    return {path: listing[path] for path in paths if path in listing}


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


@dataclass(frozen=True, kw_only=True)
class Walker:
    """Configuration discovery over one :class:`Tree`: for a directory, the nearest ``.creds-lint.yml``, then
    ``.creds-lint.yaml``, then ``pyproject.toml`` with a ``[tool.creds-lint]`` table, from that directory up to the
    tree's top. Each directory is looked at once per run, whatever number of files it holds."""

    tree: Tree
    _found: dict[str, Config] = field(default_factory=dict, repr=False, compare=False)

    def at(self, directory: str) -> Config:
        """The configuration for files in ``directory`` (relative to the top); the defaults when none is found."""
        directory = "" if directory in ("", ".") else directory.strip("/")
        missed: list[str] = []
        found: Config | None = None
        current: str | None = directory
        while current is not None:
            if current in self._found:
                found = self._found[current]
                break
            found = self._in(current)
            if found is not None:
                self._found[current] = found
                break
            missed.append(current)
            current = None if current == "" else posixpath.dirname(current)
        result = found or DEFAULT_CONFIG
        for skipped in missed:
            self._found[skipped] = result
        return result

    def for_file(self, path: str) -> Config:
        """The configuration for the file at ``path`` (relative to the top)."""
        return self.at(posixpath.dirname(path))

    def directory_of(self, path: str | Path) -> str:
        """A directory on disk (absolute, or relative to the working directory) relative to the top; the top for
        a directory outside the tree."""
        relative = os.path.relpath(os.path.realpath(path), self.tree.top)
        if relative in (os.curdir, os.pardir) or relative.startswith(os.pardir + os.sep):
            return ""
        return Path(relative).as_posix()

    def _in(self, directory: str) -> Config | None:
        contents = self.tree.read(directory, (*CONFIG_NAMES, PYPROJECT))
        for name in (*CONFIG_NAMES, PYPROJECT):
            if name in contents:
                path = _join(directory, name)
                parsed = _parse_content(
                    contents[name],
                    name=name,
                    source=self.tree.label(path),
                    base=self.tree.top / directory,
                    root=self.tree.root(directory),
                )
                if parsed is not None:
                    return parsed
        return None


def discover(start: Path) -> Path | None:
    """The configuration file that applies to files in ``start`` (a directory) on disk, or ``None``. The path is
    relative to the working directory when the file is below it (it names the file in messages)."""
    walker = Walker(tree=Disk.around(start))
    found = walker.at(walker.directory_of(start))
    return Path(found.source) if found.source is not None else None


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
    """The configuration for a run on disk (see the module docstring for the order)."""
    if disabled:
        return DEFAULT_CONFIG
    if explicit is not None:
        return load_file(Path(explicit))
    walker = Walker(tree=Disk.around(start or Path.cwd()))
    return walker.at(walker.directory_of(start or Path.cwd()))


def load_file(path: Path, *, root: Root | None = None) -> Config:
    """Read and validate the configuration file named with ``--config`` (YAML, or ``pyproject.toml``) on disk. Its
    globs are anchored at ``root``: by default the top of the git work tree the run is in (the working directory
    outside one), wherever the file is, as git anchors ``core.excludesFile``."""
    if root is None:
        around = Disk.around(Path.cwd())
        in_git = (around.top / ".git").exists()
        root = Root.on_disk(around.top if in_git else Path.cwd(), top=around.top)
    config = _parse_content(read_file(path), name=path.name, source=str(path), base=path.parent, root=root)
    if config is None:
        raise CredsLintError(f"no {TOML_TABLE} table", source=str(path))
    return config


def load_from(tree: Tree, path: str) -> Config | None:
    """The configuration file named with ``--config`` at ``path`` (relative to the tree's top) as the tree has it;
    ``None`` when the tree has no such file. A ``pyproject.toml`` without a ``[tool.creds-lint]`` table is an
    error, as on disk. Its globs are anchored at the top of the tree, as :func:`load_file`'s."""
    directory, name = posixpath.split(path)
    content = tree.read(directory, (name,)).get(name)
    if content is None:
        return None
    source = tree.label(path)
    config = _parse_content(content, name=name, source=source, base=tree.top / directory, root=tree.root(""))
    if config is None:
        raise CredsLintError(f"no {TOML_TABLE} table", source=source)
    return config


def _parse_content(data: bytes, *, name: str, source: str, base: Path, root: Root) -> Config | None:
    """A configuration file's content; ``None`` for a ``pyproject.toml`` without a ``[tool.creds-lint]`` table."""
    if name == PYPROJECT:
        table = _toml_table(data, source=source)
        return parse(table, base=base, root=root) if table is not None else None
    return parse(parse_yaml(data, source=source, what="a configuration file"), base=base, root=root)


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


#: What a configuration sets besides its allowances, by the key that sets it: what a head revision cannot change.
_SETTINGS: Mapping[str, Callable[[Config], object]] = {
    "rules": lambda c: c.severities,
    "fail-on": lambda c: c.fail_on,
    "expiry-days": lambda c: c.expiry_days,
    "var-stores": lambda c: c.var_stores,
    "classify": lambda c: (c.patterns, c.names),
    "manifests": lambda c: c.manifests,
}


def changed_settings(base: Config, head: Config) -> tuple[str, ...]:
    """The keys whose settings differ from ``base`` to ``head`` (``allow`` aside)."""
    return tuple(key for key, get in _SETTINGS.items() if get(base) != get(head))


@dataclass(frozen=True, kw_only=True)
class Configurations:
    """The configuration of each var-store of a run, the flags applied. Each var-store has the configuration
    found from its own directory (a ``.creds-lint.yml`` next to a var-store in a subfolder applies to it, wherever
    the run started), unless one file is named (``--config``) or none (``--no-config``).

    ``walker`` reads the trusted configuration: the disk, the index (``--staged``, ``--hook``) or the base revision
    (``--base``). ``head`` (``--base`` only) reads the head revision, whose allowances are added and whose other
    settings are reported when they differ (they take effect once merged). ``fixed`` is the one configuration
    (``--config``, ``--no-config``) with ``fixed_head`` its version at the head.
    """

    flags: Config
    walker: Walker | None = None
    head: Walker | None = None
    fixed: Config | None = None
    fixed_head: Config | None = None
    _merged: dict[str, Config] = field(default_factory=dict, repr=False, compare=False)
    _ignored: dict[str, ConfigurationChange] = field(default_factory=dict, repr=False, compare=False)

    def at(self, directory: str) -> Config:
        """The configuration for var-stores in ``directory`` (relative to the walker's top, ``/``-separated)."""
        key = "" if self.walker is None else directory
        merged = self._merged.get(key)
        if merged is None:
            merged = self._merged[key] = self._resolve(directory).overridden_by(self.flags)
        return merged

    def for_file(self, path: str) -> Config:
        """The configuration for the var-store at ``path`` (relative to the walker's top)."""
        return self.at(posixpath.dirname(path))

    def for_disk(self, path: str | Path) -> Config:
        """The configuration for the file at ``path`` on disk (relative to the working directory)."""
        if self.walker is None:
            return self.at("")
        return self.at(self.walker.directory_of(Path(path).parent))

    def globs(self, path: str) -> Globs | None:
        """The var-store globs that apply to ``path`` (``None``: the defaults)."""
        return self.for_file(path).var_stores

    @property
    def used(self) -> tuple[Config, ...]:
        """The distinct configurations the run used so far, in the order first used."""
        distinct: list[Config] = []
        for config in self._merged.values():
            if config not in distinct:
                distinct.append(config)
        return tuple(distinct) or (self.at(""),)

    @property
    def ignored(self) -> tuple[ConfigurationChange, ...]:
        """The head's configuration files whose settings (other than allowances) differ from the ones applied."""
        return tuple(self._ignored.values())

    def _resolve(self, directory: str) -> Config:
        if self.walker is None:
            base = self.fixed or DEFAULT_CONFIG
            head = self.fixed_head
        else:
            base = self.walker.at(directory)
            head = self.head.at(directory) if self.head is not None else None
        if head is None:
            return base
        changed = changed_settings(base, head)
        if changed:
            source = head.source or f"{base.source} (removed in the head)"
            self._ignored.setdefault(source, ConfigurationChange(source=source, applied=base.source, keys=changed))
        return dataclasses.replace(base, allow=base.allow + head.allow)


def note_of(configs: Sequence[Config]) -> ConfigurationNote:
    """What a report says about the configurations a run used: their files, and the rules any of them turned
    off or lowered."""
    notes = [c.note() for c in configs]
    files = list(dict.fromkeys(n.file for n in notes if n.file is not None))
    off = tuple(sorted({name for n in notes for name in n.off}))
    lowered: dict[str, Severity] = {}
    for n in notes:
        for name, level in n.lowered.items():
            lowered[name] = min(level, lowered.get(name, level))
    return ConfigurationNote(
        file=", ".join(files) if files else None, off=off, lowered=MappingProxyType(dict(sorted(lowered.items())))
    )


def fail_on_of(configs: Sequence[Config]) -> Severity:
    """The threshold of a run: the lowest ``fail-on`` of its configurations (an error by default)."""
    return min((c.fail_on for c in configs if c.fail_on is not None), default=Severity.ERROR)


def on_disk(
    *, flags: Config, explicit: str | None = None, disabled: bool = False, start: Path | None = None
) -> Configurations:
    """The configurations of a run that reads files on disk (``OLD NEW``, a pre-flight, ``check``): discovery
    from each file's directory up to the top of its git work tree (the filesystem root outside one)."""
    if disabled or explicit is not None:
        return Configurations(flags=flags, fixed=load_file(Path(explicit)) if explicit is not None else None)
    return Configurations(flags=flags, walker=Walker(tree=Disk.around(start or Path.cwd())))


def in_index(repo: Repo, *, flags: Config, explicit: str | None = None, disabled: bool = False) -> Configurations:
    """The configurations of ``--staged`` and ``--hook``: read from the index, which is what the commit records
    (an edit that is not staged cannot weaken the check of the commit)."""
    tree = Index(repo=repo)
    if disabled:
        return Configurations(flags=flags)
    if explicit is not None:
        tracked = _tracked(repo, explicit)
        found = load_from(tree, tracked) if tracked is not None else None
        return Configurations(flags=flags, fixed=found or load_file(Path(explicit), root=TOP))
    return Configurations(flags=flags, walker=Walker(tree=tree))


def in_range(
    repo: Repo, *, base: str, head: str, flags: Config, explicit: str | None = None, disabled: bool = False
) -> Configurations:
    """The configurations of ``--base``: from the base revision, including a ``--config`` file that git tracks, with
    the head revision's allowances added (see :class:`Configurations`). A ``--config`` file the base does not have
    but the head adds leaves the defaults in place; one git does not track at all is read from disk (the change
    under review cannot have written it)."""
    at_base, at_head = Revision.of(repo, base), Revision.of(repo, head)
    if disabled:
        return Configurations(flags=flags)
    if explicit is not None:
        tracked = _tracked(repo, explicit)
        base_config = load_from(at_base, tracked) if tracked is not None else None
        head_config = load_from(at_head, tracked) if tracked is not None else None
        if base_config is None and head_config is None:
            return Configurations(flags=flags, fixed=load_file(Path(explicit), root=TOP))
        return Configurations(flags=flags, fixed=base_config, fixed_head=head_config or DEFAULT_CONFIG)
    return Configurations(flags=flags, walker=Walker(tree=at_base), head=Walker(tree=at_head))


def _tracked(repo: Repo, path: str) -> str | None:
    """``path`` (on disk) relative to the top of the work tree, ``None`` when it is outside."""
    try:
        return repo.relative(path)
    except CredsLintError:
        return None


# --- validation -----------------------------------------------------------------------------------------------


def parse(node: Node, *, base: Path, root: Root = TOP) -> Config:
    """Validate a configuration tree; its globs are anchored at ``root``."""
    if node.value is None:
        return Config(source=node.source)
    top = _set(node.keys(TOP_KEYS))
    patterns, names = _classify(top["classify"]) if "classify" in top else ({}, {})
    return Config(
        source=node.source,
        severities=MappingProxyType(_rules(top["rules"])) if "rules" in top else MappingProxyType({}),
        fail_on=_severity(top["fail-on"]) if "fail-on" in top else None,
        expiry_days=_expiry_days(top["expiry-days"]) if "expiry-days" in top else None,
        var_stores=_globs(top["var-stores"], root=root) if "var-stores" in top else None,
        patterns=MappingProxyType(patterns),
        names=MappingProxyType(names),
        allow=tuple(_allowance(item, root=root) for item in top["allow"].sequence()) if "allow" in top else (),
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


def _globs(node: Node, *, root: Root) -> Globs:
    patterns = node.strings()
    for item, pattern in zip(node.sequence(), patterns, strict=True):
        _glob(item, pattern)
    return Globs(patterns=patterns, root=root)


def _glob(node: Node, pattern: str) -> None:
    found = problem(pattern)
    if found is not None:
        node.fail(found)


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


def _allowance(node: Node, *, root: Root) -> Allowance:
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
    if file is not None:
        _glob(item["file"], file)
    return Allowance(
        rule=_rule(item["rule"]),
        variable=variable,
        file=file,
        reason=reason,
        expires=_date(item["expires"]) if "expires" in item else None,
        fingerprint=_fingerprint(item["fingerprint"]) if "fingerprint" in item else None,
        source=node.source,
        line=node.line,
        root=root,
    )


def _date(node: Node) -> date:
    if isinstance(node.value, datetime):  # YAML reads 2031-01-31 10:00:00 as a date and time
        node.fail("expected a date as YYYY-MM-DD, not a date and time")
    if isinstance(node.value, date):
        return node.value
    text = node.string()
    try:
        if not _DATE.fullmatch(text):  # fromisoformat also reads 20261231 and 2026-W53-4: not what the docs say
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        node.fail(f"expected a date as YYYY-MM-DD, not {len(text)} characters")


def _fingerprint(node: Node) -> str:
    text = node.string()
    if not _FINGERPRINT.fullmatch(text):
        # never echoed: a value pasted here by mistake may be the secret itself
        node.fail(f"expected a fingerprint as shown in findings (sha256: and 8 hex digits), not {len(text)} characters")
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
    """The settings given on the command line, validated like the file's. ``--var-store-glob`` patterns are
    anchored at the top of the work tree, where the git modes name files."""
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
    for text in var_stores or ():
        _glob(dataclasses.replace(flag, where=f"--var-store-glob {text[:80]}: "), text)
    return Config(
        severities=MappingProxyType(levels),
        fail_on=fail_on,
        expiry_days=expiry_days,
        var_stores=Globs(patterns=tuple(var_stores), root=TOP) if var_stores is not None else None,
        allow=tuple(allowances),
        manifests=tuple(manifests),
    )
