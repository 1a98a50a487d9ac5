"""The one glob dialect of creds-lint: gitignore patterns (git's wildmatch), as the ``pathspec`` library reads them.

Every pattern a run uses is one of these: ``var-stores:`` and ``--var-store-glob`` (which files are var-stores),
``allow[].file`` (which files an allowance covers), and the default var-store names, from which the pre-commit
hooks' ``files:`` regex is generated (:func:`hook_regex`). The rules are git's (docs/configuration.md#globs):

* ``*`` and ``?`` never cross a ``/``; ``**`` does (``envs/**/creds.yml``);
* a pattern without a ``/`` (or with one only at the end) matches a name in any folder: ``creds.yml``;
* any other is anchored at its :class:`Root` (a leading ``/`` only says so): the folder of the discovered
  configuration file that holds it, like a ``.gitignore``; the top of the work tree for a ``--config`` file and
  ``--var-store-glob``, like git's ``core.excludesFile``. ``envs/*.yml`` matches ``envs/a.yml``, never
  ``envs/a/creds.yml`` nor ``old/envs/a.yml``;
* a pattern that names a folder matches every file in it; ``!`` takes back what an earlier pattern matched, and
  the last pattern that matches a path decides.

A :class:`Globs` is compiled once, when first used, and matches a path in one pass over its patterns. ``pathspec``
is imported then, not before: a run that matches no glob (``creds-lint OLD NEW`` without a configuration) never
loads it.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from creds_lint.memo import cached
from creds_lint.origin import Origin

if TYPE_CHECKING:
    import pathspec


@dataclass(frozen=True, kw_only=True)
class Root:
    """Where a set of patterns is anchored. In the git modes, a folder of the work tree (``/``-separated, from its
    top; ``""`` is the top), in which the files of the run are named. For a configuration read from disk, an
    absolute folder (``disk``), with the top of its git work tree (``top``), where a ``REV:path`` version lives.
    """

    folder: str = ""
    disk: bool = False
    top: str = ""

    @classmethod
    def on_disk(cls, folder: str | Path, *, top: str | Path) -> Root:
        return cls(folder=os.path.realpath(folder), disk=True, top=os.path.realpath(top))

    def relative(self, origin: Origin) -> str:
        """The path of ``origin`` (as the run names it) from this folder, ``/``-separated; it starts with ``../``
        for a file outside the folder."""
        if not self.disk:
            return posixpath.relpath(posixpath.join("/", origin.path), posixpath.join("/", self.folder))
        base = self.top if origin.rev is not None else os.getcwd()
        return Path(os.path.relpath(os.path.realpath(os.path.join(base, origin.path)), self.folder)).as_posix()


TOP = Root()


@dataclass(frozen=True, kw_only=True)
class Globs:
    """Patterns in the order written, anchored at ``root``."""

    patterns: tuple[str, ...]
    root: Root = TOP

    @cached
    def _spec(self) -> pathspec.PathSpec[pathspec.Pattern]:
        """The patterns compiled (each was checked where it was read: :func:`problem`)."""
        return _compiled(self.patterns)

    def matches(self, origin: Origin) -> bool:
        """Whether the file at ``origin`` (as the run names it) is one these patterns name."""
        return self._spec.match_file(self.root.relative(origin))

    def matches_path(self, path: str) -> bool:
        """Whether ``path`` (as the run names it, no revision) is one these patterns name."""
        return self.matches(Origin(path=path))


def _compiled(patterns: tuple[str, ...]) -> pathspec.PathSpec[pathspec.Pattern]:
    import pathspec

    return pathspec.PathSpec.from_lines("gitignore", patterns)


def problem(pattern: str) -> str | None:
    """Why ``pattern`` is no glob creds-lint can use, or ``None``. Never quotes it."""
    if not pattern.strip():
        return "an empty glob matches nothing"
    if not pattern.strip("/"):
        return "a glob of slashes alone names no file"
    if pattern.startswith("#"):
        return "a glob that starts with # is a comment and matches nothing (write \\# for a name that starts with #)"
    try:
        _compiled((pattern,))
    except (ValueError, re.error):  # pathspec's GitIgnorePatternError is a ValueError
        return "not a valid glob (a lone !, a trailing backslash or a bad [range])"
    return None


def hook_regex(globs: Globs) -> str:
    """One regular expression that matches (with ``re.search``, as pre-commit's ``files:``) exactly the paths,
    from the top of the work tree, that ``globs`` (anchored at the top) match. Every ``!`` pattern must come
    after every other: the last pattern that matches decides, so a path is matched when some pattern matches it
    and no ``!`` pattern does. Written short: a prefix and a suffix all patterns share are said once, and a
    ``.yml`` pattern next to its ``.yaml`` twin is one ``.ya?ml`` (tests/test_hooks.py proves it equal to
    :meth:`Globs.matches`)."""
    compiled = globs._spec.patterns
    kinds = [p.include for p in compiled]
    if False in kinds and True in kinds[kinds.index(False) :]:
        raise ValueError("a ! pattern before another pattern: no single regular expression for pre-commit")
    included = _union([_body(p) for p in compiled if p.include])
    excluded = _union([_body(p) for p in compiled if p.include is False])
    return f"^(?!{excluded}){included}" if excluded else f"^{included}"


def _body(pattern: pathspec.Pattern) -> str:
    """A compiled pattern's regular expression, without its leading ``^`` (each is matched from the start)."""
    regex = getattr(pattern, "regex", None)
    assert isinstance(regex, re.Pattern)
    text = regex.pattern
    assert isinstance(text, str)
    return text.removeprefix("^")  # pathspec matches from the start: a pattern without ^ (``**``) means the same


#: What pathspec writes before a pattern that matches in any folder, and after every pattern (the path ends, or
#: a folder of that name holds it).
_ANY_FOLDER, _END = "(?:.+/)?", "(?:/|$)"
_YML, _YAML = "\\.yml" + _END, "\\.yaml" + _END


def _union(bodies: list[str]) -> str:
    """The alternation of ``bodies`` (each matched from the start), each ``X\\.yml`` next to its ``X\\.yaml`` as
    ``X\\.ya?ml``, and the prefix and suffix they all share said once."""
    if not bodies:
        return ""
    merged: list[str] = []
    for body in bodies:
        if merged and body.endswith(_YAML) and merged[-1] == body.removesuffix(_YAML) + _YML:
            merged[-1] = body.removesuffix(_YAML) + "\\.ya?ml" + _END
        else:
            merged.append(body)
    prefix = _ANY_FOLDER if all(b.startswith(_ANY_FOLDER) for b in merged) else ""
    suffix = _END if all(b.endswith(_END) for b in merged) else ""
    middles = [b.removeprefix(prefix).removesuffix(suffix) for b in merged]
    return f"{prefix}(?:{'|'.join(middles)}){suffix}"
