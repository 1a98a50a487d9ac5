"""Which configuration a git mode trusts: the base revision in a pull request, the index for the next commit, the
work tree only up to its top, and the configuration next to each var-store. On real repositories."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import RunCli
from factory import bosh_store, password
from gitrepo import GitRepo, isolate_git
from test_pre_commit import committed_copy

pytestmark = pytest.mark.slow  # real git repositories and the real pre-commit

ALLOW_HM = "allow:\n  - rule: regenerated-password\n    variable: hm_password\n    reason: documented as safe, OPS-42\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """An empty repository (branch main) in ``tmp_path/outer/repo``, the current directory."""
    isolate_git(monkeypatch, tmp_path / "home")
    repo = GitRepo.init(tmp_path / "outer" / "repo")
    monkeypatch.chdir(repo.root)
    return repo


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def rules(run: Any) -> list[tuple[str, str | None, str, bool]]:  # noqa: ANN401 - a conftest Run
    """(rule, variable, file, allowed) of every finding."""
    return [(f["rule"], f["variable"], f["file"], f["allowed"]) for f in run.json["findings"]]


def without(store: dict[str, object], *names: str) -> dict[str, object]:
    return {k: v for k, v in store.items() if k not in names}


# --- pull requests: the base revision -------------------------------------------------------------------------


def test_base_mode_reads_a_named_config_from_the_base(repo: GitRepo, cli: RunCli) -> None:
    """`--config ops/creds-lint.yml` (as the Action's args: give it) is read from the base like a discovered one:
    the branch that rewrites it cannot turn off the rule that blocks it."""
    store = bosh_store()
    repo.write("creds.yml", store)
    write(repo.root / "ops" / "creds-lint.yml", "expiry-days: 10\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("creds.yml", without(store, "credhub_encryption_password"))
    write(repo.root / "ops" / "creds-lint.yml", "rules:\n  removed-encryption-key: off\n" + ALLOW_HM)
    repo.commit("drop the key and the rule")

    run = cli("--base", "main", "--config", "ops/creds-lint.yml", "--format", "json")

    assert run.code == 1
    assert sorted(rules(run)) == [
        ("removed-encryption-key", "credhub_encryption_password", "creds.yml", False),
        ("unapplied-configuration", None, "HEAD:ops/creds-lint.yml", False),
        ("unused-allowance", "hm_password", "HEAD:ops/creds-lint.yml", False),
    ]
    assert run.json["configuration"]["file"] == "main:ops/creds-lint.yml"
    [unapplied] = [f for f in run.json["findings"] if f["rule"] == "unapplied-configuration"]
    assert unapplied["severity"] == "warning"
    in_force = "sets rules, expiry-days otherwise than the configuration in force (main:ops/creds-lint.yml)"
    assert in_force in unapplied["message"]


def test_base_mode_named_config_added_by_the_branch_leaves_the_defaults(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("creds.yml", without(store, "credhub_encryption_password"))
    write(repo.root / ".ci" / "creds-lint.yml", "fail-on: error\nrules:\n  CL101: info\n")
    repo.commit("a configuration that appears with the change")

    run = cli("--base", "main", "--config", ".ci/creds-lint.yml", "--format", "json")

    assert run.code == 1
    assert sorted((f["rule"], f["severity"]) for f in run.json["findings"]) == [
        ("removed-encryption-key", "error"),
        ("unapplied-configuration", "warning"),
    ]
    [unapplied] = [f for f in run.json["findings"] if f["rule"] == "unapplied-configuration"]
    assert "otherwise than the configuration in force (the built-in defaults)" in unapplied["message"]


def test_a_branch_that_only_adds_allowances_is_not_reported(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("creds.yml", store)
    write(repo.root / ".creds-lint.yml", "expiry-days: 10\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("creds.yml", {**store, "hm_password": password("regenerated hm")})
    write(repo.root / ".creds-lint.yml", "expiry-days: 10\n" + ALLOW_HM)
    repo.commit("regenerate hm_password on purpose")

    run = cli("--base", "main", "--format", "json")

    assert run.code == 0
    assert rules(run) == [("regenerated-password", "hm_password", "creds.yml", True)]


def test_a_branch_that_lowers_a_rule_is_reported_and_fails_a_strict_check(repo: GitRepo, cli: RunCli) -> None:
    """The base's rules apply; the head's attempt to change them is a warning, so `--fail-on warning` (the
    strict hook, a strict CI job) fails on it."""
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    write(repo.root / ".creds-lint.yml", "var-stores: [nothing.yml]\n")
    repo.commit("hide every var-store")

    assert cli("--base", "main").code == 0
    run = cli("--base", "main", "--fail-on", "warning")

    assert run.code == 1
    assert "warning CL612 unapplied-configuration: the change under review sets var-stores otherwise" in run.out


# --- discovery stops at the top of the work tree ---------------------------------------------------------------


def test_a_configuration_above_the_repository_is_never_read(repo: GitRepo, cli: RunCli) -> None:
    write(repo.root.parent / ".creds-lint.yml", "rules:\n  removed-encryption-key: off\n")
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("bosh create-env")
    repo.write("creds.yml", without(store, "credhub_encryption_password"))

    preflight = cli("creds.yml", "--format", "json")
    repo.git("add", "creds.yml")
    staged = cli("--staged", "--format", "json")

    for run in (preflight, staged):
        assert run.code == 1
        assert [r for r, *_ in rules(run)] == ["removed-encryption-key"]
        assert run.json["configuration"]["file"] is None


# --- the next commit: the index ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["--staged", "--hook"])
def test_staged_and_hook_read_the_configuration_from_the_index(repo: GitRepo, cli: RunCli, mode: str) -> None:
    """An edit of .creds-lint.yml that is not staged is not part of the commit: it cannot weaken its check."""
    store = bosh_store()
    repo.write("creds.yml", store)
    write(repo.root / ".creds-lint.yml", "expiry-days: 10\n")
    repo.commit("bosh create-env")
    repo.write("creds.yml", without(store, "credhub_encryption_password"))
    repo.git("add", "creds.yml")
    write(repo.root / ".creds-lint.yml", "rules:\n  removed-encryption-key: off\n")  # in the work tree only

    run = cli(mode, "--format", "json")

    assert run.code == 1
    assert [r for r, *_ in rules(run)] == ["removed-encryption-key"]
    assert run.json["configuration"]["file"] == ".creds-lint.yml"

    repo.git("add", ".creds-lint.yml")  # staged, it is part of the commit the reviewer sees
    assert cli(mode).code == 0


def test_a_named_config_is_read_from_the_index_when_git_tracks_it(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("creds.yml", store)
    write(repo.root / "ops" / "creds-lint.yml", "expiry-days: 10\n")
    repo.commit("bosh create-env")
    repo.write("creds.yml", {**store, "hm_password": password("regenerated hm")})
    repo.git("add", "creds.yml")
    write(repo.root / "ops" / "creds-lint.yml", ALLOW_HM)

    assert cli("--staged", "--config", "ops/creds-lint.yml").code == 1
    repo.git("add", "ops/creds-lint.yml")
    assert cli("--staged", "--config", "ops/creds-lint.yml").code == 0


# --- a configuration next to its var-store ----------------------------------------------------------------------


@pytest.fixture
def two_environments(repo: GitRepo) -> GitRepo:
    """envs/a and envs/b, each with its var-store and its own .creds-lint.yml that allows regenerating its
    hm_password; the top has a configuration too. Both hm_passwords are regenerated and staged."""
    store = bosh_store()
    write(repo.root / ".creds-lint.yml", "expiry-days: 10\n")
    repo.write("creds.yml", store)
    for env in ("a", "b"):
        repo.write(f"envs/{env}/creds.yml", store)
        write(repo.root / "envs" / env / ".creds-lint.yml", ALLOW_HM.replace("OPS-42", f"OPS-{env}"))
    repo.commit("two environments")
    repo.git("checkout", "-q", "-b", "feature")
    for env in ("a", "b"):
        repo.write(f"envs/{env}/creds.yml", {**store, "hm_password": password(f"regenerated {env}")})
    repo.git("add", "--all")
    return repo


@pytest.mark.parametrize(
    "args",
    [
        ("--staged",),
        ("--hook",),
        ("--hook", "envs/b/creds.yml", "envs/a/creds.yml"),
        ("--staged", "envs/b/creds.yml", "envs/a/creds.yml"),
        ("--rev", "HEAD", "envs/b/creds.yml", "envs/a/creds.yml"),  # two pre-flights, from the top
    ],
)
def test_each_var_store_has_the_configuration_of_its_folder(
    two_environments: GitRepo, cli: RunCli, args: tuple[str, ...]
) -> None:
    run = cli(*args, "--format", "json")

    assert run.code == 0, run.out
    found = sorted((f["file"], f["allowed"], f["reason"]) for f in run.json["findings"])
    assert found == [
        ("envs/a/creds.yml", True, "documented as safe, OPS-a"),
        ("envs/b/creds.yml", True, "documented as safe, OPS-b"),
    ]
    assert run.json["configuration"]["file"] in (
        "envs/a/.creds-lint.yml, envs/b/.creds-lint.yml",
        "envs/b/.creds-lint.yml, envs/a/.creds-lint.yml",
    )


def test_each_var_store_has_the_configuration_of_its_folder_in_a_pull_request(
    two_environments: GitRepo, cli: RunCli
) -> None:
    two_environments.commit("regenerate both hm_passwords")

    run = cli("--base", "main", "--format", "json")

    assert run.code == 0, run.out
    assert sorted((f["file"], f["allowed"], f["reason"]) for f in run.json["findings"]) == [
        ("envs/a/creds.yml", True, "documented as safe, OPS-a"),
        ("envs/b/creds.yml", True, "documented as safe, OPS-b"),
    ]


def test_a_subfolder_configuration_does_not_reach_other_folders(two_environments: GitRepo, cli: RunCli) -> None:
    """envs/a's allowance covers envs/a's var-store only, and the top's configuration applies to creds.yml."""
    store = bosh_store()
    two_environments.write("creds.yml", {**store, "hm_password": password("regenerated top")})
    two_environments.git("add", "creds.yml")

    run = cli("--staged", "--format", "json")

    assert run.code == 1
    assert ("regenerated-password", "hm_password", "creds.yml", False) in rules(run)


def test_pre_commit_applies_each_folders_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real pre-commit, run by `git commit` at the top of the repository, with two environments that each
    allow their own change next to their var-store."""
    isolate_git(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("PRE_COMMIT_COLOR", "never")
    hook_repo, rev = committed_copy(tmp_path / "creds-lint")
    repo = GitRepo.init(tmp_path / "deployment")
    write(
        repo.root / ".pre-commit-config.yaml",
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: creds-lint\n",
    )
    store = bosh_store()
    for env in ("a", "b"):
        repo.write(f"envs/{env}/creds.yml", store)
    repo.commit("two environments")
    install = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], cwd=repo.root, capture_output=True, text=True, check=False
    )
    assert install.returncode == 0, install.stderr
    for env in ("a", "b"):
        repo.write(f"envs/{env}/creds.yml", {**store, "hm_password": password(f"regenerated {env}")})
    write(repo.root / "envs" / "a" / ".creds-lint.yml", ALLOW_HM)
    repo.git("add", "envs/a/.creds-lint.yml")

    refused = subprocess.run(
        ["git", "commit", "-a", "-m", "x"], cwd=repo.root, capture_output=True, text=True, check=False
    )
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert "envs/b/creds.yml" in output
    assert "error CL202 regenerated-password: hm_password" in output

    write(repo.root / "envs" / "b" / ".creds-lint.yml", ALLOW_HM)
    repo.git("add", "--all")
    accepted = subprocess.run(["git", "commit", "-m", "y"], cwd=repo.root, capture_output=True, text=True, check=False)
    output = accepted.stdout + accepted.stderr
    assert accepted.returncode == 0, output
    assert "Passed" in output


def test_the_hook_given_a_range_reads_the_configuration_of_its_base(
    repo: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pre-commit run --from-ref main --to-ref feature` (and pre-push) checks a range: like --base, the branch's
    own configuration cannot turn off the rule that blocks it."""
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("creds.yml", without(store, "credhub_encryption_password"))
    write(repo.root / ".creds-lint.yml", "rules:\n  removed-encryption-key: off\n")
    repo.commit("drop the key and the rule")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "main")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "feature")

    run = cli("--hook", "creds.yml", "--format", "json")

    assert run.code == 1
    assert sorted(r for r, *_ in rules(run)) == ["removed-encryption-key", "unapplied-configuration"]
    assert run.json["configuration"]["file"] is None
