"""One verdict whether or not paths are named, and no silent "0 files": renamed, moved and deleted var-stores, and
var-stores that no glob names, on real repositories (and through the real pre-commit)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import RunCli
from creds_lint.git import Repo
from creds_lint.loader import looks_like_var_store
from factory import bosh_store, dump_store, password
from gitrepo import GitRepo, isolate_git
from test_pre_commit import committed_copy

pytestmark = pytest.mark.slow  # real git repositories and the real pre-commit


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    isolate_git(monkeypatch, tmp_path / "home")
    repo = GitRepo.init(tmp_path / "repo")
    monkeypatch.chdir(repo.root)
    return repo


def findings(run: Any) -> list[tuple[str, str | None, str]]:  # noqa: ANN401 - a conftest Run
    return [(f["rule"], f["variable"], f["file"]) for f in run.json["findings"]]


def without(store: dict[str, object], *names: str) -> dict[str, object]:
    return {k: v for k, v in store.items() if k not in names}


# --- one verdict whether or not paths are named ---------------------------------------------------------------


@pytest.fixture
def moved(repo: GitRepo) -> GitRepo:
    """creds.yml moved into envs/prod/ (a var-store's name in another folder), on branch feature and staged."""
    repo.write("creds.yml", bosh_store())
    repo.commit("bosh create-env")
    repo.git("checkout", "-q", "-b", "feature")
    (repo.root / "envs" / "prod").mkdir(parents=True)
    repo.git("mv", "creds.yml", "envs/prod/creds.yml")
    return repo


MOVED = [("removed-file", None, "creds.yml")]


@pytest.mark.parametrize(
    "args",
    [
        ("--staged",),
        ("--staged", "envs/prod/creds.yml"),
        ("--staged", "creds.yml"),
        ("--hook",),
        ("--hook", "envs/prod/creds.yml"),  # what pre-commit passes: the new name only
    ],
)
def test_a_moved_var_store_is_removed_at_its_path(moved: GitRepo, cli: RunCli, args: tuple[str, ...]) -> None:
    run = cli(*args, "--format", "json")

    assert run.code == 1
    assert [f for f in findings(run) if f[0] == "removed-file"] == MOVED
    [removed] = [f for f in run.json["findings"] if f["rule"] == "removed-file"]
    assert removed["message"].startswith("the var-store was renamed or moved away from its path (bosh reads a")


@pytest.mark.parametrize("paths", [(), ("envs/prod/creds.yml",), ("creds.yml",)])
def test_a_moved_var_store_is_removed_in_a_pull_request(moved: GitRepo, cli: RunCli, paths: tuple[str, ...]) -> None:
    """The Action's `paths:` become PATHs of `--base`: the verdict is the same as without them."""
    moved.commit("move the var-store")

    run = cli("--base", "main", *paths, "--format", "json")

    assert run.code == 1
    assert [f for f in findings(run) if f[0] == "removed-file"] == MOVED


def test_a_var_store_renamed_to_another_name_with_its_path_named(repo: GitRepo, cli: RunCli) -> None:
    """`creds-lint --staged creds.yml` after `git mv creds.yml creds.yml.bak` compared the two and passed."""
    repo.write("creds.yml", bosh_store())
    repo.commit("bosh create-env")
    repo.git("mv", "creds.yml", "creds.yml.bak")

    for args in (("--staged", "creds.yml"), ("--staged",), ("--hook",)):
        run = cli(*args, "--format", "json")
        assert (run.code, findings(run)) == (1, MOVED), args


def test_a_moved_var_store_is_also_compared_at_its_new_path(moved: GitRepo, cli: RunCli) -> None:
    """What changed on the way is reported too, so that allowing the move (by file) hides nothing else."""
    store = bosh_store()
    moved.write("envs/prod/creds.yml", without(store, "credhub_encryption_password"))
    moved.git("add", "--all")
    (moved.root / ".creds-lint.yml").write_text(
        "allow:\n  - rule: removed-file\n    file: creds.yml\n    reason: one folder per environment, OPS-9\n",
        encoding="utf-8",
    )
    moved.git("add", ".creds-lint.yml")

    run = cli("--staged", "--format", "json")

    assert run.code == 1
    assert [(f["rule"], f["file"], f["allowed"]) for f in run.json["findings"]] == [
        ("removed-file", "creds.yml", True),
        ("removed-encryption-key", "envs/prod/creds.yml", False),
    ]


def test_a_deleted_var_store_with_its_path_named(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    repo.commit("bosh create-env")
    repo.git("rm", "-q", "creds.yml")

    run = cli("--staged", "creds.yml", "--format", "json")

    assert (run.code, findings(run)) == (1, [("removed-file", None, "creds.yml")])


# --- no silent "0 files" ----------------------------------------------------------------------------------------


def test_a_var_store_no_glob_names_is_found_by_its_content(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("bosh/director.yml", store)
    repo.write("manifest.yml", {"name": "bosh", "variables": [{"name": "nats_ca", "type": "certificate"}]})
    repo.commit("bosh create-env")
    repo.write("bosh/director.yml", without(store, "credhub_encryption_password"))
    repo.write("manifest.yml", {"name": "bosh", "variables": []})
    repo.git("add", "--all")

    run = cli("--staged", "--format", "json")
    text = cli("--staged")

    assert run.code == 1
    assert sorted(findings(run), key=str) == [
        ("removed-encryption-key", "credhub_encryption_password", "bosh/director.yml"),
        ("unnamed-var-store", None, "bosh/director.yml"),
    ]
    assert run.json["summary"]["files"] == 1  # the manifest is no var-store, by name or by content
    assert "warning CL502 unnamed-var-store: checked because its content reads as a bosh var-store" in text.out
    assert "add a glob for it to var-stores: in .creds-lint.yml" in text.out


def test_a_deleted_var_store_no_glob_names_is_removed(repo: GitRepo, cli: RunCli) -> None:
    repo.write("state/prod.yml", bosh_store())
    repo.commit("bosh create-env")
    repo.git("rm", "-q", "state/prod.yml")
    repo.commit("clean up")

    run = cli("--base", "HEAD~1", "--format", "json")

    assert run.code == 1
    assert findings(run) == [("removed-file", None, "state/prod.yml"), ("unnamed-var-store", None, "state/prod.yml")]


def test_a_glob_for_it_silences_the_hint(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("bosh/director.yml", store)
    (repo.root / ".creds-lint.yml").write_text("var-stores: [director.yml]\n", encoding="utf-8")
    repo.commit("bosh create-env")
    repo.write("bosh/director.yml", {**store, "hm_password": password("regenerated")})
    repo.git("add", "--all")

    run = cli("--staged", "--format", "json")

    assert findings(run) == [("regenerated-password", "hm_password", "bosh/director.yml")]


def test_what_reads_as_a_var_store() -> None:
    store = bosh_store()
    assert looks_like_var_store(dump_store(store).encode())
    assert looks_like_var_store(dump_store({"admin_password": password("a"), "hm_password": password("b")}).encode())
    assert not looks_like_var_store(b"name: bosh\nreleases: []\n")
    assert not looks_like_var_store(b"admin_password: letmein\n")  # a password bosh did not generate
    assert not looks_like_var_store(b"- repo: local\n")
    assert not looks_like_var_store(b"{}\n")
    assert not looks_like_var_store(b"a: [\n")
    mixed = {**store, "instance_groups": [{"name": "bosh"}]}
    assert not looks_like_var_store(dump_store(mixed).encode())


# --- the real pre-commit ----------------------------------------------------------------------------------------


def test_pre_commit_refuses_a_moved_and_an_unnamed_var_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("PRE_COMMIT_COLOR", "never")
    hook_repo, rev = committed_copy(tmp_path / "creds-lint")
    repo = GitRepo.init(tmp_path / "deployment")
    (repo.root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: creds-lint\n", encoding="utf-8"
    )
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.write("bosh/director.yml", store)
    first = repo.commit("two var-stores")
    install = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], cwd=repo.root, capture_output=True, text=True, check=False
    )
    assert install.returncode == 0, install.stderr

    (repo.root / "envs").mkdir()
    repo.git("mv", "creds.yml", "envs/creds.yml")  # pre-commit passes envs/creds.yml only
    moved = subprocess.run(["git", "commit", "-m", "move"], cwd=repo.root, capture_output=True, text=True, check=False)
    output = moved.stdout + moved.stderr
    assert moved.returncode == 1, output
    assert "creds.yml: error CL501 removed-file: the var-store was renamed or moved away from its path" in output
    assert repo.git("rev-parse", "HEAD").strip() == first
    repo.git("reset", "-q", "--hard")

    repo.write("bosh/director.yml", without(store, "credhub_encryption_password"))
    unnamed = subprocess.run(
        ["git", "commit", "-a", "-m", "create-env"], cwd=repo.root, capture_output=True, text=True, check=False
    )
    output = unnamed.stdout + unnamed.stderr
    assert unnamed.returncode == 1, output
    assert "error CL101 removed-encryption-key: credhub_encryption_password" in output
    assert "warning CL502 unnamed-var-store" in output
    assert repo.git("rev-parse", "HEAD").strip() == first


def test_prefetched_blobs_are_read_from_the_run_cache(repo: GitRepo) -> None:
    repo.write("a.yml", {"admin_password": password("a")})
    repo.write("b.yml", {"admin_password": password("b")})
    repo.commit("two files")
    git_repo = Repo.discover()
    oids = [git_repo.blob_at("HEAD", name) for name in ("a.yml", "b.yml")]
    assert None not in oids
    a, b = (oid for oid in oids if oid is not None)
    expected = {oid: repo.git("cat-file", "blob", oid).encode() for oid in (a, b)}
    git_repo.prefetch([a, b, "0" * 40])  # an object git does not have is left out
    for oid in (a, b):
        (repo.root / ".git" / "objects" / oid[:2] / oid[2:]).unlink()  # git cannot read them any more

    assert {oid: git_repo.read_blob(oid, label=oid) for oid in (a, b)} == expected


def test_git_calls_do_not_grow_with_the_changed_files(
    repo: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Configurations are looked up in every folder of the change, and every YAML file is read for its content:
    with one git call for each, not one per folder or file."""
    for i in range(60):
        (repo.root / f"deploy{i}").mkdir()
        (repo.root / f"deploy{i}" / "manifest.yml").write_text(f"name: d{i}\ninstance_groups: []\n", "utf-8")
    repo.commit("sixty deployments")
    for i in range(60):
        (repo.root / f"deploy{i}" / "manifest.yml").write_text(f"name: d{i}\ninstance_groups: [x]\n", "utf-8")
    repo.git("add", "--all")
    calls: list[str] = []
    real_run = subprocess.run

    def counted(args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - subprocess.run's own signature
        calls.append(str(args[1]) if args and args[0] == "git" else "")
        return real_run(args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counted)

    run = cli("--staged", "--format", "json")

    assert (run.code, run.json["summary"]["files"]) == (0, 0)
    assert len(calls) < 15, calls
