"""The command line as people meet it: exact options only, one-line usage errors, colour switches, the rule list,
ASCII-only terminals, and a text report that leads with what fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RunCli, WriteStore
from creds_lint import __version__
from creds_lint.invocation import Color
from creds_lint.plan import use_color
from creds_lint.rules import CATALOGUE
from factory import bosh_store, leaf_rotation, password


def test_an_abbreviated_option_is_refused(cli: RunCli) -> None:
    run = cli("--stage")  # never --staged
    assert run.code == 2
    assert run.err == "creds-lint: error: unrecognized arguments: --stage (try 'creds-lint --help')\n"


@pytest.mark.parametrize("args", [("--head", "x", "a.yml"), ("a", "b", "c", "--rev")])
def test_a_usage_error_is_one_line_with_a_pointer_to_help(cli: RunCli, args: tuple[str, ...]) -> None:
    run = cli(*args)
    assert run.code == 2
    assert run.out == ""
    assert run.err.count("\n") == 1
    assert run.err.startswith("creds-lint: error: ")
    assert run.err.endswith("(try 'creds-lint --help')\n")


def test_a_typo_of_a_command_is_named(cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = cli("chek", "creds.yml")
    assert run.code == 2
    assert "unknown command 'chek' (did you mean 'creds-lint check'?)" in run.err
    (tmp_path / "chek").write_text("a: b\n", encoding="utf-8")  # a file of that name is a file
    assert "unknown command" not in cli("chek", "chek").err


def test_version_short_and_long(cli: RunCli) -> None:
    for flag in ("-V", "--version"):
        run = cli(flag)
        assert run.code == 0
        assert run.out == f"creds-lint {__version__}\n"


def test_list_rules(cli: RunCli) -> None:
    run = cli("--list-rules")
    assert run.code == 0
    lines = run.out.splitlines()
    assert len(lines) == len(CATALOGUE)
    assert lines[0].split()[:3] == [CATALOGUE[0].code, CATALOGUE[0].name, CATALOGUE[0].severity.value]


class _Stream:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("choice", "tty", "environ", "expected"),
    [
        (Color.AUTO, True, {}, True),
        (Color.AUTO, False, {}, False),
        (Color.AUTO, True, {"NO_COLOR": "1"}, False),
        (Color.AUTO, False, {"FORCE_COLOR": "1"}, True),
        (Color.AUTO, False, {"CLICOLOR_FORCE": "1"}, True),
        (Color.AUTO, False, {"FORCE_COLOR": "0"}, False),
        (Color.AUTO, False, {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        (Color.NEVER, True, {"FORCE_COLOR": "1"}, False),
        (Color.ALWAYS, False, {"NO_COLOR": "1"}, True),
    ],
)
def test_colour_switches(choice: Color, tty: bool, environ: dict[str, str], expected: bool) -> None:
    assert use_color(choice, _Stream(tty), environ) is expected  # type: ignore[arg-type]


def test_no_color_flag(cli: RunCli, write_store: WriteStore) -> None:
    old = write_store("old.yml", {"hm_password": password("a")})
    new = write_store("new.yml", {"hm_password": password("b")})
    assert "\x1b[" in cli(old, new, "--no-config", "--color", "always").out
    assert "\x1b[" not in cli(old, new, "--no-config", "--color", "always", "--no-color").out


def test_errors_first_then_warnings_and_info_as_one_line(cli: RunCli, write_store: WriteStore) -> None:
    old_store = bosh_store()
    new_store = leaf_rotation(bosh_store())
    del new_store["director_ssl"]  # a warning, at a line before the next error
    new_store["uaa_encryption_key_1"] = password("old")
    old_store["uaa_encryption_key_1"] = password("new")
    old, new = write_store("old.yml", old_store), write_store("new.yml", new_store)
    run = cli(old, new, "--no-config")
    assert run.code == 1
    findings = [line for line in run.out.splitlines() if line.startswith("  ") and " CL" in line]
    assert [line.split(": ")[1].split()[0] for line in findings] == ["error", "warning"]
    info = [line for line in run.out.splitlines() if " info (" in line]
    assert info == ["  8 info (8 rotated-certificate): safe changes, listed with -v"]
    verbose = cli(old, new, "--no-config", "-v")
    assert sum(" info CL205 rotated-certificate" in line for line in verbose.out.splitlines()) == 8


def test_a_leaf_rotation_reads_in_a_few_lines(cli: RunCli, write_store: WriteStore) -> None:
    old, new = write_store("old.yml", bosh_store()), write_store("new.yml", leaf_rotation(bosh_store()))
    run = cli(old, new, "--no-config")
    assert run.code == 0
    assert len(run.out.splitlines()) <= 4
    assert max(len(line) for line in run.out.splitlines()) < 120


def test_an_audit_gives_no_restore_advice(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    leaf, ca = store["nats_server_tls"], store["default_ca"]
    assert isinstance(leaf, dict)
    assert isinstance(ca, dict)
    store["nats_server_tls"] = {**leaf, "private_key": ca["private_key"]}
    run = cli("check", write_store("creds.yml", store), "--no-config")
    assert run.code == 1
    assert "Restore the old values" not in run.out
    assert "restore the old values" not in run.out


def test_an_ascii_only_stdout_gets_escapes_not_an_error(tmp_path: Path) -> None:
    old, new = tmp_path / "old.yml", tmp_path / "new.yml"
    old.write_text(f"pässwort: {password('a')}\n", encoding="utf-8")
    new.write_text(f"pässwort: {password('b')}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "NO_COLOR": "1"}
    for args in ((str(old), str(new), "--no-config"), ("--explain", "regenerated-password")):
        done = subprocess.run(
            [sys.executable, "-m", "creds_lint", *args], capture_output=True, env=env, check=False, cwd=tmp_path
        )
        assert done.returncode in (0, 1), done.stderr
        done.stdout.decode("ascii")  # nothing but ASCII
        assert b"internal error" not in done.stderr
    assert (
        b"p\\xe4sswort"
        in subprocess.run(
            [sys.executable, "-m", "creds_lint", str(old), str(new), "--no-config"],
            capture_output=True,
            env=env,
            check=False,
        ).stdout
    )
