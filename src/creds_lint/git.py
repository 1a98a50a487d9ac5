"""Every use of git, in one place: plain ``git`` subprocesses with fixed argument lists, never a shell.

Git failures become one readable :class:`~creds_lint.errors.CredsLintError` (not a repository, unknown revision,
a file git does not know, a shallow clone that lacks the base). Nothing here quotes a blob's content.

Environment. A git hook (and pre-commit, which git runs as one) inherits variables that describe the repository
being committed to, and they must be kept: ``GIT_INDEX_FILE`` names the index the commit is made from
(``git commit -a`` and ``git commit PATH`` build a temporary one, ``.git/index.lock`` or ``next-index-*.lock``:
reading ``.git/index`` instead would check the wrong content), ``GIT_DIR`` names a linked worktree's repository.
Two things are adjusted: relative ``GIT_DIR``/``GIT_WORK_TREE``/``GIT_INDEX_FILE``/object directories are made
absolute (against the directory creds-lint started in, which is where git meant them), and ``GIT_WORK_TREE`` is
set to that directory when only ``GIT_DIR`` is (git's own rule for that case), so that running git from another
directory still means the same repository and work tree. ``GIT_OPTIONAL_LOCKS=0`` keeps creds-lint from touching
the index lock that a running ``git commit`` holds; ``GIT_LITERAL_PATHSPECS=1`` makes every path a plain path.
"""

from __future__ import annotations

import enum
import os
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from creds_lint.errors import CredsLintError

#: Variables holding a path that git resolves against its working directory.
_PATH_VARIABLES = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_COMMON_DIR",
)

#: Regular files (including executable ones) are var-stores; symlinks and submodules are not read.
_FILE_MODES = frozenset({"100644", "100755"})

_NULL_OID = frozenset({"0" * 40, "0" * 64})

SHALLOW_HINT = (
    "this is a shallow clone: fetch the missing history with `git fetch --deepen=100` (or `git fetch --unshallow`, "
    "or `fetch-depth: 0` for actions/checkout) and make sure the base branch itself was fetched"
)


def git_environment(environ: Mapping[str, str], cwd: str) -> dict[str, str]:
    """The environment every git call runs with (see the module docstring)."""
    env = dict(environ)
    for name in _PATH_VARIABLES:
        value = env.get(name)
        if value and not os.path.isabs(value):
            env[name] = os.path.join(cwd, value)
    if env.get("GIT_DIR") and not env.get("GIT_WORK_TREE"):
        env["GIT_WORK_TREE"] = cwd
    env["GIT_OPTIONAL_LOCKS"] = "0"
    env["GIT_LITERAL_PATHSPECS"] = "1"
    return env


class Status(enum.Enum):
    """How a file changed between two versions (``git diff --raw`` letters)."""

    ADDED = "A"
    MODIFIED = "M"
    DELETED = "D"
    RENAMED = "R"
    TYPE_CHANGED = "T"
    UNMERGED = "U"


class EntryKind(enum.Enum):
    """What git records at a path, by its mode. Only a regular file is read as a var-store: creds-lint never follows
    a symlink (what bosh reads through it is another file, with a history of its own)."""

    FILE = "a regular file"
    SYMLINK = "a symlink"
    SUBMODULE = "a submodule"
    DIRECTORY = "a directory"

    @classmethod
    def of(cls, mode: str) -> EntryKind | None:
        """The kind of a git mode (``100644``, ``120000``...); ``None`` for ``000000``: nothing at that path."""
        if mode in _FILE_MODES:
            return cls.FILE
        return {"120000": cls.SYMLINK, "160000": cls.SUBMODULE, "040000": cls.DIRECTORY}.get(mode)


@dataclass(frozen=True, kw_only=True)
class TreeEntry:
    """A path in a commit or the index: what it is, and its object id."""

    kind: EntryKind
    oid: str


@dataclass(frozen=True, kw_only=True)
class FileChange:
    """One changed path. ``old_path``/``old_oid`` are ``None`` for an added file, ``new_*`` for a deleted one.

    ``new_oid`` is ``None`` also when the new side is the work tree (read the file from disk then). Paths are
    relative to the top of the work tree, with ``/`` separators. ``old_kind``/``new_kind`` say what each side is
    (``None``: nothing there); a type change (``T``) turns a regular file into a symlink or back, for example.
    """

    status: Status
    path: str
    old_path: str | None
    old_oid: str | None
    new_oid: str | None
    old_kind: EntryKind | None = EntryKind.FILE
    new_kind: EntryKind | None = EntryKind.FILE


#: A full object id, SHA-1 or SHA-256.
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclass(frozen=True, kw_only=True)
class Repo:
    """A git work tree. Build it with :meth:`discover`; blobs are read once and kept for the run."""

    root: Path
    env: Mapping[str, str]
    _blobs: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    # --- finding the repository -----------------------------------------------------------------------------

    @classmethod
    def discover(cls, start: str | Path | None = None) -> Repo:
        """The work tree that contains ``start`` (a file or directory; default: the current directory).

        With ``GIT_DIR`` set (inside a git hook), that repository is used whatever ``start`` is: it is the one git
        is committing to.
        """
        cwd = os.getcwd()
        env = git_environment(os.environ, cwd)
        where = Path(cwd) if start is None or env.get("GIT_DIR") else _existing_directory(Path(start))
        result = _run(["rev-parse", "--show-toplevel"], cwd=where, env=env)
        if result.returncode != 0:
            raise CredsLintError(
                "not inside a git work tree (to compare two files, give both: creds-lint OLD NEW)",
                source=None if start is None else str(start),
            )
        root = os.fsdecode(result.stdout).rstrip("\n")
        return cls(root=Path(root), env=env)

    def relative(self, path: str | Path) -> str:
        """``path`` (absolute, or relative to the current directory) relative to the top of the work tree.

        Only the folders are resolved (a symlinked folder, or the work tree reached through one), never the file
        itself: a var-store that is a symlink names its own path in git, not the file it points to.
        """
        absolute = _resolve_parent(path)
        top = os.path.realpath(self.root)
        relative = os.path.relpath(absolute, top)
        if relative == os.curdir:
            raise CredsLintError("is the top of the git work tree, not a var-store file", source=str(path))
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            raise CredsLintError(f"outside the git work tree {self.root}", source=str(path))
        return Path(relative).as_posix()

    # --- revisions --------------------------------------------------------------------------------------------

    def is_shallow(self) -> bool:
        return self._output(["rev-parse", "--is-shallow-repository"]).strip() == "true"

    def resolve(self, rev: str) -> str:
        """The commit id ``rev`` names, or an error saying it is unknown (and how to fetch it when shallow)."""
        if rev.startswith("-"):
            raise CredsLintError(f"unknown revision '{rev}'")
        if self.is_empty_tree(rev):
            return rev
        result = self._git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"])
        if result.returncode != 0:
            hints = [self._fetch_hint(rev), SHALLOW_HINT if self.is_shallow() else None]
            hint = "; ".join(h for h in hints if h)
            raise CredsLintError(f"unknown revision '{rev}'" + (f" ({hint})" if hint else ""))
        return os.fsdecode(result.stdout).strip()

    def _fetch_hint(self, rev: str) -> str | None:
        """How to fetch ``rev`` when it names a branch of a remote (``origin/main``) that was not fetched, as in a
        clone of one branch (what CI checkouts make)."""
        for remote in self._output(["remote"]).split():
            if rev.startswith(f"{remote}/") and len(rev) > len(remote) + 1:
                branch = rev[len(remote) + 1 :]
                return f"fetch it with `git fetch {remote} {branch}:refs/remotes/{remote}/{branch}`"
        return None

    def is_empty_tree(self, rev: str) -> bool:
        """Whether ``rev`` is the id of git's empty tree (in this repository's hash). It stands for "nothing
        before": as ``--base``, every var-store of the head is new and audited alone (a push without a previous
        commit: a root commit, a new branch)."""
        return (
            _OBJECT_ID.fullmatch(rev) is not None
            and rev == self._output(["hash-object", "-t", "tree", os.devnull]).strip()
        )

    def has_head(self) -> bool:
        return self._git(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]).returncode == 0

    def merge_base(self, base: str, head: str, *, base_name: str) -> str:
        """Where ``head`` forked from ``base`` (commit ids): what a pull request's changes are compared with."""
        result = self._git(["merge-base", base, head])
        if result.returncode != 0:
            if self.is_shallow():
                raise CredsLintError(f"cannot find where the changes forked from '{base_name}' ({SHALLOW_HINT})")
            raise CredsLintError(f"'{base_name}' and the head have no common history")
        return os.fsdecode(result.stdout).strip()

    # --- files ------------------------------------------------------------------------------------------------

    def entry_at(self, rev: str, path: str) -> TreeEntry | None:
        """What ``path`` (relative to the top) is in commit ``rev``; ``None`` if the commit does not have it."""
        return self.entries_at(rev, [path]).get(path)

    def entries_at(self, rev: str, paths: Sequence[str]) -> dict[str, TreeEntry]:
        """What each of ``paths`` (relative to the top) is in commit ``rev``, for those the commit has: one git
        call for them all."""
        if not paths:
            return {}
        out = self._output(["ls-tree", "-z", "--full-tree", rev, "--", *paths])
        wanted = frozenset(paths)
        return {
            name: TreeEntry(kind=kind, oid=oid)
            for mode, _type, oid, name in _ls_tree(out)
            if name in wanted and (kind := EntryKind.of(mode)) is not None
        }

    def blob_at(self, rev: str, path: str) -> str | None:
        """The blob id of ``path`` (relative to the top) in commit ``rev``; ``None`` if not a regular file there."""
        entry = self.entry_at(rev, path)
        return entry.oid if entry is not None and entry.kind is EntryKind.FILE else None

    def staged_entry(self, path: str) -> TreeEntry | None:
        """What ``path`` is in the index (stage 0), ``None`` if the index does not have it."""
        return self.staged_entries([path]).get(path)

    def staged_entries(self, paths: Sequence[str]) -> dict[str, TreeEntry]:
        """What each of ``paths`` is in the index (stage 0), for those the index has: one git call for them all."""
        if not paths:
            return {}
        out = self._output(["ls-files", "-z", "--stage", "--full-name", "--", *paths])
        wanted = frozenset(paths)
        entries = {}
        for record in _split(out):
            info, _, name = record.partition("\t")
            mode, oid, stage = info.split(" ")
            kind = EntryKind.of(mode)
            if name in wanted and stage == "0" and kind is not None:
                entries[name] = TreeEntry(kind=kind, oid=oid)
        return entries

    def files_named(self, names: frozenset[str], *, rev: str | None = None) -> dict[str, TreeEntry]:
        """Every path whose file name is one of ``names``, in commit ``rev`` or (``None``) in the index: one git
        call for the whole tree."""
        found: dict[str, TreeEntry] = {}
        if rev is None:
            for record in _split(self._output(["ls-files", "-z", "--stage", "--full-name"])):
                info, _, name = record.partition("\t")
                mode, oid, stage = info.split(" ")
                kind = EntryKind.of(mode)
                if stage == "0" and kind is not None and name.rpartition("/")[2] in names:
                    found[name] = TreeEntry(kind=kind, oid=oid)
            return found
        for mode, _type, oid, name in _ls_tree(self._output(["ls-tree", "-r", "-z", "--full-tree", rev])):
            kind = EntryKind.of(mode)
            if kind is not None and name.rpartition("/")[2] in names:
                found[name] = TreeEntry(kind=kind, oid=oid)
        return found

    def staged_changes(self) -> list[FileChange]:
        """What the next commit changes: the index against ``HEAD`` (against nothing before the first commit)."""
        return self._diff(["--cached", *(["HEAD"] if self.has_head() else [])])

    def changes_between(self, old: str, new: str) -> list[FileChange]:
        """What changed from commit ``old`` to commit ``new``, renames detected."""
        return self._diff([old, new])

    def read_blob(self, oid: str, *, label: str) -> bytes:
        """The content of a blob, read from git once per run."""
        data = self._blobs.get(oid)
        if data is None:
            result = self._git(["cat-file", "blob", oid])
            if result.returncode != 0:
                raise CredsLintError(f"git cannot read this version ({_first_line(result.stderr)})", source=label)
            data = self._blobs[oid] = result.stdout
        return data

    def prefetch(self, oids: Sequence[str]) -> None:
        """Read many blobs with one git call (``cat-file --batch``) into the run's cache, so that reading each of
        them later costs no process. An object git cannot read is left out: :meth:`read_blob` then says why."""
        wanted = list(dict.fromkeys(oid for oid in oids if oid not in self._blobs))
        if not wanted:
            return
        try:
            result = subprocess.run(
                ["git", "cat-file", "--batch"],
                cwd=self.root,
                env=self.env,
                input="".join(f"{oid}\n" for oid in wanted).encode(),
                capture_output=True,
                check=False,
            )
        except OSError:
            return
        out, at = result.stdout, 0
        for oid in wanted:
            end = out.find(b"\n", at)
            if end < 0:
                return
            header = out[at:end].split(b" ")
            at = end + 1
            if len(header) != 3:  # "<oid> missing"
                continue
            size = int(header[2])
            if header[1] == b"blob":
                self._blobs[oid] = out[at : at + size]
            at += size + 1

    def read_filtered(self, oid: str, *, path: str, label: str) -> bytes:
        """A blob as git would write it to ``path`` in the work tree: through the filters (``smudge``) that the
        user's git configuration defines for the attributes ``.gitattributes`` gives ``path``. Read once per run."""
        key = f"{oid}\0{path}"
        data = self._blobs.get(key)
        if data is None:
            result = self._git(["cat-file", "--filters", f"--path={path}", oid])
            if result.returncode != 0:
                raise CredsLintError(
                    f"git cannot read this version through its filters ({_first_line(result.stderr)})", source=label
                )
            data = self._blobs[key] = result.stdout
        return data

    # --- plumbing ---------------------------------------------------------------------------------------------

    def _diff(self, args: Sequence[str]) -> list[FileChange]:
        out = self._output(
            [
                "diff",
                "--raw",
                "-z",
                "-M",  # renames, and never copies (whatever diff.renames says)
                "--no-relative",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                "--no-abbrev",
                *args,
            ]
        )
        return list(_parse_raw(out))

    def _git(self, args: Sequence[str]) -> subprocess.CompletedProcess[bytes]:
        return _run(args, cwd=self.root, env=self.env)

    def _output(self, args: Sequence[str]) -> str:
        result = self._git(args)
        if result.returncode != 0:
            raise CredsLintError(f"git {args[0]} failed: {_first_line(result.stderr)}")
        return os.fsdecode(result.stdout)


def _run(args: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(
            ["git", *args], cwd=cwd, env=env, capture_output=True, stdin=subprocess.DEVNULL, check=False
        )
    except FileNotFoundError:
        raise CredsLintError("git is not installed (or not on PATH)") from None
    except OSError as exc:
        raise CredsLintError(f"cannot run git ({exc.strerror or type(exc).__name__})") from None


def _resolve_parent(path: str | Path) -> str:
    """The absolute path of ``path`` with its folders resolved (symlinks, ``..``) but not its last component."""
    absolute = os.path.join(os.getcwd(), path)  # not normalised: `..` after a symlinked folder is the link's
    head, tail = os.path.split(absolute)
    if tail in ("", os.curdir, os.pardir):
        return os.path.realpath(absolute)
    return os.path.join(os.path.realpath(head), tail)


def _existing_directory(path: Path) -> Path:
    """The directory to look for a repository from: the file's directory, or its nearest existing parent."""
    candidate = path if path.is_dir() else path.parent
    candidate = Path(os.path.abspath(candidate))
    while not candidate.is_dir() and candidate != candidate.parent:
        candidate = candidate.parent
    return candidate


def _first_line(stderr: bytes) -> str:
    lines = [line.strip() for line in os.fsdecode(stderr).splitlines() if line.strip()]
    return lines[0] if lines else "no message"


def _split(out: str) -> list[str]:
    return [record for record in out.split("\0") if record]


def _ls_tree(out: str) -> Iterator[tuple[str, str, str, str]]:
    for record in _split(out):
        info, _, name = record.partition("\t")
        mode, kind, oid = info.split(" ")
        yield mode, kind, oid, name


def _parse_raw(out: str) -> Iterator[FileChange]:
    """Parse ``git diff --raw -z``: ``:oldmode newmode oldoid newoid STATUS\\0path\\0[newpath\\0]``."""
    fields = out.split("\0")
    i = 0
    while i < len(fields) and fields[i]:
        old_mode, new_mode, old_oid, new_oid, letters = fields[i].lstrip(":").split(" ")
        status = Status(letters[0])
        if status is Status.RENAMED:
            old_path, path = fields[i + 1], fields[i + 2]
            i += 3
        else:
            old_path = path = fields[i + 1]
            i += 2
        yield FileChange(
            status=status,
            path=path,
            old_path=None if status is Status.ADDED else old_path,
            old_oid=None if status is Status.ADDED else old_oid,
            new_oid=None if status is Status.DELETED or new_oid in _NULL_OID else new_oid,
            old_kind=None if status is Status.ADDED else EntryKind.of(old_mode),
            new_kind=None if status is Status.DELETED else EntryKind.of(new_mode),
        )
