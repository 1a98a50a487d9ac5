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

pytestmark = pytest.mark.slow  # the GitHub Action's steps as subprocesses, with a virtual environment of their own

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
    names = [s["name"] for s in doc["runs"]["steps"]]
    # the verdict comes first; code scanning after it, and never in the way
    assert names == [
        "Set up Python",
        "Install creds-lint",
        "Resolve the range",
        "Check var-stores",
        "Write SARIF",
        "Upload SARIF",
    ]
    uses = [s.get("uses", "").split("@")[0] for s in doc["runs"]["steps"]]
    assert uses == ["actions/setup-python", "", "", "", "", "github/codeql-action/upload-sarif"]
    assert step("Set up Python")["with"]["update-environment"] is False  # the job's Python stays as it is
    install = step("Install creds-lint")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert '-c "$ACTION_PATH/constraints.txt" "$ACTION_PATH"' in install["run"]
    for name in ("Write SARIF", "Check var-stores"):
        assert step(name)["env"]["BASE"] == "${{ steps.range.outputs.base }}"
        assert step(name)["env"]["CREDS_LINT"] == "${{ steps.install.outputs.creds-lint }}"
    upload = step("Upload SARIF")
    assert upload["continue-on-error"] is True
    assert upload["with"]["sarif_file"] == "${{ steps.sarif.outputs.file }}"
    assert "startsWith(github.event_name, 'pull_request')" in step("Write SARIF")["if"]
    assert doc["inputs"]["sarif"]["default"] == "false"
    assert doc["outputs"]["exit-code"]["value"] == "${{ steps.check.outputs.exit-code }}"


def test_actions_are_pinned_to_commits() -> None:
    lines = [line.strip() for line in ACTION.read_text(encoding="utf-8").splitlines() if "uses:" in line]
    assert len(lines) == 2
    for line in lines:
        assert re.fullmatch(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line


def test_constraints_pin_every_runtime_dependency() -> None:
    import tomllib

    from packaging.requirements import Requirement

    root = ACTION.parent
    declared = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = {}
    for line in (root / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower()] = version
    for text in declared:
        requirement = Requirement(text)
        assert requirement.name.lower() in pins, f"{requirement.name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[requirement.name.lower()]), requirement


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
    """Run one of the action's shell steps as the runner would (bash -e), with this checkout's creds-lint as the
    Install step's output."""
    script = step(name)["run"]
    launcher = repo.root.parent / "creds-lint"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m creds_lint "$@"\n', encoding="utf-8")
    launcher.chmod(0o755)
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
        cwd=repo.root,
        env={**os.environ, "CREDS_LINT": str(launcher), **env},
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
def test_a_push_without_a_previous_commit_audits_the_pushed_tree(
    pull_request: tuple[GitRepo, str, str], tmp_path: Path, base: str
) -> None:
    repo, _, head = pull_request
    output = tmp_path / "github_output"
    done = run_step("Resolve the range", repo, {"BASE": base, "GITHUB_OUTPUT": str(output)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("::notice title=creds-lint::no previous commit: auditing every var-store")
    empty_tree = repo.git("hash-object", "-t", "tree", "/dev/null").strip()
    assert output.read_text(encoding="utf-8") == f"base={empty_tree}\n"
    output.unlink()
    env = {"BASE": empty_tree, "HEAD": head, "PATHS": "", "FAIL_ON": "error", "ARGS": "", "GITHUB_OUTPUT": str(output)}
    audited = run_step("Check var-stores", repo, env)
    assert audited.returncode == 0, audited.stderr  # the head's creds.yml alone is sound
    assert "1 file" in audited.stdout
    assert "command line" not in audited.stdout


def test_check_step_writes_the_job_summary(pull_request: tuple[GitRepo, str, str], tmp_path: Path) -> None:
    repo, base, head = pull_request
    output, summary = tmp_path / "github_output", tmp_path / "summary.md"
    env = {"BASE": base, "HEAD": head, "PATHS": "", "FAIL_ON": "error", "ARGS": "", "GITHUB_OUTPUT": str(output)}
    done = run_step("Check var-stores", repo, {**env, "GITHUB_STEP_SUMMARY": str(summary)})
    assert done.returncode == 1, done.stderr
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("### creds-lint: errors found\n")
    assert "| error | CL101 removed-encryption-key | credhub\\_encryption\\_password | creds.yml |" in text
    assert output.read_text(encoding="utf-8") == "exit-code=1\n"


def test_inputs_are_word_lists_never_globs(pull_request: tuple[GitRepo, str, str], tmp_path: Path) -> None:
    repo, base, head = pull_request
    (repo.root / "not-a-var-store.yml").write_text("a: 1\n", encoding="utf-8")
    output = tmp_path / "github_output"
    env = {
        "BASE": base,
        "HEAD": head,
        "PATHS": "*.yml",
        "FAIL_ON": "error",
        "ARGS": "--no-config",
        "GITHUB_OUTPUT": str(output),
    }
    done = run_step("Check var-stores", repo, env)
    assert "not-a-var-store.yml" not in done.stdout + done.stderr  # `*.yml` was not expanded by the shell


def test_install_step_makes_a_venv_of_its_own(tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    venv = tmp_path / "venv"
    script = step("Install creds-lint")["run"]
    env = {"ACTION_PATH": str(ACTION.parent), "PYTHON": sys.executable, "VENV": str(venv), "GITHUB_OUTPUT": str(output)}
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert output.read_text(encoding="utf-8") == f"creds-lint={venv}/bin/creds-lint\n"
    version = subprocess.run([venv / "bin" / "creds-lint", "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("creds-lint ")
    frozen = subprocess.run(
        [venv / "bin" / "python", "-m", "pip", "freeze"], capture_output=True, text=True, check=True
    )
    pins = {
        line.strip()
        for line in (ACTION.parent / "constraints.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line
    }
    assert pins <= {line.strip() for line in frozen.stdout.splitlines()}


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
