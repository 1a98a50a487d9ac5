from __future__ import annotations

# A second CPU changes how long a run takes, never what it finds: the old version of a large file is read by a
# forked child (creds_lint.background), and whatever goes wrong there, the value is worked out in this process.
import contextlib
import io
import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from creds_lint import background, engine
from creds_lint.cli import main
from creds_lint.loader import parse_store
from creds_lint.model import Seal
from factory import dump_store, scaled_scenarios

needs_two = pytest.mark.skipif(not background.available(), reason="needs fork and a second CPU")
PARENT = os.getpid()


def in_child() -> bool:
    return os.getpid() != PARENT


@needs_two
def test_the_value_is_worked_out_by_a_child() -> None:
    with background.start(os.getpid) as pending:
        assert pending.result() != PARENT


@needs_two
def test_a_child_that_fails_leaves_the_work_to_this_process() -> None:
    def work() -> str:
        if in_child():
            raise RuntimeError("only in the child")
        return "here"

    with background.start(work) as pending:
        assert pending.result() == "here"


@needs_two
def test_a_value_that_does_not_pickle_is_worked_out_here() -> None:
    def work() -> object:
        return (lambda: None) if in_child() else "here"

    with background.start(work) as pending:
        assert pending.result() == "here"


@needs_two
def test_an_error_is_raised_here_as_without_a_child() -> None:
    def work() -> None:
        raise ValueError("bad input")

    with background.start(work) as pending, pytest.raises(ValueError, match="bad input"):
        pending.result()


@needs_two
def test_a_child_that_is_not_waited_for_is_stopped() -> None:
    def work() -> None:
        import time

        time.sleep(120 if in_child() else 0)

    with background.start(work):
        assert multiprocessing.active_children()
    assert not multiprocessing.active_children()


@needs_two
def test_the_child_says_nothing(tmp_path: Path) -> None:
    # Whatever the child prints, at the Python or the descriptor level, goes nowhere: it could quote a secret.
    script = textwrap.dedent(
        """
        import os, sys
        from creds_lint import background

        parent = os.getpid()

        def work():
            if os.getpid() != parent:
                print("SECRET on stdout"); print("SECRET on stderr", file=sys.stderr)
                os.write(1, b"SECRET on fd 1"); os.write(2, b"SECRET on fd 2")
                raise RuntimeError("SECRET in a traceback")
            return "worked out here"

        print("before")  # buffered when the child is forked: written once, by this process
        with background.start(work) as pending:
            print(pending.result())
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120, cwd=tmp_path
    )
    assert run.stdout.splitlines() == ["before", "worked out here"]
    assert run.stderr == ""


def test_a_var_store_pickles_as_it_is() -> None:
    store = parse_store(dump_store(scaled_scenarios(40).store).encode() + b"svc0_ca: dup\n", source="creds.yml")
    sealed = type(store)(source="s", entries=store.entries, seal=Seal(decrypted=True, data_key="k"), mode=0o600)
    for kept in (store, sealed):
        back = pickle.loads(pickle.dumps(kept))  # noqa: S301 - its own bytes
        assert back == kept
        assert type(back.entries) is type(kept.entries)
        assert [dict(e.field_lines) for e in back] == [dict(e.field_lines) for e in kept]
        assert [e.line for e in back] == [e.line for e in kept]


@pytest.mark.parametrize("case", ["incident", "rotation"])
def test_reading_aside_finds_what_reading_in_turn_finds(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenarios = scaled_scenarios(130)
    old, new = tmp_path / "old.yml", tmp_path / "new.yml"
    old.write_text(dump_store(scenarios.store))
    new.write_text(dump_store(getattr(scenarios, case)))
    reports = []
    for aside in (1 << 40, 1):  # never, always
        monkeypatch.setattr(engine, "ASIDE_BYTES", aside)
        for form in ("text", "json"):
            reports.append(_run(old, new, form))
    assert reports[0] == reports[2]
    assert reports[1] == reports[3]


@pytest.mark.parametrize(
    ("old_text", "message"),
    [
        (None, "no such file"),
        (b"a: [unclosed\n" * 10, "line"),
        (b"<<<<<<< HEAD\na: b\n", "merge-conflict"),
    ],
)
def test_an_old_version_that_cannot_be_read_is_reported_as_in_turn(
    old_text: bytes | None, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = tmp_path / "old.yml", tmp_path / "new.yml"
    new.write_text(dump_store(scaled_scenarios(40).store))
    if old_text is not None:
        old.write_bytes(old_text)
    results = []
    for aside in (1 << 40, 1):
        monkeypatch.setattr(engine, "ASIDE_BYTES", aside)
        results.append(_run(old, new, "text"))
    assert results[0] == results[1]
    code, _, err = results[0]
    assert code == 2
    assert message in err
    assert len(err.splitlines()) == 1


def _run(old: Path, new: Path, form: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--format", form, "--now", "2026-12-02T00:00:00Z", str(old), str(new)])
    return code, out.getvalue(), err.getvalue()
