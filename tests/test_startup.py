from __future__ import annotations

# A hook that feels instant imports only what a run needs: nothing of DeepDiff or cryptography when the files
# are identical (nothing to diff, no certificate to parse), and no DeepDiff for a change to the four value types
# bosh writes (their changed fields are read directly). Checked with `python -X importtime`, in a real process.
import sys
from pathlib import Path

import pytest

from factory import bosh_store, dump_store, incident
from measure import run_measured

pytestmark = pytest.mark.slow  # every case starts the CLI in a subprocess under python -X importtime


def modules_of(*args: str | Path) -> tuple[int, set[str]]:
    """The exit code of ``creds-lint ARGS`` in a fresh process, and every module it imported."""
    result = run_measured([sys.executable, "-X", "importtime", "-m", "creds_lint", *args], timeout=120)
    return result.code, {line.rsplit("|", 1)[1].strip() for line in result.err.splitlines() if "import time:" in line}


def imported(tmp_path: Path, old: dict[str, object], new: dict[str, object]) -> tuple[int, set[str]]:
    (tmp_path / "old.yml").write_text(dump_store(old))
    (tmp_path / "new.yml").write_text(dump_store(new))
    code, modules = modules_of(tmp_path / "old.yml", tmp_path / "new.yml")
    return code, {m.split(".")[0] for m in modules}


#: The import budget of the modes that read no var-store: what each must never import (the rules are for
#: --explain only; no mode that checks nothing reads a configuration).
NOTHING_TO_CHECK = {"creds_lint.rules", "creds_lint.engine", "creds_lint.config", "creds_lint.loader", "yaml"}
BUDGETS = {
    ("--version",): NOTHING_TO_CHECK | {"deepdiff", "cryptography"},
    ("--help",): NOTHING_TO_CHECK | {"deepdiff", "cryptography"},
    ("check", "--help"): NOTHING_TO_CHECK | {"deepdiff", "cryptography"},
    ("renew", "--help"): NOTHING_TO_CHECK | {"deepdiff", "cryptography", "creds_lint.blocks", "creds_lint.atomic"},
    ("diff", "--help"): NOTHING_TO_CHECK | {"deepdiff", "cryptography", "creds_lint.redacted"},
    ("restore", "--help"): NOTHING_TO_CHECK | {"deepdiff", "cryptography", "creds_lint.restore", "creds_lint.blocks"},
    ("rotate", "--help"): NOTHING_TO_CHECK | {"deepdiff", "cryptography", "creds_lint.blocks", "creds_lint.atomic"},
    ("rotate", "leaf", "--help"): NOTHING_TO_CHECK
    | {"deepdiff", "cryptography", "creds_lint.blocks", "creds_lint.atomic"},
    ("rotate", "ca", "--help"): NOTHING_TO_CHECK
    | {"deepdiff", "cryptography", "creds_lint.blocks", "creds_lint.atomic"},
    ("--explain", "CL201"): {"creds_lint.engine", "creds_lint.config", "deepdiff", "cryptography"},
}


@pytest.mark.parametrize("args", list(BUDGETS), ids=" ".join)
def test_import_budget_of_a_mode(args: tuple[str, ...]) -> None:
    code, modules = modules_of(*args)
    assert code == 0
    assert "creds_lint.cli" in modules  # the measurement sees the tool's own imports
    assert [m for m in modules if _under(m, BUDGETS[args])] == []


def _under(module: str, forbidden: set[str]) -> bool:
    """Whether ``module`` is one of ``forbidden`` or inside one of them (``creds_lint.rules.pki``)."""
    return any(module == f or module.startswith(f + ".") for f in forbidden)


def test_identical_files_import_neither_deepdiff_nor_cryptography(tmp_path: Path) -> None:
    code, packages = imported(tmp_path, bosh_store(), bosh_store())
    assert code == 0
    assert "yaml" in packages
    assert {"deepdiff", "cryptography"} & packages == set()


@pytest.mark.parametrize("change", ["incident", "password"])
def test_a_change_of_bosh_values_does_not_import_deepdiff(tmp_path: Path, change: str) -> None:
    old = bosh_store()
    new = incident(old) if change == "incident" else {**old, "admin_password": "changed-by-hand-0000"}
    code, packages = imported(tmp_path, old, new)
    assert code == 1
    assert "deepdiff" not in packages
    assert ("cryptography" in packages) is (change == "incident")


@pytest.mark.counts
def test_a_bosh_sized_file_is_read_in_this_process(tmp_path: Path) -> None:
    # Only a large file is worth a fork (engine.ASIDE_BYTES): a bosh store is read without multiprocessing.
    code, packages = imported(tmp_path, bosh_store(), incident(bosh_store()))
    assert code == 1
    assert "yaml" in packages
    assert "multiprocessing" not in packages
