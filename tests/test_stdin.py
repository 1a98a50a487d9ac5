"""``-`` reads a var-store from standard input: for OLD or NEW of ``creds-lint OLD NEW``, for ``check`` and for
``diff``, bounded as a file is, named ``<stdin>`` in every format; never both OLD and NEW, never a file that a
command writes (restore, renew, rotate). Run through real processes and real pipes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from creds_lint.origin import STDIN
from creds_lint.yamlread import MAX_BYTES
from factory import bosh_store, dump_store, incident, password
from test_reporters import sarif_schema

pytestmark = pytest.mark.slow  # every case runs the CLI in a subprocess with a real pipe


def run(*args: str | Path, stdin: bytes | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "FORCE_COLOR", "CLICOLOR_FORCE")}
    done = subprocess.run(
        [sys.executable, "-m", "creds_lint", *map(str, args)],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=120,
    )
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A var-store and its version after the incident (regenerated CAs and encryption key)."""
    folder = tmp_path_factory.mktemp("stdin")
    old = bosh_store()
    (folder / "old.yml").write_text(dump_store(old), encoding="utf-8")
    (folder / "new.yml").write_text(dump_store(incident(old)), encoding="utf-8")
    return folder / "old.yml", folder / "new.yml"


def findings(out: str, label: str) -> list[tuple[str, str | None, str]]:
    return [(f["rule"], f["variable"], f["message"]) for f in json.loads(out)["findings"] if label in f["file"]]


@pytest.mark.parametrize("side", ["old", "new"])
def test_either_side_from_stdin_finds_what_the_file_does(stores: tuple[Path, Path], side: str) -> None:
    old, new = stores
    from_files = run(old, new, "--no-config", "--format", "json", cwd=old.parent)
    piped = old if side == "old" else new
    args = ("-", new) if side == "old" else (old, "-")
    from_stdin = run(*args, "--no-config", "--format", "json", stdin=piped.read_bytes(), cwd=old.parent)
    assert from_files.returncode == from_stdin.returncode == 1
    assert from_stdin.stderr == ""
    document = json.loads(from_stdin.stdout)
    assert document["findings"]
    files = {f["file"] for f in document["findings"]} | {f["old_file"] for f in document["findings"]}
    assert STDIN in files
    assert [(f["rule"], f["variable"]) for f in document["findings"]] == [
        (f["rule"], f["variable"]) for f in json.loads(from_files.stdout)["findings"]
    ]


def test_a_clean_comparison_from_stdin_passes(stores: tuple[Path, Path]) -> None:
    old, _ = stores
    done = run(old, "-", "--no-config", stdin=old.read_bytes(), cwd=old.parent)
    assert done.returncode == 0, done.stderr


def test_text_names_stdin_and_gives_no_restore_command_for_it(stores: tuple[Path, Path]) -> None:
    old, new = stores
    done = run(old, "-", "--no-config", stdin=new.read_bytes(), cwd=old.parent)
    assert done.returncode == 1
    assert f"  {STDIN}:" in done.stdout  # each finding: <stdin>:LINE: error ...
    assert "creds-lint restore" not in done.stdout  # standard input is no file to write
    assert f"restore the old values from {old.name}" in done.stdout or f"from {old}" in done.stdout
    piped_old = run("-", new, "--no-config", stdin=old.read_bytes(), cwd=old.parent)
    assert "restore the old values from the version given on standard input" in piped_old.stdout
    assert "--from <stdin>" not in piped_old.stdout


def test_github_annotations_name_no_file_for_stdin(stores: tuple[Path, Path]) -> None:
    old, new = stores
    done = run(old, "-", "--no-config", "--format", "github", stdin=new.read_bytes(), cwd=old.parent)
    assert done.returncode == 1
    annotations = [line for line in done.stdout.splitlines() if line.startswith("::error")]
    assert annotations
    assert all("file=" not in line.split("::")[1] for line in annotations)
    assert all(line.split("::", 2)[2].startswith(f"{STDIN}: ") for line in annotations)


def test_sarif_locates_stdin_without_a_uri_and_validates(stores: tuple[Path, Path]) -> None:
    old, new = stores
    done = run(old, "-", "--no-config", "--format", "sarif", stdin=new.read_bytes(), cwd=old.parent)
    assert done.returncode == 1
    document = json.loads(done.stdout)
    jsonschema.Draft4Validator(sarif_schema()).validate(document)
    results = document["runs"][0]["results"]
    assert results
    for result in results:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert "uri" not in artifact
        assert artifact["description"]["text"] == "standard input (-)"


def test_check_and_diff_read_stdin(stores: tuple[Path, Path]) -> None:
    old, new = stores
    for args in (("check",), ("diff", old), ("diff", "--textconv")):
        from_file = run(*args, new, "--no-config", cwd=old.parent)
        from_stdin = run(*args, "-", "--no-config", stdin=new.read_bytes(), cwd=old.parent)
        assert from_stdin.returncode == from_file.returncode, from_stdin.stderr
        assert from_stdin.stdout.replace(STDIN, new.name) == from_file.stdout.replace(str(new), new.name)
    both = run("check", old, "-", "--no-config", "--format", "json", stdin=new.read_bytes(), cwd=old.parent)
    assert both.returncode == 0, both.stderr
    assert {c["file"] for c in json.loads(both.stdout)["certificates"]} == {str(old), STDIN}


def test_stdin_is_bounded_like_a_file(stores: tuple[Path, Path]) -> None:
    old, _ = stores
    done = run(old, "-", stdin=b"a: b\n" * (MAX_BYTES // 5 + 1), cwd=old.parent)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"creds-lint: error: {STDIN}: larger than {MAX_BYTES // 2**20} MiB: not a var-store\n"


@pytest.mark.parametrize(
    "data",
    [
        os.urandom(4096),
        b"\0GITCRYPT\0" + os.urandom(256),
        b"admin_password: [unclosed\n",
        b"- just\n- a list\n",
    ],
    ids=["binary", "git-crypt", "broken YAML", "not a mapping"],
)
def test_bad_input_on_stdin_is_the_files_one_line_error(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "old.yml").write_text(f"admin_password: {password('a')}\n", encoding="utf-8")
    (tmp_path / "given.yml").write_bytes(data)
    from_file = run("old.yml", "given.yml", "--no-config", cwd=tmp_path)
    from_stdin = run("old.yml", "-", "--no-config", stdin=data, cwd=tmp_path)
    assert from_file.returncode == from_stdin.returncode == 2
    assert from_stdin.stderr.count("\n") == 1
    assert from_stdin.stderr == from_file.stderr.replace("given.yml", STDIN)
    assert "Traceback" not in from_stdin.stderr
    assert "unclosed" not in from_stdin.stderr + from_stdin.stdout  # never a quoted line


def test_a_terminal_on_stdin_is_refused_not_waited_for(tmp_path: Path) -> None:
    (tmp_path / "old.yml").write_text(f"admin_password: {password('a')}\n", encoding="utf-8")
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "creds_lint", "old.yml", "-"],
            stdin=terminal,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
            timeout=60,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert done.returncode == 2
    assert done.stderr.startswith(f"creds-lint: error: {STDIN}: standard input is a terminal")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("-", "-"), "OLD and NEW cannot both be - (standard input)"),
        (("diff", "-", "-"), "OLD and NEW cannot both be - (standard input)"),
        (("check", "-", "-"), "- (standard input) can be read once"),
        (("-",), "- (standard input) is for OLD or NEW"),
        (("--staged", "-"), "- (standard input) is for OLD or NEW"),
        (("--rev", "HEAD", "-"), "- (standard input) is for OLD or NEW"),
        (("restore", "-", "--from", "old.yml"), "restore writes FILE in place: give a path, not -"),
        (("restore", "new.yml", "--from", "-"), "--from is a file or a git revision: give a path, not -"),
        (("restore", "new.yml", "--from", "old.yml", "--import-file", "-"), "--import-file writes OUT"),
        (("renew", "-", "--all"), "renew writes FILE in place: give a path, not -"),
        (("rotate", "leaf", "-", "--expiring", "30"), "rotate leaf edits FILE in place"),
        (("rotate", "plan", "-"), "rotate plan names FILE in the commands it prints"),
        (("rotate", "password", "credhub_encryption_password", "-"), "rotate password edits FILE in place"),
        (("rotate", "ca", "nats_ca", "-", "--stage", "add"), "rotate ca edits FILE in place"),
    ],
)
def test_stdin_where_it_has_no_meaning_is_a_usage_error(
    stores: tuple[Path, Path], args: tuple[str, ...], says: str
) -> None:
    old, _ = stores
    done = run(*args, stdin=old.read_bytes(), cwd=old.parent)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert says in done.stderr
