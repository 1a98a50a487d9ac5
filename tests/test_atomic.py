"""The safe write (creds_lint.atomic): the old file or the new one, never a mix; mode, owner and a backup kept;
nothing written when the file changed meanwhile or the new text is not a var-store."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from creds_lint import atomic
from creds_lint.errors import CredsLintError

BEFORE = b"a: old-secret-value\nb: 1\n"
AFTER = b"a: new-secret-value\nb: 1\n"


def _store(tmp_path: Path, mode: int = 0o600) -> Path:
    path = tmp_path / "creds.yml"
    path.write_bytes(BEFORE)
    path.chmod(mode)
    return path


def test_the_new_file_keeps_the_mode_and_a_backup_holds_the_old_one(tmp_path: Path) -> None:
    path = _store(tmp_path, 0o640)
    written = atomic.write(path, before=BEFORE, after=AFTER)
    assert path.read_bytes() == AFTER
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert written.backup.parent == tmp_path
    assert written.backup.read_bytes() == BEFORE
    assert stat.S_IMODE(written.backup.stat().st_mode) == 0o640
    assert written.warnings == (f"{path} is readable by its group (mode 0640): it holds secrets; consider chmod 600",)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["creds.yml", written.backup.name])
    again = atomic.write(path, before=AFTER, after=BEFORE)  # a second backup never overwrites the first
    assert again.backup != written.backup
    assert written.backup.read_bytes() == BEFORE


def test_a_private_file_gets_no_warning(tmp_path: Path) -> None:
    assert atomic.write(_store(tmp_path), before=BEFORE, after=AFTER).warnings == ()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another owner needs root")
def test_the_owner_is_kept(tmp_path: Path) -> None:
    path = _store(tmp_path)
    os.chown(path, 4321, 4321)
    atomic.write(path, before=BEFORE, after=AFTER)
    assert (path.stat().st_uid, path.stat().st_gid) == (4321, 4321)


def test_a_file_changed_on_disk_since_it_was_read_is_not_written(tmp_path: Path) -> None:
    path = _store(tmp_path)
    path.write_bytes(BEFORE + b"c: 2\n")  # bosh or an editor wrote meanwhile
    with pytest.raises(CredsLintError, match="changed on disk since it was read"):
        atomic.write(path, before=BEFORE, after=AFTER)
    assert path.read_bytes() == BEFORE + b"c: 2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["creds.yml"]


def test_text_that_is_not_a_var_store_is_not_written(tmp_path: Path) -> None:
    path = _store(tmp_path)
    with pytest.raises(CredsLintError):
        atomic.write(path, before=BEFORE, after=b"a: [unclosed\n")
    assert path.read_bytes() == BEFORE
    assert [p.name for p in tmp_path.iterdir()] == ["creds.yml"]


_KILLED = """
import os, signal, sys
from creds_lint import atomic
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
setattr({target}, {name!r}, die)
atomic.write(sys.argv[1], before={before!r}, after={after!r})
"""


@pytest.mark.parametrize(
    ("target", "name", "expected"),
    [
        ("os", "replace", BEFORE),  # killed before the rename: the old file, whole
        ("atomic", "_fsync_directory", AFTER),  # killed after it: the new file, whole
    ],
)
def test_a_kill_during_the_write_leaves_the_old_file_or_the_new_one(
    tmp_path: Path, target: str, name: str, expected: bytes
) -> None:
    path = _store(tmp_path)
    code = _KILLED.format(target=target, name=name, before=BEFORE, after=AFTER)
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, check=False)
    assert result.returncode == -signal.SIGKILL
    assert path.read_bytes() == expected
    backups = [p for p in tmp_path.iterdir() if p.name.endswith(".bak")]
    assert [p.read_bytes() for p in backups] == [BEFORE]
