"""One glob dialect for every pattern (creds_lint.globs): gitignore's, anchored at the configuration file's folder,
the same in ``var-stores:``, ``--var-store-glob`` and ``allow[].file``. On real repositories where it matters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import RunCli
from creds_lint import config
from creds_lint.errors import CredsLintError
from creds_lint.globs import Globs, Root, problem
from creds_lint.origin import Origin
from factory import bosh_store, password
from gitrepo import GitRepo, isolate_git


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """An empty repository (branch main) in ``tmp_path/repo``, the current directory."""
    isolate_git(monkeypatch, tmp_path / "home")
    repo = GitRepo.init(tmp_path / "repo")
    monkeypatch.chdir(repo.root)
    return repo


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def rules(run: Any) -> set[tuple[str, str | None, str, bool]]:  # noqa: ANN401 - a conftest Run
    """(rule, variable, file, allowed) of every finding."""
    return {(f["rule"], f["variable"], f["file"], f["allowed"]) for f in run.json["findings"]}


DIALECT = [
    # * and ? never cross a /
    ("envs/*.yml", "envs/a.yml", True),
    ("envs/*.yml", "envs/a/creds.yml", False),
    ("envs/?.yml", "envs/a.yml", True),
    ("*.yml", "deploy/creds.yml", True),
    # ** does
    ("envs/**/creds.yml", "envs/a/b/creds.yml", True),
    ("envs/**/creds.yml", "envs/creds.yml", True),
    ("envs/**", "envs/a/b/creds.yml", True),
    # without a / a pattern names a file in any folder; with one it is anchored
    ("creds.yml", "deploy/prod/creds.yml", True),
    ("envs/*.yml", "old/envs/a.yml", False),
    ("/creds.yml", "deploy/creds.yml", False),
    ("/creds.yml", "creds.yml", True),
    ("**/state/*vars*.yml", "env/state/vars.yml", True),
    # a folder names the files in it
    ("secrets/", "deploy/secrets/vars.yml", True),
    ("secrets/", "secrets.yml", False),
    # character classes, escapes
    ("[ab]-creds.yml", "b-creds.yml", True),
    ("[!ab]-creds.yml", "b-creds.yml", False),
    ("\\#creds.yml", "#creds.yml", True),
    ("envs/*.yml", "envs/a.yaml", False),
]


@pytest.mark.parametrize(("pattern", "path", "expected"), DIALECT)
def test_the_dialect(pattern: str, path: str, expected: bool) -> None:
    assert Globs(patterns=(pattern,)).matches_path(path) is expected


def test_the_last_pattern_that_matches_decides() -> None:
    globs = Globs(patterns=("*.yml", "!manifest*.yml", "manifest-creds.yml"))
    assert globs.matches_path("deploy/creds.yml")
    assert not globs.matches_path("deploy/manifest.yml")
    assert globs.matches_path("deploy/manifest-creds.yml")


def test_a_pattern_is_anchored_at_its_root() -> None:
    deploy = Root(folder="deploy")
    assert Globs(patterns=("envs/*.yml",), root=deploy).matches_path("deploy/envs/a.yml")
    assert not Globs(patterns=("envs/*.yml",), root=deploy).matches_path("envs/a.yml")
    # a name without / matches anywhere, outside the root too
    assert Globs(patterns=("creds.yml",), root=deploy).matches_path("other/creds.yml")
    assert not Globs(patterns=("/creds.yml",), root=deploy).matches_path("creds.yml")


def test_a_root_on_disk_is_the_same_from_any_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deploy" / "envs").mkdir(parents=True)
    globs = Globs(patterns=("envs/*.yml",), root=Root.on_disk(tmp_path / "deploy", top=tmp_path))
    monkeypatch.chdir(tmp_path)
    assert globs.matches_path("deploy/envs/a.yml")
    assert not globs.matches_path("envs/a.yml")
    monkeypatch.chdir(tmp_path / "deploy")
    assert globs.matches_path("envs/a.yml")
    assert globs.matches_path(str(tmp_path / "deploy" / "envs" / "a.yml"))
    assert not globs.matches_path("envs/a/creds.yml")
    # a version read from a revision is named from the top of the work tree
    assert globs.matches(Origin(path="deploy/envs/a.yml", rev="HEAD"))
    assert not globs.matches(Origin(path="envs/a.yml", rev="HEAD"))


BAD_GLOBS = [
    ("#creds.yml", "a glob that starts with # is a comment and matches nothing"),
    ("!", "not a valid glob"),
    ("creds\\", "not a valid glob"),
    ("[z-a]-creds.yml", "not a valid glob"),
    ("/", "a glob of slashes alone names no file"),
    ("  ", "an empty glob matches nothing"),
]


@pytest.mark.parametrize(("pattern", "message"), BAD_GLOBS)
def test_a_bad_glob_is_refused_at_its_place_and_never_quoted(tmp_path: Path, pattern: str, message: str) -> None:
    quoted = pattern.replace("\\", "\\\\")
    for text, place in (
        (f'fail-on: error\nvar-stores:\n  - creds.yml\n  - "{quoted}"\n', "line 4: var-stores[1]: "),
        (f'allow:\n  - rule: removed-file\n    file: "{quoted}"\n    reason: r\n', "line 3: allow[0].file: "),
    ):
        path = write(tmp_path / ".creds-lint.yml", text)
        with pytest.raises(CredsLintError) as caught:
            config.load_file(path)
        assert str(caught.value).startswith(f"{path}: {place}{message}")
        if len(pattern.strip()) > 2:  # "!" is in the message itself
            assert pattern not in str(caught.value).removeprefix(f"{path}: ")


@pytest.mark.slow  # a real git repository
def test_a_bad_glob_on_the_command_line_is_one_line_and_exit_2(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", bosh_store())
    repo.commit("base")
    run = cli("--staged", "--var-store-glob", "creds.yml", "--var-store-glob", "!")
    assert (run.code, run.out) == (2, "")
    assert run.err == (
        "creds-lint: error: --var-store-glob !: not a valid glob (a lone !, a trailing backslash or a bad [range])\n"
    )


def test_good_globs_have_no_problem() -> None:
    assert [problem(p) for p in ("creds.yml", "envs/**/creds.yml", "!manifest.yml", "\\#x.yml")] == [None] * 4


# --- one meaning in var-stores and allow ---------------------------------------------------------------------


@pytest.mark.slow  # a real git repository
def test_var_stores_and_allow_read_a_glob_alike(repo: GitRepo, cli: RunCli) -> None:
    """`envs/*.yml` names `envs/a.yml`, never `envs/a/creds.yml`, in `var-stores:` and in `allow[].file` alike."""
    repo.write("envs/a.yml", {"a_password": password("a")})
    repo.write("envs/a/creds.yml", {"b_password": password("b")})
    write(
        repo.root / ".creds-lint.yml",
        'var-stores: ["envs/*.yml"]\n'
        'allow:\n  - rule: removed-file\n    file: "envs/*.yml"\n    reason: environment a decommissioned, OPS-7\n',
    )
    repo.commit("two environments")
    repo.git("rm", "-q", "envs/a.yml", "envs/a/creds.yml")

    run = cli("--staged", "--format", "json")

    assert run.code == 1
    assert rules(run) == {
        ("removed-file", None, "envs/a.yml", True),
        ("removed-file", None, "envs/a/creds.yml", False),  # fnmatch's * crossed the /: it was allowed
        ("unnamed-var-store", None, "envs/a/creds.yml", False),  # no var-store glob names it
    }


@pytest.mark.slow  # a real git repository
def test_a_configuration_in_a_subfolder_anchors_its_globs_there(
    repo: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`deploy/.creds-lint.yml` says `envs/*.yml`: `deploy/envs/*.yml`, whether the run starts at the top (CI,
    pre-commit) or in the folder."""
    store = bosh_store()
    repo.write("deploy/envs/prod.yml", store)
    repo.write("envs/prod.yml", store)  # the same name, outside the folder: the top's defaults decide
    write(
        repo.root / "deploy" / ".creds-lint.yml",
        'var-stores: ["envs/*.yml"]\nallow:\n'
        "  - rule: regenerated-password\n    variable: hm_password\n    file: envs/prod.yml\n"
        "    reason: documented as safe, OPS-42\n",
    )
    repo.commit("base")
    changed = {**store, "hm_password": password("new hm")}
    repo.write("deploy/envs/prod.yml", changed)
    repo.write("envs/prod.yml", changed)
    repo.git("add", "--all")

    staged = cli("--staged", "--format", "json")
    assert rules(staged) == {
        ("regenerated-password", "hm_password", "deploy/envs/prod.yml", True),
        ("regenerated-password", "hm_password", "envs/prod.yml", False),
        ("unnamed-var-store", None, "envs/prod.yml", False),
    }

    from_top = cli("deploy/envs/prod.yml", "--format", "json")
    assert rules(from_top) == {("regenerated-password", "hm_password", "deploy/envs/prod.yml", True)}
    monkeypatch.chdir(repo.root / "deploy")
    in_folder = cli("envs/prod.yml", "--format", "json")
    assert rules(in_folder) == {("regenerated-password", "hm_password", "envs/prod.yml", True)}


@pytest.mark.slow  # the CLI in a subprocess under python -X importtime
def test_a_run_that_matches_no_glob_never_imports_pathspec(tmp_path: Path) -> None:
    from test_startup import imported

    code, packages = imported(tmp_path, {"a_password": password("a")}, {"a_password": password("a")})
    assert code == 0
    assert "creds_lint" in packages
    assert "pathspec" not in packages


@pytest.mark.slow  # a real git repository
def test_a_named_configuration_anchors_its_globs_at_the_top(
    repo: GitRepo, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--config .github/creds-lint.yml` (as the Action's args) says `deploy/envs/prod.yml` from the top of the
    repository, like git's core.excludesFile: read from the index, from disk, from any working directory."""
    store = bosh_store()
    repo.write("deploy/envs/prod.yml", store)
    write(
        repo.root / ".github" / "creds-lint.yml",
        'var-stores: ["deploy/envs/*.yml"]\nallow:\n'
        "  - rule: regenerated-password\n    variable: hm_password\n    file: deploy/envs/prod.yml\n"
        "    reason: documented as safe, OPS-42\n",
    )
    repo.commit("base")
    repo.write("deploy/envs/prod.yml", {**store, "hm_password": password("new hm")})
    repo.git("add", "--all")
    allowed = {("regenerated-password", "hm_password", "deploy/envs/prod.yml", True)}

    assert rules(cli("--staged", "--config", ".github/creds-lint.yml", "--format", "json")) == allowed
    assert rules(cli("deploy/envs/prod.yml", "--config", ".github/creds-lint.yml", "--format", "json")) == allowed
    monkeypatch.chdir(repo.root / "deploy")
    in_folder = cli("envs/prod.yml", "--config", "../.github/creds-lint.yml", "--format", "json")
    assert rules(in_folder) == {("regenerated-password", "hm_password", "envs/prod.yml", True)}
