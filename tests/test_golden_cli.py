"""The text layout as people see it, byte for byte: the bundled leaf rotation and incident (fixed files made by
examples/make_examples.py with tests/factory.py, throwaway keys valid for a century) through the real CLI in a
subprocess, at a fixed time (``--now``), without colour, at a fixed terminal width.

``CREDS_LINT_UPDATE_GOLDEN=1 python3 -m pytest tests/test_golden_cli.py`` rewrites tests/golden/cli-*.txt after a
deliberate change of the layout; review the diff before committing it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each case is a process

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("CREDS_LINT_UPDATE_GOLDEN") == "1"
NOW = ("--now", "2026-12-01T00:00:00Z")

#: golden file -> (folder under examples/, arguments, exit code)
CASES = {
    "cli-leaf-rotation.txt": ("leaf-rotation", ("creds.yml", "creds-after-rotation.yml"), 0),
    "cli-leaf-rotation-verbose.txt": ("leaf-rotation", ("creds.yml", "creds-after-rotation.yml", "-v"), 0),
    "cli-incident.txt": ("incident", ("creds.yml", "creds-after-create-env.yml"), 1),
    "cli-incident-edit.txt": ("incident", ("creds.yml", "creds-after-edit.yml"), 1),
    "cli-check.txt": ("leaf-rotation", ("check", "creds-after-rotation.yml"), 0),
}


def run_cli(folder: str, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    drop = ("GITHUB_ACTIONS", "FORCE_COLOR", "CLICOLOR_FORCE", "PYTHONIOENCODING")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(NO_COLOR="1", COLUMNS="100", PYTHONUTF8="1")
    return subprocess.run(
        [sys.executable, "-m", "creds_lint", *args, *NOW, "--no-config"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=ROOT / "examples" / folder,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_text_layout_is_the_golden_file(name: str) -> None:
    folder, args, code = CASES[name]
    done = run_cli(folder, args)
    assert done.returncode == code, done.stderr
    assert done.stderr == ""
    path = GOLDEN / name
    if UPDATE:
        path.write_text(done.stdout, encoding="utf-8")
    assert done.stdout == path.read_text(encoding="utf-8"), f"{name}: CREDS_LINT_UPDATE_GOLDEN=1 rewrites it"


def test_a_safe_leaf_rotation_reads_in_a_few_short_lines() -> None:
    """What the golden file of the rotation holds, said as a property: a few lines, none of them long."""
    lines = (GOLDEN / "cli-leaf-rotation.txt").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 5
    assert max(len(line) for line in lines) <= 100
