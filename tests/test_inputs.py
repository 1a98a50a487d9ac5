from __future__ import annotations

# The user's files are read once and never written: every command leaves their bytes, mode and modification
# time as they were, each version of a var-store is read exactly once per run, and read-only files in a
# read-only directory are checked like any other.
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import RunCli
from creds_lint import loader, plan, sources
from creds_lint.engine import Options, check
from creds_lint.origin import Origin
from creds_lint.sources import Source, Target
from factory import bosh_store, dump_store, incident

OLD = dump_store(bosh_store()).encode()
NEW = dump_store(incident(bosh_store())).encode()


class CountingSource:
    """A real source of bytes that counts how often it is read."""

    def __init__(self, label: str, data: bytes) -> None:
        self.label = label
        self.data = data
        self.reads = 0

    def read(self) -> bytes:
        self.reads += 1
        return self.data

    def source(self) -> Source:
        return Source(origin=Origin.parse(self.label), read=self.read)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(OLD, NEW, id="changed"),
        pytest.param(OLD, OLD, id="identical"),
        pytest.param(OLD, b"- not a store\n", id="new-is-broken", marks=pytest.mark.counts),
        pytest.param(b"- not a store\n", OLD, id="old-is-broken"),
    ],
)
def test_each_version_is_read_once(old: bytes, new: bytes) -> None:
    old_source, new_source = CountingSource("HEAD:creds.yml", old), CountingSource("creds.yml", new)
    audit = CountingSource("other.yml", NEW)
    report = check(
        [Target(old=old_source.source(), new=new_source.source()), Target(new=audit.source())],
        Options(),
    )
    assert report.files == 2
    assert (old_source.reads, new_source.reads, audit.reads) == (1 if new != b"- not a store\n" else 0, 1, 1)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often the CLI read each path, through the real ``read_file`` of every module that reads files."""
    counts: Counter[str] = Counter()
    real = loader.read_file

    def counting(path: str | Path) -> bytes:
        counts[str(path)] += 1
        return real(path)

    for module in (loader, sources, plan):
        monkeypatch.setattr(module, "read_file", counting)
    return counts


@pytest.fixture
def files(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """OLD and NEW in a read-only directory, each file read-only."""
    directory = tmp_path / "ro"
    directory.mkdir()
    old, new = directory / "old.yml", directory / "new.yml"
    old.write_bytes(OLD)
    new.write_bytes(NEW)
    for path in (old, new):
        path.chmod(0o444)
    directory.chmod(0o555)
    yield old, new
    directory.chmod(0o755)


def state(path: Path) -> tuple[bytes, int, int]:
    info = path.stat()
    return path.read_bytes(), stat.S_IMODE(info.st_mode), info.st_mtime_ns


COMMANDS: dict[str, Callable[[Path, Path], list[str | Path]]] = {
    "compare-text": lambda old, new: [old, new],
    "compare-json-all": lambda old, new: [old, new, "--all", "--format", "json"],
    "compare-sarif": lambda old, new: [old, new, "--format", "sarif"],
    "compare-github": lambda old, new: [old, new, "--format", "github"],
    "audit": lambda old, new: ["check", old, new],
    "redacted-diff": lambda old, new: ["diff", old, new],
    "textconv": lambda old, new: ["diff", "--textconv", new],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_read_only_files_are_read_once_and_left_untouched(
    cli: RunCli, files: tuple[Path, Path], reads: Counter[str], command: Callable[[Path, Path], list[str | Path]]
) -> None:
    old, new = files
    before = {path: state(path) for path in (old, new)}
    listing = sorted(os.listdir(old.parent))

    result = cli(*command(old, new))

    assert result.code in (0, 1), result.err
    assert result.err == ""
    assert {path: state(path) for path in (old, new)} == before
    assert sorted(os.listdir(old.parent)) == listing
    assert set(reads.values()) == {1}
    assert set(reads) <= {str(old), str(new)}
