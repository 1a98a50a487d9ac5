"""The hook as users install it: the real `pre-commit` tool, installed from this repository, run by `git commit`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from factory import bosh_store, leaf_rotation, password
from gitrepo import GitRepo, isolate_git

pytestmark = pytest.mark.slow  # the real pre-commit

PROJECT = Path(__file__).resolve().parent.parent
#: What pip needs to build and install creds-lint from a clone (pre-commit clones the repository at a commit).
PROJECT_FILES = ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml")


def committed_copy(destination: Path) -> tuple[Path, str]:
    """This working tree, committed as it is (uncommitted changes included) into a repository of its own, because
    pre-commit installs a hook repository from a commit."""
    copy = GitRepo.init(destination)
    for name in PROJECT_FILES:
        if (PROJECT / name).is_file():
            shutil.copy2(PROJECT / name, destination / name)
    shutil.copytree(
        PROJECT / "src", destination / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    )
    return destination, copy.commit("creds-lint as tested")


def test_pre_commit_refuses_a_lost_encryption_password_and_lets_a_rotation_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))  # one hook install for both commits
    monkeypatch.setenv("PRE_COMMIT_COLOR", "never")
    hook_repo, rev = committed_copy(tmp_path / "creds-lint")
    repo = GitRepo.init(tmp_path / "deployment")
    (repo.root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: creds-lint\n", encoding="utf-8"
    )
    store = bosh_store()
    repo.write("creds.yml", store)
    first = repo.commit("bosh create-env")
    install = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], cwd=repo.root, capture_output=True, text=True, check=False
    )
    assert install.returncode == 0, install.stderr

    # The incident: an edit that takes credhub_encryption_password with it, committed with `git commit -a`
    # (the hook then sees the commit's temporary index through GIT_INDEX_FILE).
    repo.write("creds.yml", {k: v for k, v in store.items() if k != "credhub_encryption_password"})
    refused = subprocess.run(
        ["git", "commit", "-a", "-m", "rotate certificates"], cwd=repo.root, capture_output=True, text=True, check=False
    )

    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert repo.git("rev-parse", "HEAD").strip() == first
    assert "creds-lint (BOSH var-stores)" in output
    assert "Failed" in output
    assert "error CL101 removed-encryption-key: credhub_encryption_password:" in output
    assert "1 error, 0 warnings, 0 info in 1 file" in output
    assert str(store["credhub_encryption_password"]) not in output

    # A leaf rotation under unchanged CAs, staged and committed the usual way: it goes through.
    repo.write("creds.yml", leaf_rotation(store))
    repo.git("add", "creds.yml")
    accepted = subprocess.run(
        ["git", "commit", "-m", "rotate leaf certificates"], cwd=repo.root, capture_output=True, text=True, check=False
    )

    output = accepted.stdout + accepted.stderr
    assert accepted.returncode == 0, output
    assert "creds-lint (BOSH var-stores)" in output
    assert "Passed" in output
    assert repo.git("log", "-1", "--format=%s").strip() == "rotate leaf certificates"
    rotated = repo.git("rev-parse", "HEAD").strip()

    # The var-store swapped for a symlink to an empty file: pre-commit passes no symlink, the hook finds it anyway.
    (repo.root / "empty.yml").write_text("{}\n", encoding="utf-8")
    (repo.root / "creds.yml").unlink()
    (repo.root / "creds.yml").symlink_to("empty.yml")
    repo.git("add", "creds.yml", "empty.yml")
    swapped = subprocess.run(
        ["git", "commit", "-m", "simplify"], cwd=repo.root, capture_output=True, text=True, check=False
    )

    output = swapped.stdout + swapped.stderr
    assert swapped.returncode == 1, output
    assert repo.git("rev-parse", "HEAD").strip() == rotated
    assert "creds.yml: error CL501 removed-file: the var-store became a symlink, which creds-lint does not" in output
    assert "1 error, 0 warnings, 0 info in 1 file" in output
    repo.git("reset", "-q", "--hard")

    # A var-store named by the configuration only: pre-commit's `files:` pattern does not pass it.
    (repo.root / ".creds-lint.yml").write_text("var-stores: [creds.yml, director.yml]\n", encoding="utf-8")
    repo.write("director.yml", store)
    configured = repo.commit("director var-store")
    repo.write("director.yml", {**store, "credhub_encryption_password": password("regenerated")})
    regenerated = subprocess.run(
        ["git", "commit", "-a", "-m", "bosh create-env"], cwd=repo.root, capture_output=True, text=True, check=False
    )

    output = regenerated.stdout + regenerated.stderr
    assert regenerated.returncode == 1, output
    assert repo.git("rev-parse", "HEAD").strip() == configured
    assert "error CL201 regenerated-encryption-key: credhub_encryption_password:" in output
    assert "1 error, 0 warnings, 0 info in 1 file" in output
