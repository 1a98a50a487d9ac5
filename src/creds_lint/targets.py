"""Which var-stores to check, and which two versions of each, for every way creds-lint runs in a git repository.

* pre-flight: a file on disk against its version in a commit (``creds-lint creds.yml``, ``--rev``);
* staged: the index against ``HEAD`` (``--staged``), which is what the next commit changes;
* range: a head commit against where it forked from a base (``--base``/``--head``), which is what a pull request
  changes;
* hook: what pre-commit asks for (``--hook``): the files it passes, staged, plus every staged var-store by the globs
  (pre-commit passes no deleted file, no symlink, and only the names its ``files:`` pattern matches); a range when
  pre-commit runs with ``--from-ref``/``--to-ref`` (or as a pre-push hook).

Without explicit paths, a changed file is a var-store when its path matches one of the var-store globs.
Reports name the new version of a file by its path relative to the top of the work tree (as given on the command
line for a pre-flight) and the old one ``REV:path``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from creds_lint import encrypted
from creds_lint.errors import CredsLintError
from creds_lint.git import EntryKind, FileChange, Repo, Status
from creds_lint.globs import Globs
from creds_lint.loader import looks_like_var_store
from creds_lint.origin import Origin
from creds_lint.sources import Removal, Source, Target

#: How bosh-deployment users name var-stores: `--vars-store creds.yml` in the docs, `<env>-creds.yml` or
#: `creds-<env>.yml` (`prod.creds.yml`) for several environments, `credentials.yml` likewise, bbl's
#: `vars/director-vars-store.yml`, and `*vars*.yml` kept in a `state/` or `secrets/` folder, in any folder
#: (:mod:`creds_lint.globs`: a pattern without ``/`` matches a name anywhere, ``*`` never crosses ``/``). A
#: var-store named otherwise is still found by its content (:func:`creds_lint.loader.looks_like_var_store`).
_VAR_STORE_NAMES = (
    *(
        form.format(word)
        for word in ("creds", "credentials")
        for form in ("{}", "*-{}", "*_{}", "*.{}", "{}-*", "{}_*")
    ),
    "*vars-store*",
    "*vars_store*",
    "**/state/*vars*",
    "**/secrets/*vars*",
)
_EXTENSIONS = (".yml", ".yaml")
#: The default var-store globs (the pre-commit hooks' ``files:`` regex is generated from them: docs/git.md), less
#: creds-lint's own configuration, which ``creds-*.yml`` would name.
DEFAULT_VAR_STORE_GLOBS = Globs(
    patterns=(
        *(pattern + extension for pattern in _VAR_STORE_NAMES for extension in _EXTENSIONS),
        *(f"!creds{sep}lint{extension}" for sep in "-_" for extension in _EXTENSIONS),
    )
)


#: The var-store globs that apply to a path (``/``-separated, from the top of the work tree): those of the
#: configuration found from its directory.
GlobsFor = Callable[[str], Globs]


def default_globs(path: str) -> Globs:
    return DEFAULT_VAR_STORE_GLOBS


def is_var_store(path: str, globs: Globs = DEFAULT_VAR_STORE_GLOBS) -> bool:
    """Whether ``path`` (``/``-separated, from the top of the work tree) names a var-store by ``globs``."""
    return globs.matches_path(path)


# --- the modes ------------------------------------------------------------------------------------------------


def preflight_targets(paths: Sequence[str], *, rev: str = "HEAD") -> list[Target]:
    """Each file on disk against its version in ``rev``. A file git does not know there cannot be checked, nor one
    that is a symlink there; a file git knows that is gone from the disk, or that became a symlink, is removed."""
    targets = []
    for path in paths:
        repo = Repo.discover(path)
        relative = repo.relative(path)
        commit = repo.resolve(rev)
        entry = repo.entry_at(commit, relative)
        on_disk = _on_disk(path)
        if entry is None:
            message = (
                _not_a_file(EntryKind.SYMLINK, "")
                if on_disk is EntryKind.SYMLINK
                else f"git does not know this file at {rev} (commit it first, or compare two files: creds-lint OLD NEW)"
            )
            targets.append(Target(new=_unreadable(path, message)))
        elif entry.kind is not EntryKind.FILE:
            targets.append(Target(new=_unreadable(path, _not_a_file(entry.kind, f" at {rev}"))))
        elif on_disk is EntryKind.FILE:
            targets.append(Target(new=Source.file(path), old=_blob(repo, entry.oid, relative, rev=rev)))
        else:
            old = _blob(repo, entry.oid, relative, rev=rev)
            targets.append(Target(new=None, old=old, name=path, removal=_REMOVALS[on_disk]))
    return targets


def staged_targets(
    paths: Sequence[str] | None, *, globs: GlobsFor = default_globs, all_stores: bool = False
) -> list[Target]:
    """The index against ``HEAD`` for ``paths`` (every staged var-store when ``None``).

    ``all_stores`` adds every staged var-store (by ``globs``) to ``paths``, each checked once.
    """
    repo = Repo.discover()
    head = "HEAD" if repo.has_head() else None
    changes = repo.staged_changes()
    relatives = None if paths is None else [repo.relative(p) for p in paths]
    targets = _select(repo, changes, relatives, globs, all_stores=all_stores, old_rev="HEAD")
    for path in _unchanged(changes, relatives):
        entry = repo.staged_entry(path)
        if entry is None:
            targets.append(Target(new=_unreadable(path, "not known to git (not in the index)")))
        elif entry.kind is not EntryKind.FILE:
            targets.append(Target(new=_unreadable(path, _not_a_file(entry.kind, " in the index"))))
        else:
            old_oid = repo.blob_at(head, path) if head is not None else None
            old = _blob(repo, old_oid, path, rev="HEAD") if old_oid is not None else None
            targets.append(Target(new=_blob(repo, entry.oid, path), old=old))
    return targets


def range_targets(
    base: str,
    head: str | None,
    paths: Sequence[str] | None,
    *,
    globs: GlobsFor = default_globs,
    all_stores: bool = False,
) -> list[Target]:
    """``head`` (default ``HEAD``) against where it forked from ``base``, as a pull request is reviewed."""
    repo = Repo.discover()
    head_commit = repo.resolve(head or "HEAD")
    if repo.is_empty_tree(base):
        fork = old_rev = base  # nothing before: the head's var-stores are audited alone
    else:
        base_commit = repo.resolve(base)
        fork = repo.merge_base(base_commit, head_commit, base_name=base)
        old_rev = base if fork == base_commit else fork[:12]
    changes = repo.changes_between(fork, head_commit)
    relatives = None if paths is None else [repo.relative(p) for p in paths]
    targets = _select(repo, changes, relatives, globs, all_stores=all_stores, old_rev=old_rev)
    for path in _unchanged(changes, relatives):
        entry = repo.entry_at(head_commit, path)
        if entry is None:
            targets.append(Target(new=_unreadable(path, f"not known to git at {head or 'HEAD'}")))
        elif entry.kind is not EntryKind.FILE:
            targets.append(Target(new=_unreadable(path, _not_a_file(entry.kind, f" at {head or 'HEAD'}"))))
        else:
            targets.append(Target(new=_blob(repo, entry.oid, path), old=_blob(repo, entry.oid, path, rev=old_rev)))
    return targets


def hook_targets(
    paths: Sequence[str], *, globs: GlobsFor = default_globs, environ: Mapping[str, str] = os.environ
) -> list[Target]:
    """What the pre-commit hook checks: ``paths`` as pre-commit passes them, and every staged var-store by ``globs``.

    pre-commit passes only the names its ``files:`` pattern matches (the default var-store names, whatever
    ``var-stores:`` says), never a deleted file and never a symlink: the globs find what it leaves out.
    pre-commit sets ``PRE_COMMIT_FROM_REF``/``PRE_COMMIT_TO_REF`` for ``run --from-ref/--to-ref`` and pre-push:
    then the range between them is checked, not the index (which has nothing to do with those commits).
    """
    refs = hook_range(environ)
    if refs is not None:
        return range_targets(*refs, paths, globs=globs, all_stores=True)
    return staged_targets(paths, globs=globs, all_stores=True)


def hook_range(environ: Mapping[str, str] = os.environ) -> tuple[str, str] | None:
    """The range pre-commit asks the hook to check (``run --from-ref A --to-ref B``, pre-push), or ``None``: the
    index."""
    from_ref, to_ref = environ.get("PRE_COMMIT_FROM_REF"), environ.get("PRE_COMMIT_TO_REF")
    return (from_ref, to_ref) if from_ref and to_ref else None


# --- helpers --------------------------------------------------------------------------------------------------


def _select(
    repo: Repo,
    changes: Iterable[FileChange],
    relatives: Sequence[str] | None,
    globs: GlobsFor,
    *,
    all_stores: bool,
    old_rev: str,
) -> list[Target]:
    """The targets of the changes to check: those of the given paths, or those of var-stores (by ``globs``, or by
    their content when no glob names them); with ``all_stores``, both."""
    wanted = None if relatives is None else frozenset(relatives)
    considered = [
        (change, named)
        for change in changes
        if (named := wanted is not None and (change.path in wanted or change.old_path in wanted))
        or wanted is None
        or all_stores
    ]
    repo.prefetch([oid for change, _ in considered for _, oid in _yaml_versions(change)])  # one git call
    targets: list[Target] = []
    for change, named in considered:
        targets.extend(_targets_of(repo, change, wanted or frozenset(), globs, old_rev=old_rev, named=named))
    return targets


def _targets_of(
    repo: Repo, change: FileChange, wanted: frozenset[str], globs: GlobsFor, *, old_rev: str, named: bool
) -> list[Target]:
    """What one change gives to check, as one verdict whether or not its paths were named.

    A var-store renamed or moved (to any name, a var-store's too) is ``removed-file`` at its old path: bosh reads a
    var-store by its ``--vars-store`` path, which no longer has it. Its new path, when it is a var-store's (or
    named), is compared with the old version too, so that what changed on the way is reported as well. A changed
    YAML file whose content reads as a var-store is checked even when no glob names it (``by_content``)."""
    old_store = change.old_path is not None and (
        change.old_path in wanted or is_var_store(change.old_path, globs(change.old_path))
    )
    new_store = change.status is not Status.DELETED and (
        change.path in wanted or is_var_store(change.path, globs(change.path))
    )
    by_content = False
    if not (old_store or new_store or named):
        by_content = _shaped(repo, change)
        if not by_content:
            return []
        old_store = change.old_path is not None
        new_store = change.status is not Status.DELETED
    if change.status is not Status.RENAMED or not old_store:
        return [replace(_target(repo, change, old_rev=old_rev), by_content=by_content)]
    assert change.old_path is not None
    moved = replace(change, status=Status.DELETED, path=change.old_path, new_oid=None, new_kind=None)
    targets = [replace(_target(repo, moved, old_rev=old_rev), removal=Removal.MOVED, by_content=by_content)]
    if new_store:
        targets.append(replace(_target(repo, change, old_rev=old_rev), by_content=by_content))
    return targets


#: The names a YAML file has; only those are read to see whether their content is a var-store's.
_YAML = (".yml", ".yaml")


def _shaped(repo: Repo, change: FileChange) -> bool:
    """Whether a change that no glob names is of a YAML file that reads as a var-store (either version: a deleted
    or renamed one counts by its old content; git-crypt ciphertext by its plaintext, through git's filters)."""
    return any(
        looks_like_var_store(encrypted.read_blob(repo, oid, path=path, label=path))
        for path, oid in _yaml_versions(change)
    )


def _yaml_versions(change: FileChange) -> list[tuple[str, str]]:
    """(path, blob id) of each version of a change that is a regular YAML file in git."""
    versions = (
        (change.path, change.new_oid, change.new_kind),
        (change.old_path, change.old_oid, change.old_kind),
    )
    return [
        (path, oid)
        for path, oid, kind in versions
        if path is not None and oid is not None and kind is EntryKind.FILE and path.lower().endswith(_YAML)
    ]


def _unchanged(changes: Sequence[FileChange], relatives: Sequence[str] | None) -> list[str]:
    """The given paths that no change covers, in the order given, each once."""
    if relatives is None:
        return []
    covered = {c.path for c in changes} | {c.old_path for c in changes if c.old_path is not None}
    return list(dict.fromkeys(p for p in relatives if p not in covered))


#: What ``removed-file`` says a var-store became, by what git (or the disk) has at its path now.
_REMOVALS = {
    None: Removal.DELETED,
    EntryKind.SYMLINK: Removal.SYMLINK,
    EntryKind.SUBMODULE: Removal.SUBMODULE,
    EntryKind.DIRECTORY: Removal.DIRECTORY,
}


def _target(repo: Repo, change: FileChange, *, old_rev: str) -> Target:
    if change.status is Status.UNMERGED:
        return Target(new=_unreadable(change.path, "unmerged: resolve the merge conflict and stage the file"))
    old = None
    if change.old_oid is not None and change.old_path is not None and change.old_kind is EntryKind.FILE:
        old = _blob(repo, change.old_oid, change.old_path, rev=old_rev)
    if change.new_kind is EntryKind.FILE:
        assert change.new_oid is not None  # both sides are in git: the index or a commit
        return Target(new=_blob(repo, change.new_oid, change.path), old=old)
    if old is not None:  # a regular file deleted, or replaced by a symlink or a submodule
        return Target(new=None, old=old, name=change.path, removal=_REMOVALS[change.new_kind])
    # Neither side is a regular file: a symlink added, changed or deleted where a var-store is expected.
    if change.new_kind is None:
        gone = (change.old_kind or EntryKind.SYMLINK).value
        message = f"{gone} was deleted here: creds-lint cannot tell what it held (check the file it pointed to)"
        return Target(new=_unreadable(change.path, message))
    return Target(new=_unreadable(change.path, _not_a_file(change.new_kind, "")))


def _on_disk(path: str) -> EntryKind | None:
    """What ``path`` is on disk, ``None`` when nothing is there (a symlink is one, wherever it points)."""
    if os.path.islink(path):
        return EntryKind.SYMLINK
    if os.path.isdir(path):
        return EntryKind.DIRECTORY
    return EntryKind.FILE if os.path.lexists(path) else None


def _not_a_file(kind: EntryKind, where: str) -> str:
    """Why a path that is not a regular file cannot be checked as a var-store."""
    hint = " (creds-lint does not follow symlinks: check the file it points to)" if kind is EntryKind.SYMLINK else ""
    return f"is {kind.value}{where}, not a regular file{hint}"


def _blob(repo: Repo, oid: str, path: str, *, rev: str | None = None) -> Source:
    """The blob ``oid``, which is ``path`` at ``rev`` (``None``: in the index); read through git's filters when it
    is ciphertext (git-crypt, transcrypt)."""
    origin = Origin(path=path, rev=rev)
    return Source(origin=origin, read=lambda: encrypted.read_blob(repo, oid, path=path, label=str(origin)))


def _unreadable(path: str, message: str) -> Source:
    def read() -> bytes:
        raise CredsLintError(message, source=path)

    return Source(origin=Origin(path=path), read=read)
