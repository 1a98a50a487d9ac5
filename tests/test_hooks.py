"""The pre-commit hooks' ``files:`` regex is generated from the default var-store globs, and means what they mean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from creds_lint import hooks
from creds_lint.globs import Globs, hook_regex
from creds_lint.targets import DEFAULT_VAR_STORE_GLOBS

ROOT = Path(__file__).resolve().parents[1]


def test_pre_commit_hooks_yaml_is_generated_from_the_default_globs() -> None:
    assert (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8") == hooks.pre_commit_hooks(), (
        ".pre-commit-hooks.yaml is out of date: run `python -m creds_lint.hooks > .pre-commit-hooks.yaml`"
    )


def test_every_hook_matches_files_by_the_regex_of_the_default_globs() -> None:
    listed = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in listed] == ["creds-lint", "creds-lint-strict"]
    assert {h["files"] for h in listed} == {hook_regex(DEFAULT_VAR_STORE_GLOBS)}


#: Pieces of the default globs, so that random paths often come near a var-store's name (and creds-lint's own).
_PIECES = ["creds", "credentials", "creds-lint", "creds_lint", "vars", "store", "state", "secrets", "x", "-", "_", "."]
_PIECES += [".yml", ".yaml"]
_COMPONENT = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=5).map("".join)
_GIT_COMPONENT = _COMPONENT.filter(lambda c: c not in (".", ".."))  # git has no such path
_PATH = st.lists(_GIT_COMPONENT, min_size=1, max_size=4).map("/".join)


@settings(max_examples=3000, deadline=None)
@given(_PATH)
@example("ops/creds-lint.yml")
@example("creds_lint.yaml/creds.yml")
@example("env/state/director-vars.yml")
@example("secrets/deep/vars.yml")
def test_the_hook_regex_matches_exactly_what_the_default_globs_match(path: str) -> None:
    """As pre-commit applies it (``re.search`` on the path from the top) and as creds-lint matches a path."""
    regex = re.compile(hook_regex(DEFAULT_VAR_STORE_GLOBS))
    assert bool(regex.search(path)) is DEFAULT_VAR_STORE_GLOBS.matches_path(path)


@pytest.mark.parametrize(
    "patterns",
    [
        ("creds.yml", "creds.yaml"),
        ("/creds.yml", "envs/**/creds.yml", "*.yml", "!manifest.yml"),
        ("secrets/", "**"),
        ("state/*vars*.yml", "!state/old-vars.yml", "!*lint*"),
    ],
)
def test_the_regex_of_other_globs_means_what_they_mean(patterns: tuple[str, ...]) -> None:
    globs = Globs(patterns=patterns)
    regex = re.compile(hook_regex(globs))
    paths = ["creds.yml", "a/creds.yaml", "envs/a/b/creds.yml", "manifest.yml", "x/secrets/y", "state/vars.yml"]
    paths += ["state/old-vars.yml", "a/state/vars.yml", "lint.yml", "secrets", "a.yml/b"]
    assert {p: bool(regex.search(p)) for p in paths} == {p: globs.matches_path(p) for p in paths}


def test_a_negation_before_a_pattern_has_no_single_regex() -> None:
    with pytest.raises(ValueError, match="a ! pattern before another pattern"):
        hook_regex(Globs(patterns=("*.yml", "!manifest.yml", "manifest-creds.yml")))
