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
from creds_lint.helptext import fill
from creds_lint.invocation import Color
from creds_lint.plan import use_color
from creds_lint.rules import CATALOGUE
from factory import bosh_store, incident, leaf_rotation, password


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


#: The leaves that nats_ca signs in the bosh-deployment store.
NATS_LEAVES = ("nats_server_tls", "nats_clients_director_tls", "nats_clients_health_monitor_tls")


def test_info_that_depends_on_a_problem_is_never_called_safe(cli: RunCli, write_store: WriteStore) -> None:
    """Every leaf re-issued; nats_ca regenerated, and its leaves re-issued by the new nats_ca: those three info
    findings name the regenerated CA, so the summaries count them apart from the six safe rotations."""
    store = bosh_store()
    new_store, regenerated = leaf_rotation(store), incident(store)
    for name in ("nats_ca", *NATS_LEAVES):
        new_store[name] = regenerated[name]
    old, new = write_store("old.yml", store), write_store("new.yml", new_store)
    run = cli(old, new, "--no-config")
    assert run.code == 1
    assert [line for line in run.out.splitlines() if " info (" in line] == [
        "  9 info (9 rotated-certificate): 6 safe changes, 3 not safe on their own, each message says why, "
        "listed with -v"
    ]
    markdown = cli(old, new, "--no-config", "--format", "markdown").out
    assert "9 info findings (6 safe changes, 3 not safe on their own, each message says why, listed by" in markdown
    sarif = cli(old, new, "--no-config", "--format", "sarif").json
    assert sarif["runs"][0]["properties"] == {"infoFindings": 9, "infoFindingsDependingOnProblems": 3}

    only_nats = write_store("nats.yml", {**store, **{n: regenerated[n] for n in ("nats_ca", *NATS_LEAVES)}})
    run = cli(old, only_nats, "--no-config")
    assert [line for line in run.out.splitlines() if " info (" in line] == [
        "  3 info (3 rotated-certificate): not safe on their own, each message says why, listed with -v"
    ]
    assert "safe changes" not in run.out
    assert "safe changes" not in cli(old, only_nats, "--no-config", "--format", "markdown").out


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


@pytest.mark.slow  # a subprocess with an ASCII-only locale
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


# --- help fits the terminal -----------------------------------------------------------------------------------

HELP_SCREENS = [
    (),
    ("check",),
    ("diff",),
    ("restore",),
    ("renew",),
    ("rotate",),
    ("rotate", "plan"),
    ("rotate", "leaf"),
    ("rotate", "ca"),
    ("rotate", "password"),
]


def help_of(cli: RunCli, monkeypatch: pytest.MonkeyPatch, columns: int, *command: str) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(columns))
    run = cli(*command, "--help")
    assert run.code == 0
    return run.out.splitlines()


@pytest.mark.parametrize("columns", [60, 200])
@pytest.mark.parametrize("command", HELP_SCREENS, ids=lambda c: " ".join(c) or "creds-lint")
def test_help_fits_the_terminal(
    cli: RunCli, monkeypatch: pytest.MonkeyPatch, columns: int, command: tuple[str, ...]
) -> None:
    lines = help_of(cli, monkeypatch, columns, *command)
    too_long = [line for line in lines if len(line) > columns and len(line.split()) > 1]  # one word cannot break
    assert too_long == []


@pytest.mark.parametrize("columns", [60, 200])
def test_help_keeps_the_structure_of_its_texts(cli: RunCli, monkeypatch: pytest.MonkeyPatch, columns: int) -> None:
    lines = help_of(cli, monkeypatch, columns)
    usage = lines[: lines.index("")]
    assert (
        len([line for line in usage if line.removeprefix("usage:").lstrip().startswith("creds-lint ")]) == 11
    )  # one per form
    epilog = lines[lines.index("modes:") :]
    rows = ["OLD NEW", "FILE", "--staged", "--base REV", "--hook", "check FILE...", "diff OLD NEW", "renew FILE ..."]
    rows += ["restore FILE --from SOURCE", "rotate STEP ..."]
    for row in rows:  # every mode starts its own line, its text in one column
        assert any(line.startswith(f"  {row} ") or line == f"  {row}" for line in epilog), row
    column = epilog[1].index("compare two files")
    continued = [line for line in epilog[1:] if line.startswith(" " * column)]
    assert continued
    assert all(line[column] != " " for line in continued)
    exit_codes = next(line for line in epilog if line.startswith("exit codes: "))
    assert exit_codes.startswith("exit codes: 0 no finding reaches --fail-on;")
    prose = next(line for line in epilog if line.startswith("without PATHs"))
    assert len(prose) > min(columns, 200) - 20  # a paragraph is refilled to the width, not kept as written


def test_help_wraps_in_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "60"}
    done = subprocess.run(
        [sys.executable, "-m", "creds_lint", "restore", "--help"], capture_output=True, text=True, env=env, check=True
    )
    assert max(len(line) for line in done.stdout.splitlines()) <= 60
    assert "exit codes: 0 written" in done.stdout


def test_an_example_line_stays_a_line() -> None:
    text = "Examples:\n  creds-lint old.yml new.yml\n  creds-lint check creds.yml --format json --expiry-days 90\n"
    assert fill(text, 40) == [
        "Examples:",
        "  creds-lint old.yml new.yml",
        "  creds-lint check creds.yml --format",
        "      json --expiry-days 90",
    ]
