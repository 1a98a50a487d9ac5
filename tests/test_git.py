"""creds-lint inside git: pre-flight, staged, pull-request ranges and hook mode, on real repositories."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import RunCli
from creds_lint.errors import CredsLintError
from creds_lint.git import Repo, git_environment
from creds_lint.targets import DEFAULT_VAR_STORE_GLOBS, is_var_store
from factory import BOSH_PASSWORDS, bosh_store, incident, leaf_rotation, password
from gitrepo import GitRepo, isolate_git

pytestmark = pytest.mark.slow  # real git repositories

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """An empty repository (branch main), the current directory."""
    isolate_git(monkeypatch, tmp_path / "home")
    repo = GitRepo.init(tmp_path / "repo")
    monkeypatch.chdir(repo.root)
    return repo


def without(store: dict[str, object], *names: str) -> dict[str, object]:
    return {k: v for k, v in store.items() if k not in names}


def findings(run: Any) -> list[tuple[str, str | None, str, str | None]]:  # noqa: ANN401 - a conftest Run
    """(rule, variable, file, old_file) of every finding."""
    return [(f["rule"], f["variable"], f["file"], f["old_file"]) for f in run.json["findings"]]


# --- pre-flight -----------------------------------------------------------------------------------------------


def test_preflight_compares_the_edited_file_with_head(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("bosh create-env")
    old_line = repo.line_of("creds.yml", "credhub_encryption_password")
    repo.write("creds.yml", without(store, "credhub_encryption_password", "director_ssl"))

    run = cli("creds.yml", "--format", "json")

    assert run.code == 1
    assert findings(run) == [
        ("removed-encryption-key", "credhub_encryption_password", "creds.yml", "HEAD:creds.yml"),
        ("removed-certificate", "director_ssl", "creds.yml", "HEAD:creds.yml"),
    ]
    assert run.json["findings"][0]["old_line"] == old_line
    assert run.err == ""


def test_preflight_text_points_at_the_committed_line(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("bosh create-env")
    old_line = repo.line_of("creds.yml", "credhub_encryption_password")
    repo.write("creds.yml", without(store, "credhub_encryption_password"))

    run = cli("creds.yml")

    assert run.code == 1
    lines = run.out.splitlines()
    assert lines[0] == "creds.yml"
    assert lines[1].startswith(
        f"  HEAD:creds.yml:{old_line}: error CL101 removed-encryption-key: credhub_encryption_password: "
    )
    assert lines[-1] == "1 error, 0 warnings, 0 info in 1 file"


def test_preflight_unchanged_file_is_clean(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    repo.commit("bosh create-env")

    run = cli("creds.yml", "--format", "json")

    assert (run.code, run.json["findings"], run.json["summary"]["files"]) == (0, [], 1)


def test_preflight_from_another_directory_and_against_an_older_revision(
    repo: GitRepo, cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = bosh_store()
    repo.write("deploy/prod/creds.yml", store)
    repo.commit("bosh create-env")
    repo.write("deploy/prod/creds.yml", without(store, "nats_ca"))
    repo.commit("lost nats_ca")
    repo.write("deploy/prod/creds.yml", without(store, "nats_ca", "admin_password"))
    monkeypatch.chdir(tmp_path)
    path = str(repo.root / "deploy/prod/creds.yml")

    against_head = cli(path, "--format", "json")
    against_first = cli("--rev", "HEAD~1", path, "--format", "json")

    assert findings(against_head) == [("removed-password", "admin_password", path, "HEAD:deploy/prod/creds.yml")]
    assert sorted(findings(against_first)) == [
        ("removed-ca", "nats_ca", path, "HEAD~1:deploy/prod/creds.yml"),
        ("removed-password", "admin_password", path, "HEAD~1:deploy/prod/creds.yml"),
    ]


def test_preflight_on_a_deleted_file_reports_removed_file(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    repo.commit("bosh create-env")
    (repo.root / "creds.yml").unlink()

    run = cli("creds.yml", "--format", "json")

    assert run.code == 1
    assert findings(run) == [("removed-file", None, "creds.yml", "HEAD:creds.yml")]
    message = run.json["findings"][0]["message"]
    assert message.startswith("the var-store was deleted: bosh will generate all 29 of its variables anew")
    assert "2 encryption keys (credhub_encryption_password, uaa_encryption_key_1)" in message
    assert run.json["findings"][0]["details"]["encryption keys"] == "2"


def test_preflight_on_a_file_git_does_not_know(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    repo.commit("bosh create-env")
    repo.write("staging-creds.yml", bosh_store())

    run = cli("staging-creds.yml")

    assert run.code == 2
    assert run.err == (
        "creds-lint: error: staging-creds.yml: git does not know this file at HEAD "
        "(commit it first, or compare two files: creds-lint OLD NEW)\n"
    )


def test_preflight_outside_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: RunCli) -> None:
    isolate_git(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (tmp_path / "alone").mkdir()
    path = tmp_path / "alone" / "creds.yml"
    path.write_text("admin_password: x\n", encoding="utf-8")

    run = cli(path)

    assert run.code == 2
    assert run.out == ""
    assert run.err == (
        f"creds-lint: error: {path}: not inside a git work tree (to compare two files, give both: creds-lint OLD NEW)\n"
    )


def test_unknown_revision(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    repo.commit("bosh create-env")

    assert cli("--rev", "v9.9", "creds.yml").err == "creds-lint: error: unknown revision 'v9.9'\n"
    run = cli("--base", "origin/main")
    assert (run.code, run.err) == (2, "creds-lint: error: unknown revision 'origin/main'\n")


def test_two_paths_are_still_old_and_new(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    old = repo.write("a.yml", store)
    new = repo.write("b.yml", without(store, "nats_ca"))

    run = cli(old, new, "--format", "json")

    assert findings(run) == [("removed-ca", "nats_ca", str(new), str(old))]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give OLD NEW, a FILE to pre-flight, or a mode (--staged, --base REV, --hook)"),
        (("a", "b", "c"), "give OLD NEW, a FILE to pre-flight, or a mode (--staged, --base REV, --hook)"),
        (("--head", "HEAD"), "--head needs --base"),
        (("--staged", "--rev", "HEAD"), "--rev is for a pre-flight on FILEs; with --staged, --base or --hook it has"),
        (("--rev", "HEAD"), "--rev needs at least one FILE"),
        (("--staged", "--base", "main"), "argument --base: not allowed with argument --staged"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str, cli: RunCli) -> None:
    run = cli(*args)
    assert run.code == 2
    assert message in run.err


# --- staged ---------------------------------------------------------------------------------------------------


def test_staged_checks_the_index_not_the_work_tree(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.write("envs/staging-creds.yml", store)
    repo.write("manifest.yml", {"name": "bosh"})
    repo.commit("bosh create-env")
    repo.write("creds.yml", {**store, "credhub_encryption_password": password("regenerated")})
    repo.write("envs/staging-creds.yml", without(store, "director_ssl"))
    repo.write("manifest.yml", {"name": "other"})
    repo.git("add", "creds.yml", "envs/staging-creds.yml", "manifest.yml")
    repo.write("creds.yml", without(store, "nats_ca"))  # not staged: not part of the commit

    run = cli("--staged", "--format", "json")

    assert run.code == 1
    assert findings(run) == [
        ("regenerated-encryption-key", "credhub_encryption_password", "creds.yml", "HEAD:creds.yml"),
        ("removed-certificate", "director_ssl", "envs/staging-creds.yml", "HEAD:envs/staging-creds.yml"),
    ]
    assert run.json["summary"]["files"] == 2


def test_staged_text_report_is_grouped_by_file_and_exit_is_the_worst(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("a-creds.yml", store)
    repo.write("b-creds.yml", store)
    repo.commit("two environments")
    repo.write("a-creds.yml", without(store, "director_ssl"))
    repo.write("b-creds.yml", without(store, "nats_password"))
    repo.git("add", "--all")

    run = cli("--staged")

    assert run.code == 1
    lines = run.out.splitlines()
    assert [line for line in lines if not line.startswith(" ")] == [
        "a-creds.yml",
        "b-creds.yml",
        "Restore the old values before the next deploy, or BOSH generates new ones (or keeps broken ones):",
        "Only if a change is deliberate: read creds-lint --explain RULE (removed-password) and",
        "https://github.com/creds-lint/creds-lint/blob/main/docs/configuration.md#allow; --suggest-allow",
        "prints allow: entries that cover exactly these changes.",
        "If a change above is deliberate, allow exactly it in .creds-lint.yml with the reason "
        "(https://github.com/creds-lint/creds-lint/blob/main/docs/configuration.md):",
        "configuration: none (built-in defaults)",
        "1 error, 1 warning, 0 info in 2 files",
    ]
    assert (
        "  git checkout HEAD -- b-creds.yml   (at the top of the repository; it discards every change to the file)"
        in (lines)
    )
    report = lines[
        : lines.index(
            "Restore the old values before the next deploy, or BOSH generates new ones (or keeps broken ones):"
        )
    ]
    found = [line for line in report if line.startswith("  ") and not line.startswith("   ")]  # not the fix lines
    assert len(found) == 2
    assert re.match(r"  HEAD:a-creds\.yml:\d+: warning CL105 removed-certificate: director_ssl: ", found[0])
    assert re.match(r"  HEAD:b-creds\.yml:\d+: error CL104 removed-password: nats_password: ", found[1])
    assert cli("--staged", "a-creds.yml").code == 0  # a warning alone passes --fail-on error
    assert cli("--staged", "a-creds.yml", "--fail-on", "warning").code == 1


def test_staged_paths_limit_the_check_and_unchanged_paths_count(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.write("other.yml", store)
    repo.commit("bosh create-env")
    repo.write("creds.yml", without(store, "nats_ca"))
    repo.write("other.yml", without(store, "default_ca"))
    repo.git("add", "--all")

    run = cli("--staged", "other.yml", "--format", "json")

    assert findings(run) == [("removed-ca", "default_ca", "other.yml", "HEAD:other.yml")]
    repo.commit("both")
    unchanged = cli("--staged", "other.yml", "--format", "json")
    assert (unchanged.code, unchanged.json["findings"], unchanged.json["summary"]["files"]) == (0, [], 1)
    unknown = cli("--staged", "nothing.yml")
    assert (unknown.code, unknown.err) == (2, "creds-lint: error: nothing.yml: not known to git (not in the index)\n")


def test_staged_unmerged_file_cannot_be_checked(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("bosh create-env")
    repo.git("checkout", "-q", "-b", "other")
    repo.write("creds.yml", {**store, "hm_password": password("theirs")})
    repo.commit("theirs")
    repo.git("checkout", "-q", "main")
    repo.write("creds.yml", {**store, "hm_password": password("ours")})
    repo.commit("ours")
    merge = subprocess.run(["git", "merge", "-q", "other"], cwd=repo.root, capture_output=True, check=False)
    assert merge.returncode == 1

    run = cli("--staged")

    assert (run.code, run.out) == (2, "")
    assert run.err == "creds-lint: error: creds.yml: unmerged: resolve the merge conflict and stage the file\n"


def test_staged_from_a_subdirectory(repo: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    store = bosh_store()
    repo.write("deploy/creds.yml", store)
    repo.commit("bosh create-env")
    repo.write("deploy/creds.yml", without(store, "nats_ca"))
    repo.git("add", "--all")
    monkeypatch.chdir(repo.root / "deploy")

    with_path = cli("--staged", "creds.yml", "--format", "json")
    without_path = cli("--staged", "--format", "json")
    preflight = cli("creds.yml", "--format", "json")

    assert findings(with_path) == [("removed-ca", "nats_ca", "deploy/creds.yml", "HEAD:deploy/creds.yml")]
    assert findings(without_path) == findings(with_path)
    assert findings(preflight) == [("removed-ca", "nats_ca", "creds.yml", "HEAD:deploy/creds.yml")]


def test_user_git_configuration_does_not_change_what_is_read(
    repo: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = bosh_store()
    repo.write("deploy/creds.yml", store)
    repo.commit("bosh create-env")
    for key, value in [("diff.renames", "copies"), ("diff.relative", "true"), ("color.ui", "always")]:
        repo.git("config", key, value)
    repo.write("deploy/prod-creds.yml", {**store, "hm_password": ""})  # a copy: still a new file, audited alone
    repo.write("deploy/creds.yml", without(store, "nats_ca"))
    repo.git("add", "--all")
    monkeypatch.chdir(repo.root / "deploy")

    run = cli("--staged", "--format", "json")

    assert findings(run) == [
        ("removed-ca", "nats_ca", "deploy/creds.yml", "HEAD:deploy/creds.yml"),
        ("empty-value", "hm_password", "deploy/prod-creds.yml", None),
    ]


def test_staged_new_file_is_audited_alone(repo: GitRepo, cli: RunCli) -> None:
    repo.write("README.md", {"readme": "yes"})
    repo.commit("start")
    repo.write("creds.yml", {**bosh_store(), "hm_password": ""})
    repo.git("add", "creds.yml")

    run = cli("--staged", "--format", "json")

    assert findings(run) == [("empty-value", "hm_password", "creds.yml", None)]


def test_staged_before_the_first_commit(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    repo.git("add", "creds.yml")

    run = cli("--staged", "--format", "json")

    assert (run.code, run.json["findings"], run.json["summary"]["files"]) == (0, [], 1)


def test_staged_reads_the_index_a_hook_is_given(repo: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    """`git commit -a` runs hooks with GIT_INDEX_FILE pointing at a temporary index: that is the commit."""
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("bosh create-env")
    repo.write("creds.yml", without(store, "credhub_encryption_password"))
    commit_index = repo.root / ".git" / "next-index-42.lock"
    repo.git("read-tree", "HEAD", env={"GIT_INDEX_FILE": str(commit_index)})
    repo.git("add", "creds.yml", env={"GIT_INDEX_FILE": str(commit_index)})

    assert cli("--staged", "--format", "json").json["findings"] == []  # .git/index has no change
    monkeypatch.setenv("GIT_INDEX_FILE", str(commit_index))
    run = cli("--staged", "--format", "json")
    assert findings(run) == [
        ("removed-encryption-key", "credhub_encryption_password", "creds.yml", "HEAD:creds.yml"),
    ]


def test_linked_worktree_hook_environment(
    repo: GitRepo, cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a linked worktree git runs hooks with GIT_DIR set and no GIT_WORK_TREE: the hook's directory is the top
    of the work tree, even for a file in a subdirectory."""
    store = bosh_store()
    repo.write("deploy/creds.yml", store)
    repo.commit("bosh create-env")
    worktree = tmp_path / "linked"
    repo.git("worktree", "add", "-q", "-b", "rotate", str(worktree))
    (worktree / "deploy" / "creds.yml").write_text(
        (repo.root / "deploy" / "creds.yml").read_text(encoding="utf-8").replace("nats_ca:", "nats_ca_old:"),
        encoding="utf-8",
    )
    monkeypatch.chdir(worktree)
    monkeypatch.setenv("GIT_DIR", str(repo.root / ".git" / "worktrees" / "linked"))

    run = cli("deploy/creds.yml", "--format", "json")

    assert [(rule, variable) for rule, variable, *_ in findings(run)] == [
        ("removed-ca", "nats_ca"),
        ("added-variable", "nats_ca_old"),
    ]
    assert findings(run)[0][2:] == ("deploy/creds.yml", "HEAD:deploy/creds.yml")


def test_git_environment_makes_hook_paths_absolute() -> None:
    env = git_environment({"GIT_DIR": ".git", "GIT_INDEX_FILE": ".git/index.lock", "PATH": "/bin"}, "/srv/repo")

    assert env == {
        "GIT_DIR": "/srv/repo/.git",
        "GIT_INDEX_FILE": "/srv/repo/.git/index.lock",
        "GIT_WORK_TREE": "/srv/repo",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_LITERAL_PATHSPECS": "1",
        "PATH": "/bin",
    }


# --- pull-request range ---------------------------------------------------------------------------------------


@pytest.fixture
def pull_request(repo: GitRepo) -> GitRepo:
    """main has four var-stores; branch `feature` modifies, renames, deletes and adds one each, while main moves
    on with a change of its own."""
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.write("envs/old/prod-creds.yml", store)
    repo.write("envs/staging-creds.yml", store)
    repo.write("state/vars.yml", store)
    repo.write("manifest.yml", {"name": "bosh"})
    repo.commit("four environments")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("creds.yml", without(store, "nats_ca"))
    repo.git("mv", "envs/old/prod-creds.yml", "envs/prod-creds.yml")
    repo.write("envs/prod-creds.yml", without(store, "admin_password"))
    repo.git("rm", "-q", "envs/staging-creds.yml")
    # Another environment's var-store: its own secrets (with the same secrets, git would pair it with the deleted
    # one as a rename, and the two would be compared: a copy is a move).
    repo.write("envs/dev-creds.yml", {**incident(store, passwords=BOSH_PASSWORDS), "hm_password": ""})
    repo.write("manifest.yml", {"name": "bosh", "variables": [{"name": "nats_ca", "type": "certificate"}]})
    repo.commit("rework environments")
    repo.git("checkout", "-q", "main")
    repo.write("state/vars.yml", without(store, "default_ca"))  # on main after the fork: not the PR's change
    repo.commit("main moves on")
    repo.git("checkout", "-q", "feature")
    return repo


PR_FINDINGS = [
    ("removed-ca", "nats_ca", "creds.yml", "main:creds.yml"),
    ("empty-value", "hm_password", "envs/dev-creds.yml", None),
    ("removed-file", None, "envs/old/prod-creds.yml", "main:envs/old/prod-creds.yml"),
    ("removed-password", "admin_password", "envs/prod-creds.yml", "main:envs/old/prod-creds.yml"),
    ("removed-file", None, "envs/staging-creds.yml", "main:envs/staging-creds.yml"),
]


def test_range_modified_renamed_deleted_added(pull_request: GitRepo, cli: RunCli) -> None:
    run = cli("--base", "main", "--format", "json")

    fork = pull_request.git("merge-base", "main", "feature").strip()[:12]
    assert run.code == 1
    assert findings(run) == [(r, v, f, o.replace("main:", f"{fork}:") if o else o) for r, v, f, o in PR_FINDINGS]
    assert run.json["summary"]["files"] == 5  # the moved var-store: removed at its old path, compared at its new


def test_range_with_explicit_head_and_paths(pull_request: GitRepo, cli: RunCli) -> None:
    pull_request.git("checkout", "-q", "main")
    fork = pull_request.git("merge-base", "main", "feature").strip()

    everything = cli("--base", fork, "--head", "feature", "--format", "json")
    only_prod = cli("--base", fork, "--head", "feature", "envs/prod-creds.yml", "--format", "json")

    assert findings(everything) == [(r, v, f, o.replace("main:", f"{fork}:") if o else o) for r, v, f, o in PR_FINDINGS]
    assert findings(only_prod) == [  # one verdict whether or not the path is named: the move is a removal
        ("removed-file", None, "envs/old/prod-creds.yml", f"{fork}:envs/old/prod-creds.yml"),
        ("removed-password", "admin_password", "envs/prod-creds.yml", f"{fork}:envs/old/prod-creds.yml"),
    ]


def test_range_from_an_ancestor_names_the_base(pull_request: GitRepo, cli: RunCli) -> None:
    pull_request.git("merge", "-q", "--no-edit", "main")

    run = cli("--base", "main", "--format", "json")

    assert findings(run) == PR_FINDINGS


def test_range_var_store_globs(pull_request: GitRepo, cli: RunCli) -> None:
    pull_request.git("merge", "-q", "--no-edit", "main")

    run = cli(
        "--base", "main", "--var-store-glob", "envs/*-creds.yml", "--var-store-glob", "*/old/*", "--format", "json"
    )

    # creds.yml is no var-store by these globs, but its content reads as one: checked, and named for a glob
    assert findings(run) == [("unnamed-var-store", None, "creds.yml", "main:creds.yml"), *PR_FINDINGS]


def test_range_var_store_globs_from_the_configuration_file(pull_request: GitRepo, cli: RunCli) -> None:
    """var-stores: from the configuration committed on the base."""
    # In --base mode the configuration comes from the base revision: the team's list, committed on main.
    pull_request.git("checkout", "-q", "main")
    (pull_request.root / ".creds-lint.yml").write_text('var-stores: ["envs/*-creds.yml", "*/old/*"]\n', "utf-8")
    pull_request.commit("the team's var-store names", ".creds-lint.yml")
    pull_request.git("checkout", "-q", "feature")
    pull_request.git("merge", "-q", "--no-edit", "main")

    run = cli("--base", "main", "--format", "json")
    flag_wins = cli("--base", "main", "--var-store-glob", "creds.yml", "--format", "json")

    assert findings(run) == [("unnamed-var-store", None, "creds.yml", "main:creds.yml"), *PR_FINDINGS]
    # by the flag's glob only creds.yml is a var-store: the others are checked by their content, and named
    assert [f for f in findings(flag_wins) if f[0] != "unnamed-var-store"] == PR_FINDINGS
    assert {f[2] for f in findings(flag_wins) if f[0] == "unnamed-var-store"} == {
        "envs/dev-creds.yml",
        "envs/old/prod-creds.yml",
        "envs/prod-creds.yml",
        "envs/staging-creds.yml",
    }


def test_renamed_away_from_a_var_store_name_counts_as_deleted(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    repo.commit("bosh create-env")
    repo.git("mv", "creds.yml", "backup.txt")

    run = cli("--staged", "--format", "json")

    assert findings(run) == [("removed-file", None, "creds.yml", "HEAD:creds.yml")]


@pytest.fixture
def shallow(tmp_path: Path, repo: GitRepo) -> GitRepo:
    """A clone of `feature` with depth 1, as actions/checkout makes it, where main was fetched shallow too."""
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("first")
    repo.write("creds.yml", without(store, "hm_password"))
    repo.commit("second")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("creds.yml", without(store, "hm_password", "nats_ca"))
    repo.commit("third")
    clone = GitRepo(tmp_path / "clone")
    GitRepo(tmp_path).git("clone", "-q", "--depth", "1", "--branch", "feature", repo.root.as_uri(), str(clone.root))
    return clone


def test_shallow_clone_without_the_base(shallow: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shallow.root)

    run = cli("--base", "HEAD~1")

    assert run.code == 2
    assert run.err == (
        "creds-lint: error: unknown revision 'HEAD~1' (this is a shallow clone: fetch the missing history with "
        "`git fetch --deepen=100` (or `git fetch --unshallow`, or `fetch-depth: 0` for actions/checkout) and make "
        "sure the base branch itself was fetched)\n"
    )


def test_base_branch_not_fetched(shallow: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shallow.root)

    run = cli("--base", "origin/main")

    assert run.code == 2
    assert run.err.startswith(
        "creds-lint: error: unknown revision 'origin/main' (fetch it with "
        "`git fetch origin main:refs/remotes/origin/main`; this is a shallow clone: "
    )


def test_shallow_clone_without_the_fork_point(shallow: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(shallow.root)
    shallow.git("fetch", "-q", "--depth", "1", "origin", "main:main")

    run = cli("--base", "main")

    assert run.code == 2
    assert run.err.startswith("creds-lint: error: cannot find where the changes forked from 'main' (this is a shallow")
    shallow.git("fetch", "-q", "--unshallow", "origin", "main:main", "feature")
    fixed = cli("--base", "main", "--format", "json")
    assert findings(fixed) == [("removed-ca", "nats_ca", "creds.yml", "main:creds.yml")]


# --- symlinks, submodules: not regular files -----------------------------------------------------------------

BECAME_A_SYMLINK = (
    "the var-store became a symlink, which creds-lint does not follow, so it counts as deleted: "
    "bosh will generate all 29 of its variables anew on the next deploy: 2 encryption keys "
    "(credhub_encryption_password, uaa_encryption_key_1); "
)


def replace_with_symlink(repo: GitRepo, path: str, target: str) -> None:
    """The reviewer's recipe: the var-store swapped for a link to an empty file, both staged."""
    (repo.root / target).write_text("{}\n", encoding="utf-8")
    repo.git("rm", "-q", "--cached", path)
    (repo.root / path).unlink()
    (repo.root / path).symlink_to(target)
    repo.git("add", path, target)


def test_var_store_replaced_by_a_symlink_is_removed_in_every_mode(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    repo.commit("bosh create-env")
    replace_with_symlink(repo, "creds.yml", "empty.yml")

    runs = {
        "staged": cli("--staged", "--format", "json"),
        "hook with the link": cli("--hook", "creds.yml", "--format", "json"),
        "hook without it (pre-commit passes no symlink)": cli("--hook", "--format", "json"),
        "staged with the link": cli("--staged", "creds.yml", "--format", "json"),
    }
    repo.git("commit", "-q", "--no-verify", "-m", "swap for a symlink")
    runs["range"] = cli("--base", "HEAD~1", "--format", "json")
    runs["pre-flight against the revision before"] = cli("--rev", "HEAD~1", "creds.yml", "--format", "json")

    for mode, run in runs.items():
        old = "HEAD~1:creds.yml" if mode.startswith(("range", "pre-flight")) else "HEAD:creds.yml"
        assert (mode, run.code, findings(run)) == (mode, 1, [("removed-file", None, "creds.yml", old)])
        assert run.json["findings"][0]["message"].startswith(BECAME_A_SYMLINK), mode
        assert run.json["summary"]["files"] == 1, mode  # the link itself, not the empty file it points to


def test_preflight_on_a_var_store_that_is_a_symlink(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    repo.commit("bosh create-env")
    (repo.root / "creds.yml").rename(repo.root / "moved.yml")
    (repo.root / "creds.yml").symlink_to("moved.yml")  # an intact copy behind the link: still not followed

    in_work_tree = cli("creds.yml", "--format", "json")
    repo.commit("link")
    at_head = cli("creds.yml")

    assert (in_work_tree.code, findings(in_work_tree)) == (1, [("removed-file", None, "creds.yml", "HEAD:creds.yml")])
    assert in_work_tree.json["findings"][0]["message"].startswith(BECAME_A_SYMLINK)
    assert (at_head.code, at_head.out) == (2, "")
    assert at_head.err == (
        "creds-lint: error: creds.yml: is a symlink at HEAD, not a regular file "
        "(creds-lint does not follow symlinks: check the file it points to)\n"
    )


def test_preflight_on_a_var_store_replaced_by_a_directory(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    repo.commit("bosh create-env")
    (repo.root / "creds.yml").unlink()
    repo.write("creds.yml/vars.yml", bosh_store())

    run = cli("creds.yml", "--format", "json")

    assert (run.code, findings(run)) == (1, [("removed-file", None, "creds.yml", "HEAD:creds.yml")])
    assert run.json["findings"][0]["message"].startswith(
        "the var-store became a directory, which creds-lint does not read, so it counts as deleted: "
    )


def test_preflight_through_a_symlinked_folder_resolves_the_folder(
    repo: GitRepo, cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = bosh_store()
    repo.write("deploy/creds.yml", store)
    repo.commit("bosh create-env")
    repo.write("deploy/creds.yml", without(store, "nats_ca"))
    (tmp_path / "shortcut").symlink_to(repo.root / "deploy")
    monkeypatch.chdir(tmp_path)

    run = cli("shortcut/creds.yml", "--format", "json")

    assert findings(run) == [("removed-ca", "nats_ca", "shortcut/creds.yml", "HEAD:deploy/creds.yml")]


def test_symlink_committed_as_a_var_store_cannot_be_checked(repo: GitRepo, cli: RunCli) -> None:
    repo.write("state/prod.yml", bosh_store())
    repo.commit("bosh create-env")
    (repo.root / "creds.yml").symlink_to("state/prod.yml")
    repo.git("add", "creds.yml")

    staged = cli("--staged")
    hook = cli("--hook")
    repo.commit("link")
    unchanged = cli("--staged", "creds.yml")
    (repo.root / "creds.yml").unlink()
    repo.git("add", "creds.yml")
    deleted = cli("--staged")

    not_a_file = (
        "creds-lint: error: creds.yml: is a symlink{}, not a regular file "
        "(creds-lint does not follow symlinks: check the file it points to)\n"
    )
    assert (staged.code, staged.err) == (2, not_a_file.format(""))
    assert (hook.code, hook.err) == (2, not_a_file.format(""))
    assert (unchanged.code, unchanged.err) == (2, not_a_file.format(" in the index"))
    assert (deleted.code, deleted.err) == (
        2,
        "creds-lint: error: creds.yml: a symlink was deleted here: creds-lint cannot tell what it held "
        "(check the file it pointed to)\n",
    )


def test_var_store_replaced_by_a_submodule_is_removed(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    head = repo.commit("bosh create-env")
    repo.git("rm", "-q", "--cached", "creds.yml")
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{head},creds.yml")

    run = cli("--hook", "--format", "json")

    assert (run.code, findings(run)) == (1, [("removed-file", None, "creds.yml", "HEAD:creds.yml")])
    assert run.json["findings"][0]["message"].startswith(
        "the var-store became a submodule, which creds-lint does not read, so it counts as deleted: "
    )


def test_symlink_replaced_by_a_var_store_is_audited_alone(repo: GitRepo, cli: RunCli) -> None:
    repo.write("state/prod.yml", bosh_store())
    (repo.root / "creds.yml").symlink_to("state/prod.yml")
    repo.commit("linked")
    (repo.root / "creds.yml").unlink()
    repo.write("creds.yml", {**bosh_store(), "hm_password": ""})
    repo.git("add", "creds.yml")

    run = cli("--staged", "--format", "json")

    assert findings(run) == [("empty-value", "hm_password", "creds.yml", None)]


# --- hook mode ------------------------------------------------------------------------------------------------


def test_hook_checks_passed_files_and_every_staged_var_store(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.write("old-creds.yml", store)
    repo.write("custom.yml", store)
    repo.commit("bosh create-env")
    repo.write("creds.yml", without(store, "uaa_jwt_signing_key"))
    repo.write("custom.yml", without(store, "nats_ca"))
    repo.git("rm", "-q", "old-creds.yml")
    repo.git("add", "--all")

    passed = cli("--hook", "creds.yml", "--format", "json")
    nothing_passed = cli("--hook", "--format", "json")
    custom_passed = cli("--hook", "custom.yml", "--format", "json")

    custom = ("removed-ca", "nats_ca", "custom.yml", "HEAD:custom.yml")
    expected = [
        ("removed-keypair", "uaa_jwt_signing_key", "creds.yml", "HEAD:creds.yml"),
        ("unnamed-var-store", None, "custom.yml", "HEAD:custom.yml"),  # no glob names it: found by its content
        custom,
        ("removed-file", None, "old-creds.yml", "HEAD:old-creds.yml"),
    ]
    assert (findings(passed), passed.json["summary"]["files"]) == (expected, 3)
    assert (findings(nothing_passed), nothing_passed.json["summary"]["files"]) == (expected, 3)
    assert findings(custom_passed) == [expected[0], custom, expected[3]]  # passed: named, so no hint


@pytest.mark.parametrize("configured", ["file", "flag"])
def test_hook_finds_var_stores_named_by_the_configuration(repo: GitRepo, cli: RunCli, configured: str) -> None:
    """pre-commit's `files:` pattern matches the default names only: with `var-stores: [director.yml]` it passes
    nothing, and the hook finds the staged var-store by the configured globs itself."""
    store = bosh_store()
    repo.write("director.yml", store)
    # a default name, and no var-store (a manifest) by its content: not a var-store here, not checked
    repo.write("creds.yml", {"name": "bosh", "variables": [{"name": "nats_ca", "type": "certificate"}]})
    if configured == "file":
        (repo.root / ".creds-lint.yml").write_text("var-stores: [director.yml]\n", encoding="utf-8")
    repo.commit("bosh create-env")
    repo.write("director.yml", {**store, "credhub_encryption_password": password("regenerated")})
    repo.write("creds.yml", {"name": "bosh", "variables": []})
    repo.git("add", "--all")
    globs = ("--var-store-glob", "director.yml") if configured == "flag" else ()

    nothing_passed = cli("--hook", *globs, "--format", "json")
    director_passed = cli("--hook", *globs, "director.yml", "--format", "json")
    staged = cli("--staged", *globs, "--format", "json")

    regenerated = ("regenerated-encryption-key", "credhub_encryption_password", "director.yml", "HEAD:director.yml")
    assert (nothing_passed.code, findings(nothing_passed), nothing_passed.json["summary"]["files"]) == (
        1,
        [regenerated],
        1,
    )
    assert (findings(director_passed), director_passed.json["summary"]["files"]) == ([regenerated], 1)  # once
    assert findings(staged) == [regenerated]


def test_hook_with_pre_commit_refs_checks_the_range(
    pull_request: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", "main")
    monkeypatch.setenv("PRE_COMMIT_TO_REF", "feature")

    run = cli("--hook", "creds.yml", "--format", "json")
    nothing_passed = cli("--hook", "--format", "json")

    fork = pull_request.git("merge-base", "main", "feature").strip()[:12]
    expected = [(r, v, f, o.replace("main:", f"{fork}:") if o else o) for r, v, f, o in PR_FINDINGS]
    assert findings(run) == expected
    assert findings(nothing_passed) == expected


# --- which files are var-stores -------------------------------------------------------------------------------

NAMES = {
    "creds.yml": True,
    "deploy/prod/creds.yml": True,
    "creds.yaml": True,
    "prod-creds.yml": True,
    "envs/lab_creds.yml": True,
    "vars/director-vars-store.yml": True,
    "bosh/vars_store.yaml": True,
    "state/vars.yml": True,
    "env/state/director-vars.yml": True,
    "secrets/jumpbox-vars.yaml": True,
    "vars.yml": False,
    "manifest.yml": False,
    "creds.yml.bak": False,
    "creds-prod.yml": True,
    "envs/creds_lab.yaml": True,
    "prod.creds.yml": True,
    "credentials.yml": True,
    "deploy/prod-credentials.yaml": True,
    "credentials-lab.yml": True,
    "ops/creds-ops.yml": True,
    "ops/creds.yml.j2": False,
    "credentialsx.yml": False,
    "a-creds-b.yml": False,
    "creds/manifest.yml": False,
    "ops/creds-lint.yml": False,  # creds-lint's configuration
    "creds_lint.yaml": False,
    "state/state.json": False,
    "secrets/deep/vars.yml": False,
    "mycreds.yml": False,
}


@pytest.mark.parametrize(("path", "expected"), NAMES.items())
def test_default_globs(path: str, expected: bool) -> None:
    assert is_var_store(path, DEFAULT_VAR_STORE_GLOBS) is expected


def test_pre_commit_hooks_file_pattern_matches_the_default_globs() -> None:
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["creds-lint", "creds-lint-strict"]
    for hook in hooks:
        assert hook["pass_filenames"] is True
        assert hook["entry"].startswith("creds-lint --hook")
        pattern = re.compile(hook["files"])
        assert {path: bool(pattern.search(path)) for path in NAMES} == NAMES


def test_leaf_rotation_passes(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("bosh create-env")
    repo.write("creds.yml", leaf_rotation(store))
    repo.git("add", "creds.yml")

    run = cli("--staged", "--format", "json")

    assert run.code == 0
    assert {rule for rule, *_ in findings(run)} == {"rotated-certificate"}


def test_each_blob_is_read_once(repo: GitRepo) -> None:
    repo.write("creds.yml", {"admin_password": password("admin")})
    repo.commit("bosh create-env")
    git_repo = Repo.discover()
    oid = git_repo.blob_at("HEAD", "creds.yml")
    assert oid is not None
    first = git_repo.read_blob(oid, label="HEAD:creds.yml")
    (repo.root / ".git" / "objects" / oid[:2] / oid[2:]).unlink()  # git cannot read it any more

    assert git_repo.read_blob(oid, label="creds.yml") == first  # so this comes from the run's cache
    with pytest.raises(CredsLintError, match=r"^creds.yml: git cannot read this version \("):
        Repo.discover().read_blob(oid, label="creds.yml")


def test_base_mode_reads_the_configuration_of_the_base_revision(repo: GitRepo, cli: RunCli) -> None:
    """A branch cannot turn off the rule that blocks it: in --base mode the rules come from the base revision."""
    store = bosh_store()
    repo.write("creds.yml", store)
    (repo.root / ".creds-lint.yml").write_text("rules:\n  removed-certificate: error\n", encoding="utf-8")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("creds.yml", without(store, "credhub_encryption_password", "director_ssl"))
    (repo.root / ".creds-lint.yml").write_text(
        "rules:\n  removed-encryption-key: off\n  removed-certificate: info\nfail-on: error\n", encoding="utf-8"
    )
    repo.commit("drop the key, and the rule that would block it")

    run = cli("--base", "main", "--format", "json")
    assert run.code == 1
    assert sorted((f["rule"], f["variable"], f["severity"]) for f in run.json["findings"]) == [
        ("removed-certificate", "director_ssl", "error"),
        ("removed-encryption-key", "credhub_encryption_password", "error"),
        ("unapplied-configuration", None, "warning"),
    ]
    [unapplied] = [f for f in run.json["findings"] if f["rule"] == "unapplied-configuration"]
    assert unapplied["file"] == "HEAD:.creds-lint.yml"
    assert "sets rules, fail-on otherwise than the configuration in force" in unapplied["message"]
    assert run.json["configuration"] == {"file": "main:.creds-lint.yml", "off": [], "lowered": {}}
    # the same branch checked as a pre-flight or as staged changes uses the work tree's configuration
    assert cli("creds.yml", "--rev", "main", "--format", "json").code == 0


def test_base_mode_without_a_configuration_at_the_base_uses_the_defaults(repo: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("creds.yml", without(store, "credhub_encryption_password"))
    (repo.root / ".creds-lint.yml").write_text("rules:\n  CL101: off\n", encoding="utf-8")
    repo.commit("a configuration that appears with the change")
    run = cli("--base", "main")
    assert run.code == 1
    assert "error CL101 removed-encryption-key: credhub_encryption_password:" in run.out
    assert run.out.splitlines()[-2] == "configuration: none (built-in defaults)"


def test_base_mode_honours_the_allowances_of_the_head(repo: GitRepo, cli: RunCli) -> None:
    """Allowances added in the pull request are part of the reviewed change: they apply, the base's rules stay."""
    store = bosh_store()
    repo.write("creds.yml", store)
    (repo.root / "pyproject.toml").write_text("[tool.creds-lint]\nexpiry-days = 10\n", encoding="utf-8")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("creds.yml", {**store, "hm_password": password("regenerated hm")})
    (repo.root / ".creds-lint.yml").write_text(
        "rules:\n  regenerated-encryption-key: off\n"
        "allow:\n  - rule: regenerated-password\n    variable: hm_password\n    reason: documented as safe, OPS-42\n",
        encoding="utf-8",
    )
    repo.commit("regenerate hm_password on purpose")
    run = cli("--base", "main", "--format", "json")
    assert run.code == 0
    [finding] = [f for f in run.json["findings"] if f["rule"] == "regenerated-password"]
    assert (finding["variable"], finding["allowed"], finding["reason"]) == (
        "hm_password",
        True,
        "documented as safe, OPS-42",
    )
    assert run.json["configuration"] == {"file": "main:pyproject.toml", "off": [], "lowered": {}}


def test_base_empty_tree_audits_every_var_store_of_the_head(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: RunCli
) -> None:
    isolate_git(monkeypatch, tmp_path / "home")
    repo = GitRepo.init(tmp_path / "root")
    store = bosh_store()
    leaf, ca = store["nats_server_tls"], store["default_ca"]
    assert isinstance(leaf, dict)
    assert isinstance(ca, dict)
    store["nats_server_tls"] = {**leaf, "private_key": ca["private_key"]}
    repo.write("creds.yml", store)
    repo.commit("root commit")
    monkeypatch.chdir(repo.root)
    empty_tree = repo.git("hash-object", "-t", "tree", "/dev/null").strip()
    run = cli("--base", empty_tree, "--format", "json")
    assert run.code == 1, run.err  # audited alone: the leaf's key does not match its certificate
    assert run.json["summary"]["files"] == 1
    assert sorted(run.rules) == [("ca-key-in-leaf", "nats_server_tls"), ("key-mismatch", "nats_server_tls")]
    assert cli("--base", "0" * 40).code == 2  # any other id that names nothing is still an unknown revision
