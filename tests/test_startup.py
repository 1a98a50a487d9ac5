from __future__ import annotations

# A hook that feels instant imports only what a run needs: nothing of DeepDiff or cryptography when the files
# are identical (nothing to diff, no certificate to parse), and no DeepDiff for a change to the four value types
# bosh writes (their changed fields are read directly). Checked with `python -X importtime`, in a real process.
import sys
from pathlib import Path

import pytest

from factory import bosh_store, dump_store, incident
from measure import run_measured


def imported(tmp_path: Path, old: dict[str, object], new: dict[str, object]) -> tuple[int, set[str]]:
    (tmp_path / "old.yml").write_text(dump_store(old))
    (tmp_path / "new.yml").write_text(dump_store(new))
    argv: list[str | Path] = [sys.executable, "-X", "importtime", "-m", "creds_lint", tmp_path / "old.yml"]
    argv.append(tmp_path / "new.yml")
    result = run_measured(argv, timeout=120)
    modules = {line.rsplit("|", 1)[1].strip() for line in result.err.splitlines() if line.startswith("import time:")}
    return result.code, {m.split(".")[0] for m in modules}


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
