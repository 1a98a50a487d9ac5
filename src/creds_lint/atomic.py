"""Write a var-store safely: ``write(path, before=..., after=...) -> Written``.

Every command that changes a var-store writes through :func:`write`:

1. the file must still hold exactly ``before`` (the bytes the command read and planned from): if anything changed
   it on disk meanwhile (bosh, an editor, another run), nothing is written;
2. ``after`` must read as a var-store (creds-lint's loader);
3. a backup of ``before`` is made next to the file (``NAME.YYYYmmddTHHMMSSZ.bak``, never overwriting one), with the
   file's mode;
4. ``after`` goes to a temporary file in the same directory, with the file's mode and owner, is fsynced, the file
   is checked once more, and the temporary file is renamed over it; then the directory is fsynced. A crash at any
   point leaves the old file or the new one, never a mix.

:class:`Written` names the backup and carries warnings (a file readable by group or others). Every failure is a
:class:`~creds_lint.errors.CredsLintError` and leaves the file as it was.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from creds_lint import loader
from creds_lint.errors import CredsLintError


@dataclass(frozen=True, kw_only=True, slots=True)
class Written:
    """A var-store written: where, its kept mode, the backup of the old version, and warnings for the user."""

    path: Path
    mode: int
    backup: Path
    warnings: tuple[str, ...] = ()


def check_unchanged(path: Path, before: bytes) -> os.stat_result:
    """The file's status, after making sure it is a regular file that still holds ``before``."""
    source = str(path)
    try:
        status = path.lstat()
    except FileNotFoundError:
        raise CredsLintError("was deleted since it was read; nothing written", source=source) from None
    except OSError as exc:
        raise CredsLintError(f"cannot be read ({exc.strerror}); nothing written", source=source) from None
    if not stat.S_ISREG(status.st_mode):
        raise CredsLintError("is not a regular file (a symlink?); nothing written", source=source)
    if loader.read_file(path) != before:
        raise CredsLintError(
            "changed on disk since it was read (bosh or an editor?); nothing written: run the command again",
            source=source,
        )
    return status


def write(path: str | Path, *, before: bytes, after: bytes) -> Written:
    """Replace the var-store at ``path``, which must still hold ``before``, with ``after`` (see the module
    docstring)."""
    target = Path(path)
    source = str(target)
    loader.parse_store(after, source=source)
    status = check_unchanged(target, before)
    mode = stat.S_IMODE(status.st_mode)
    directory = target.parent
    backup = _backup(target, before, status)
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise CredsLintError(
            f"cannot create a temporary file next to it ({exc.strerror}); nothing written", source=source
        ) from None
    try:
        with os.fdopen(handle, "wb") as out:
            _keep_owner(out.fileno(), status, source)
            os.fchmod(out.fileno(), mode)
            out.write(after)
            out.flush()
            os.fsync(out.fileno())
        check_unchanged(target, before)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)
    warnings = []
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        warnings.append(f"{source} is readable by {_who(mode)} (mode {mode:04o}): it holds secrets; consider chmod 600")
    return Written(path=target, mode=mode, backup=backup, warnings=tuple(warnings))


def _who(mode: int) -> str:
    group, others = bool(mode & stat.S_IRGRP), bool(mode & stat.S_IROTH)
    return "its group and others" if group and others else ("its group" if group else "others")


def _backup(target: Path, before: bytes, status: os.stat_result) -> Path:
    """A new file next to ``target`` holding ``before``, with its mode and owner; never overwrites a file."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    for attempt in range(100):
        suffix = "" if attempt == 0 else f"-{attempt}"
        backup = target.with_name(f"{target.name}.{stamp}{suffix}.bak")
        try:
            handle = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        except OSError as exc:
            raise CredsLintError(
                f"cannot write a backup next to it ({exc.strerror}); nothing written", source=str(target)
            ) from None
        try:
            with os.fdopen(handle, "wb") as out:
                _keep_owner(out.fileno(), status, str(target))
                os.fchmod(out.fileno(), stat.S_IMODE(status.st_mode))
                out.write(before)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(backup)
            raise
        return backup
    raise CredsLintError("cannot find a free name for the backup; nothing written", source=str(target))


def _keep_owner(handle: int, status: os.stat_result, source: str) -> None:
    """Give a new file the owner and group of the one it replaces (a no-op when they are already ours)."""
    if os.fstat(handle).st_uid == status.st_uid and os.fstat(handle).st_gid == status.st_gid:
        return
    try:
        os.fchown(handle, status.st_uid, status.st_gid)
    except PermissionError:
        raise CredsLintError(
            "is owned by another user or group, which a rewritten file could not keep; nothing written", source=source
        ) from None


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot fsync a directory; the rename is done
        handle = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
