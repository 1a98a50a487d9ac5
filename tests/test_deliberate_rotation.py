"""As a new user: an operator rotates nats_ca on purpose, allows exactly that change with a reason, and the check
passes; the same allowance does not hide a later, different change of nats_ca."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import yaml

from conftest import RunCli
from creds_lint.loader import parse_store
from factory import BOSH_CAS, BOSH_LEAVES, bosh_store, make_ca, make_leaf
from gitrepo import GitRepo, isolate_git
from test_pre_commit import committed_copy

pytestmark = pytest.mark.slow  # the real pre-commit

REASON = "nats_ca rotated on purpose: it expires in March (change OPS-1234)"


def rotate_nats_ca(store: Mapping[str, object], slot: int) -> dict[str, object]:
    """nats_ca regenerated with a new key (pool slot ``slot``) and its leaves re-issued by it, as an operator who
    deletes them and runs ``bosh create-env`` gets."""
    out = dict(store)
    ca = make_ca(BOSH_CAS["nats_ca"], key_slot=slot)
    out["nats_ca"] = ca.as_value()
    for name, (signer, cn, sans, eku) in BOSH_LEAVES.items():
        if signer == "nats_ca":
            out[name] = make_leaf(cn, ca, key_slot=slot + 1, sans=sans, extended_key_usage=eku).as_value()
    return out


def allowance_from(output: str) -> str:
    """The ``allow:`` block the text output suggests, with the operator's reason in place of ``...``."""
    lines = output.splitlines()
    start = lines.index("  allow:")
    entries = [line for line in lines[start + 1 :] if line.startswith("    - {")]
    assert len(entries) == 1, entries
    return "allow:\n" + entries[0].replace('reason: "..."', f'reason: "{REASON}"').removeprefix("  ") + "\n"


def fingerprint(path: Path, name: str) -> str:
    return parse_store(path.read_bytes(), source=str(path)).entries[name].fingerprint


def test_a_deliberate_nats_ca_rotation_with_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: RunCli
) -> None:
    isolate_git(monkeypatch, tmp_path / "home")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)  # text output, also when CI runs in GitHub Actions
    repo = GitRepo.init(tmp_path / "deployment")
    monkeypatch.chdir(repo.root)
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("bosh create-env")

    # The operator rotates nats_ca; the pre-flight stops it and says how to restore it (a regenerated CA is
    # destructive: no ready-to-paste allowance unless asked).
    creds = repo.write("creds.yml", rotate_nats_ca(store, 60))
    default = cli("creds.yml")
    assert default.code == 1
    assert "  allow:" not in default.out.splitlines()
    assert (
        "  git checkout HEAD -- creds.yml   (at the top of the repository; it discards every change to the file)"
        in default.out.splitlines()
    )
    # Asked with --suggest-allow, it says how to allow exactly this change.
    first = cli("creds.yml", "--suggest-allow")
    assert first.code == 1
    assert "error CL204 regenerated-ca: nats_ca.certificate:" in first.out
    new_fingerprint = fingerprint(creds, "nats_ca")
    assert f'    - {{rule: regenerated-ca, variable: "nats_ca", fingerprint: "{new_fingerprint}", reason: "..."}}' in (
        first.out.splitlines()
    )

    # They paste it into .creds-lint.yml with their reason: the check passes, the finding is shown as allowed.
    (repo.root / ".creds-lint.yml").write_text(allowance_from(first.out), encoding="utf-8")
    assert yaml.safe_load((repo.root / ".creds-lint.yml").read_text())["allow"][0]["fingerprint"] == new_fingerprint
    allowed = cli("creds.yml", "--format", "json")
    assert allowed.code == 0
    [regenerated] = [f for f in allowed.json["findings"] if f["rule"] == "regenerated-ca"]
    assert (regenerated["variable"], regenerated["allowed"], regenerated["reason"]) == ("nats_ca", True, REASON)
    assert allowed.json["summary"]["allowed"] == 1
    assert allowed.json["summary"]["error"] == 0
    text = cli("creds.yml")
    assert text.code == 0
    assert text.out.splitlines()[-1] == "0 errors, 0 warnings, 3 info in 1 file (1 allowed)"
    repo.commit("rotate nats_ca")

    # Later, nats_ca changes again (another key): the allowance was for the earlier value and hides nothing.
    later = repo.write("creds.yml", rotate_nats_ca(parse_yaml(creds), 70))
    again = cli("creds.yml", "--format", "json")
    assert again.code == 1
    by_rule = {f["rule"]: f for f in again.json["findings"]}
    assert (by_rule["regenerated-ca"]["allowed"], by_rule["regenerated-ca"]["severity"]) == (False, "error")
    unused = by_rule["unused-allowance"]
    assert (unused["file"], unused["line"], unused["variable"]) == (".creds-lint.yml", 2, "nats_ca")
    assert f"nats_ca now has fingerprint {fingerprint(later, 'nats_ca')}, not {new_fingerprint}" in unused["message"]


def parse_yaml(path: Path) -> dict[str, object]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def git_commit(repo: GitRepo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "commit", *args], cwd=repo.root, capture_output=True, text=True, check=False)


def test_a_deliberate_nats_ca_rotation_through_the_pre_commit_hook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_git(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("PRE_COMMIT_COLOR", "never")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)  # text output, also when CI runs in GitHub Actions
    hook_repo, rev = committed_copy(tmp_path / "creds-lint")
    repo = GitRepo.init(tmp_path / "deployment")
    (repo.root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: creds-lint\n"
        "        args: [--suggest-allow]\n",  # the team chose to see ready-to-paste allowances
        encoding="utf-8",
    )
    store = bosh_store()
    repo.write("creds.yml", store)
    first = repo.commit("bosh create-env")
    install = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"], cwd=repo.root, capture_output=True, text=True, check=False
    )
    assert install.returncode == 0, install.stderr

    # The rotation alone is refused, and the hook's output says how to restore, then (--suggest-allow) what to
    # allow.
    creds = repo.write("creds.yml", rotate_nats_ca(store, 60))
    refused = git_commit(repo, "-a", "-m", "rotate nats_ca")
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert repo.git("rev-parse", "HEAD").strip() == first
    assert "error CL204 regenerated-ca: nats_ca.certificate:" in output
    assert (
        "  git checkout HEAD -- creds.yml   (at the top of the repository; it discards every change to the file)"
        in (output.splitlines())
    )

    # With the allowance (reason and fingerprint) in .creds-lint.yml, the same commit goes through.
    (repo.root / ".creds-lint.yml").write_text(allowance_from(output), encoding="utf-8")
    repo.git("add", "creds.yml", ".creds-lint.yml")
    accepted = git_commit(repo, "-m", "rotate nats_ca (OPS-1234)")
    output = accepted.stdout + accepted.stderr
    assert accepted.returncode == 0, output
    assert "Passed" in output
    assert repo.git("log", "-1", "--format=%s").strip() == "rotate nats_ca (OPS-1234)"

    # A later, different change of nats_ca is refused although the allowance is still there.
    repo.write("creds.yml", rotate_nats_ca(parse_yaml(creds), 70))
    refused = git_commit(repo, "-a", "-m", "rotate nats_ca again")
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert "error CL204 regenerated-ca: nats_ca.certificate:" in output
    assert "[allowed:" not in output
    assert "warning CL610 unused-allowance: nats_ca:" in output
