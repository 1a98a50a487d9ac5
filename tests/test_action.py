from __future__ import annotations

# The GitHub Action (action.yml): its shape, and its shell steps run for real against a real repository.
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from creds_lint.invocation import build_parser
from factory import bosh_store
from gitrepo import GitRepo, isolate_git
from test_reporters import sarif_schema

ACTION = Path(__file__).resolve().parents[1] / "action.yml"


def action() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return doc


def step(name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [s for s in action()["runs"]["steps"] if s.get("name") == name]
    assert len(found) == 1, name
    return found[0]


def test_action_shape() -> None:
    doc = action()
    assert doc["runs"]["using"] == "composite"
    uses = [s.get("uses", "").split("@")[0] for s in doc["runs"]["steps"]]
    assert uses == ["actions/setup-python", "", "", "", "github/codeql-action/upload-sarif", ""]
    for name in ("Write SARIF", "Check var-stores"):
        assert step(name)["env"]["BASE"] == "${{ steps.range.outputs.base }}"
    install = step("Install creds-lint")
    assert install["env"] == {"ACTION_PATH": "${{ github.action_path }}"}
    assert '"$ACTION_PATH"' in install["run"]
    upload = step("Upload SARIF")
    assert upload["if"] == "inputs.sarif == 'true'"
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert step("Write SARIF")["if"] == "inputs.sarif == 'true'"
    assert doc["inputs"]["sarif"]["default"] == "false"
    assert doc["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"


def test_no_input_is_expanded_inside_a_script() -> None:
    # ${{ ... }} in a run: script is pasted into the shell before it runs: an input could inject commands
    for s in action()["runs"]["steps"]:
        assert "${{" not in s.get("run", ""), s["name"]


def test_scripts_use_existing_flags() -> None:
    options = {o for a in build_parser()._actions for o in a.option_strings}
    for s in action()["runs"]["steps"]:
        for line in s.get("run", "").splitlines():
            if line.strip().startswith("creds-lint "):
                flags = set(re.findall(r"\s(--[a-z-]+)", line))
                assert flags, line
                assert flags <= options, flags - options


@pytest.fixture
def pull_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[GitRepo, str, str]:
    isolate_git(monkeypatch, tmp_path / "home")
    repo = GitRepo.init(tmp_path / "ops")
    store = bosh_store()
    repo.write("creds.yml", store)
    base = repo.commit("install")
    del store["credhub_encryption_password"]
    repo.write("creds.yml", store)
    head = repo.commit("rotate certificates")
    return repo, base, head


def run_step(name: str, repo: GitRepo, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run one of the action's shell steps as the runner would (bash -e), with creds-lint on PATH."""
    script = step(name)["run"]
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
        cwd=repo.root,
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_check_step_annotates_and_fails(pull_request: tuple[GitRepo, str, str], tmp_path: Path) -> None:
    repo, base, head = pull_request
    output = tmp_path / "github_output"
    env = {"BASE": base, "HEAD": head, "PATHS": "", "FAIL_ON": "error", "ARGS": "", "GITHUB_OUTPUT": str(output)}
    resolved = run_step("Resolve the range", repo, env)
    assert resolved.returncode == 0, resolved.stderr
    assert output.read_text(encoding="utf-8") == f"base={base}\n"
    output.unlink()
    done = run_step("Check var-stores", repo, env)
    assert done.returncode == 1, done.stderr
    line = repo.line_of("creds.yml", "credhub_encryption_password", rev=base)
    assert (
        "::error file=creds.yml,title=CL101 removed-encryption-key::credhub_encryption_password (encryption key) "
        "was removed"
    ) in done.stdout
    assert f"(line {line} of the old version)" in done.stdout
    assert output.read_text(encoding="utf-8") == "exit-code=1\n"


@pytest.mark.parametrize("base", ["", "0" * 40])
def test_a_new_branch_is_checked_against_the_parent(
    pull_request: tuple[GitRepo, str, str], tmp_path: Path, base: str
) -> None:
    repo, parent, head = pull_request
    output = tmp_path / "github_output"
    done = run_step("Resolve the range", repo, {"BASE": base, "HEAD": head, "GITHUB_OUTPUT": str(output)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("::notice title=creds-lint::no base revision (a new branch?)")
    assert output.read_text(encoding="utf-8") == f"base={head}~1\n"
    assert repo.git("rev-parse", f"{head}~1").strip() == parent


def test_check_step_passes_a_clean_range(pull_request: tuple[GitRepo, str, str], tmp_path: Path) -> None:
    repo, base, _ = pull_request
    output = tmp_path / "github_output"
    env = {"BASE": base, "HEAD": base, "PATHS": "", "FAIL_ON": "error", "ARGS": "", "GITHUB_OUTPUT": str(output)}
    done = run_step("Check var-stores", repo, env)
    assert done.returncode == 0, done.stderr
    assert "::error" not in done.stdout
    assert output.read_text(encoding="utf-8") == "exit-code=0\n"


def test_sarif_step_writes_valid_sarif(pull_request: tuple[GitRepo, str, str], tmp_path: Path) -> None:
    repo, base, head = pull_request
    output = tmp_path / "github_output"
    sarif = tmp_path / "out.sarif"
    env = {
        "BASE": base,
        "HEAD": head,
        "PATHS": "creds.yml",
        "FAIL_ON": "error",
        "ARGS": "--no-config",
        "SARIF_FILE": str(sarif),
        "GITHUB_OUTPUT": str(output),
    }
    done = run_step("Write SARIF", repo, env)
    assert done.returncode == 0, done.stderr  # findings do not stop the upload
    assert output.read_text(encoding="utf-8") == f"file={sarif}\n"
    doc = json.loads(sarif.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    results = doc["runs"][0]["results"]
    assert [(r["ruleId"], r["properties"]["variable"]) for r in results if r["level"] == "error"] == [
        ("CL101", "credhub_encryption_password")
    ]
    location = next(r for r in results if r["ruleId"] == "CL101")["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "creds.yml"
    assert "region" not in location  # removed: the file as a whole, the old line in the message
    line = repo.line_of("creds.yml", "credhub_encryption_password", rev=base)
    message = next(r for r in results if r["ruleId"] == "CL101")["message"]["text"]
    assert message.endswith(f"(line {line} of the old version)")
