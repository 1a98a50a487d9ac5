"""Kept copies need evidence: docs-bosh's rotations of credhub_encryption_password and blobstore_agent_password,
step by step with the real bosh CLI and the docs' own ops files, and the NATS CA clean-up."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import RunCli

pytestmark = pytest.mark.slow  # real bosh CLI

BOSH_YML = """\
name: bosh
instance_groups:
- name: bosh
  properties:
    agent:
      env:
        bosh:
          blobstores:
          - provider: dav
            options:
              user: agent
              password: ((blobstore_agent_password))
    blobstore:
      agent:
        user: agent
        password: ((blobstore_agent_password))
  jobs:
  - name: credhub
    properties:
      credhub:
        encryption:
          keys:
          - provider_name: internal
            key_properties:
              encryption_password: ((credhub_encryption_password))
            active: true
variables:
- name: admin_password
  type: password
- name: blobstore_agent_password
  type: password
- name: credhub_encryption_password
  type: password
"""

# The ops files of content/credhub-encryption-password-rotation.md and blobstore-agent-password-rotation.md.
OPS = {
    "rename-credhub-encryption-password.yml": """\
- type: remove
  path: /credhub_encryption_password
- type: replace
  path: /credhub_encryption_password_old?
  value: ((credhub_encryption_password_old))
""",
    "add-old-credhub-encryption-password.yml": """\
- type: replace
  path: /instance_groups/name=bosh/jobs/name=credhub/properties/credhub/encryption/keys/-
  value:
    active: false
    key_properties:
      encryption_password: ((credhub_encryption_password_old))
    provider_name: internal
""",
    "remove-old-credhub-encryption-password.yml": """\
- type: remove
  path: /credhub_encryption_password_old
""",
    "rename-blobstore-agent-password.yml": """\
- type: remove
  path: /blobstore_agent_password?
- type: replace
  path: /blobstore_agent_old_password?
  value: ((blobstore_agent_old_password))
""",
    "rotate-blobstore-agent-password.yml": """\
- type: replace
  path: /instance_groups/name=bosh/properties/agent/env/bosh/blobstores?/provider=dav/options/user
  value: agent-new
- type: replace
  path: /instance_groups/name=bosh/properties/blobstore/agent/user
  value: agent-new
- type: replace
  path: /instance_groups/name=bosh/properties/blobstore/agent/additional_users?
  value:
    - user: agent
      password: ((blobstore_agent_old_password))
""",
    "remove-old-blobstore-agent-password.yml": """\
- type: remove
  path: /blobstore_agent_old_password?
""",
}


@dataclass(frozen=True)
class Bosh:
    cli: Path
    folder: Path

    def run(self, *args: str | Path) -> bytes:
        result = subprocess.run(
            [str(self.cli), *map(str, args)], capture_output=True, check=False, cwd=self.folder, timeout=120
        )
        assert result.returncode == 0, result.stderr.decode(errors="replace")[-500:]
        return result.stdout

    def write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path

    def generate(self, name: str, start: Path, *ops: str) -> Path:
        """``create-env``: a copy of ``start`` with every variable the manifest declares and it lacks."""
        store = self.folder / name
        shutil.copyfile(start, store)
        self.run("int", "bosh.yml", *(a for op in ops for a in ("-o", op)), "--vars-store", store)
        return store

    def edit(self, name: str, store: Path, op: str, *variables: str) -> Path:
        """The docs' var-store edit: ``bosh interpolate creds.yml -o OP -v ... > NEW``."""
        return self.write(name, self.run("int", store, "-o", op, *(a for v in variables for a in ("-v", v))))

    def value(self, store: Path, name: str) -> str:
        return self.run("int", f"--path=/{name}", store).decode().strip()

    def manifest(self, name: str, *ops: str) -> Path:
        """The full interpolated manifest, without a vars store: variables stay ``((placeholders))``."""
        return self.write(name, self.run("int", "bosh.yml", *(a for op in ops for a in ("-o", op))))


@pytest.fixture
def bosh(bosh_cli: Path, tmp_path: Path) -> Bosh:
    (tmp_path / "bosh.yml").write_text(BOSH_YML, encoding="utf-8")
    for name, text in OPS.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "empty.yml").write_text("", encoding="utf-8")
    return Bosh(cli=bosh_cli, folder=tmp_path)


def rules(run_json: dict[str, object]) -> list[tuple[str, str, str]]:
    findings = run_json["findings"]
    assert isinstance(findings, list)
    return sorted((f["rule"], f["variable"], f["severity"]) for f in findings if f["severity"] != "info")


def only(run_json: dict[str, object], rule: str) -> dict[str, Any]:
    findings = run_json["findings"]
    assert isinstance(findings, list)
    [found] = [f for f in findings if f["rule"] == rule]
    assert isinstance(found, dict)
    return found


# --- credhub_encryption_password -----------------------------------------------------------------------------


#: variable -> (its kept name, the ops files that move it there, read it in the manifest, and remove it)
PROCEDURES = {
    "credhub_encryption_password": (
        "credhub_encryption_password_old",
        "rename-credhub-encryption-password.yml",
        "add-old-credhub-encryption-password.yml",
        "remove-old-credhub-encryption-password.yml",
    ),
    "blobstore_agent_password": (
        "blobstore_agent_old_password",
        "rename-blobstore-agent-password.yml",
        "rotate-blobstore-agent-password.yml",
        "remove-old-blobstore-agent-password.yml",
    ),
}


def procedure(bosh: Bosh, name: str) -> dict[str, Path]:
    """Every file of a documented rotation, made as the docs make them: the store, the var-store edit that moves
    the value to its kept name, the store after create-env, the store after the clean-up, and the manifests."""
    kept, rename, read, remove = PROCEDURES[name]
    creds = bosh.generate("creds.yml", bosh.folder / "empty.yml")
    old = bosh.value(creds, name)
    moved = bosh.edit("moved.yml", creds, rename, f"{kept}={old}")
    deployed = bosh.generate("deployed.yml", moved, read)
    assert bosh.value(deployed, name) != old
    return {
        "creds": creds,
        "moved": moved,
        "deployed": deployed,
        "retired": bosh.edit("retired.yml", deployed, remove),
        "reading": bosh.manifest("manifest-step-1.yml", read),
        "plain": bosh.manifest("manifest.yml"),
    }


@pytest.fixture
def credhub(bosh: Bosh) -> dict[str, Path]:
    return procedure(bosh, "credhub_encryption_password")


def test_moving_the_encryption_password_to_old_without_evidence_is_the_incident(
    cli: RunCli, credhub: dict[str, Path]
) -> None:
    run = cli(credhub["creds"], credhub["moved"], "--no-config", "--format", "json")
    assert run.code == 1
    assert rules(run.json) == [("removed-encryption-key", "credhub_encryption_password", "error")]
    message = only(run.json, "removed-encryption-key")["message"]
    assert "kept under credhub_encryption_password_old, but nothing shows that anything reads it (no --manifest)" in (
        message
    )
    assert "--manifest gives the full interpolated manifest" in message
    assert "references ((credhub_encryption_password_old))" in message
    assert "allowance" in message
    # after create-env generated the new key: the same, as a regenerated key
    after = cli(credhub["creds"], credhub["deployed"], "--no-config", "--format", "json")
    assert after.code == 1
    assert rules(after.json) == [("regenerated-encryption-key", "credhub_encryption_password", "error")]
    assert "references ((credhub_encryption_password_old))" in only(after.json, "regenerated-encryption-key")["message"]


def test_a_manifest_that_does_not_read_the_copy_is_no_evidence(cli: RunCli, credhub: dict[str, Path]) -> None:
    plain = credhub["plain"]
    run = cli(credhub["creds"], credhub["moved"], "--no-config", "--format", "json", "--manifest", plain)
    assert run.code == 1
    message = only(run.json, "removed-encryption-key")["message"]
    assert f"({plain} does not reference ((credhub_encryption_password_old)))" in message
    # a comment or a declaration is not a read
    commented = plain.with_name("commented.yml")
    commented.write_text(
        plain.read_text() + "# encryption_password: ((credhub_encryption_password_old))\n"
        "- name: credhub_encryption_password_old\n  type: password\n",
        encoding="utf-8",
    )
    again = cli(credhub["creds"], credhub["moved"], "--no-config", "--format", "json", "--manifest", commented)
    assert again.code == 1
    assert ("removed-encryption-key", "credhub_encryption_password", "error") in rules(again.json)


def test_the_documented_steps_with_the_interpolated_manifest_pass(cli: RunCli, credhub: dict[str, Path]) -> None:
    reading = credhub["reading"]
    for new in (credhub["moved"], credhub["deployed"]):
        run = cli(credhub["creds"], new, "--no-config", "--format", "json", "--manifest", reading)
        assert (run.code, rules(run.json)) == (0, []), run.out
        rotation = only(run.json, "documented-rotation")
        assert rotation["variable"] == "credhub_encryption_password"
        assert f"{reading} references ((credhub_encryption_password_old))" in rotation["message"]
    # the create-env commit alone adds the new key
    step = cli(credhub["moved"], credhub["deployed"], "--no-config", "--format", "json", "--manifest", reading)
    assert (step.code, rules(step.json)) == (0, [])


def test_an_allowance_is_evidence_too(cli: RunCli, credhub: dict[str, Path]) -> None:
    allow = "removed-encryption-key:credhub_encryption_password"
    run = cli(credhub["creds"], credhub["moved"], "--no-config", "--format", "json", "--allow", allow)
    assert run.code == 0
    assert only(run.json, "removed-encryption-key")["allowed"] is True


def test_removing_the_retired_copy_is_a_warning_never_a_removed_key(cli: RunCli, credhub: dict[str, Path]) -> None:
    for manifest in ((), ("--manifest", credhub["plain"])):
        run = cli(credhub["deployed"], credhub["retired"], "--no-config", "--format", "json", *manifest)
        assert run.code == 0
        assert rules(run.json) == [("retired-copy-removed", "credhub_encryption_password_old", "warning")]
        message = only(run.json, "retired-copy-removed")["message"]
        assert "safe only after the deploy that made the new credhub_encryption_password active" in message
    assert cli(credhub["deployed"], credhub["retired"], "--no-config", "--fail-on", "warning").code == 1
    # the ops file that reads the copy is still in the manifest: said in the same warning
    still = cli(credhub["deployed"], credhub["retired"], "--format", "json", "--manifest", credhub["reading"])
    assert "still references ((credhub_encryption_password_old))" in only(still.json, "retired-copy-removed")["message"]


def test_removing_the_copy_while_the_active_key_changed_is_still_an_error(
    cli: RunCli, bosh: Bosh, credhub: dict[str, Path]
) -> None:
    retired = credhub["retired"]
    changed = bosh.write("changed.yml", retired.read_bytes().replace(b"credhub_encryption_password:", b"was:"))
    regenerated = bosh.generate("regenerated.yml", changed)
    run = cli(credhub["deployed"], regenerated, "--no-config", "--format", "json")
    assert run.code == 1
    assert ("regenerated-encryption-key", "credhub_encryption_password", "error") in rules(run.json)
    assert ("removed-encryption-key", "credhub_encryption_password_old", "error") in rules(run.json)


# --- blobstore_agent_password: the infix name, a second user ---------------------------------------------------


@pytest.fixture
def agent(bosh: Bosh) -> dict[str, Path]:
    return procedure(bosh, "blobstore_agent_password")


def test_the_agent_password_kept_under_the_infix_name_needs_the_second_user(
    cli: RunCli, agent: dict[str, Path]
) -> None:
    unread = cli(agent["creds"], agent["moved"], "--no-config", "--format", "json")
    assert unread.code == 1
    assert rules(unread.json) == [("removed-password", "blobstore_agent_password", "error")]
    assert "kept under blobstore_agent_old_password" in only(unread.json, "removed-password")["message"]
    for new in (agent["moved"], agent["deployed"]):
        run = cli(agent["creds"], new, "--no-config", "--format", "json", "--manifest", agent["reading"])
        assert (run.code, rules(run.json)) == (0, []), run.out
        assert only(run.json, "documented-rotation")["details"]["partner"] == "blobstore_agent_old_password"
    regenerated = cli(agent["creds"], agent["deployed"], "--no-config", "--format", "json")
    assert rules(regenerated.json) == [("regenerated-password", "blobstore_agent_password", "error")]


def test_removing_the_old_agent_password_is_a_warning(cli: RunCli, agent: dict[str, Path]) -> None:
    run = cli(agent["deployed"], agent["retired"], "--no-config", "--format", "json")
    assert run.code == 0
    assert rules(run.json) == [("retired-copy-removed", "blobstore_agent_old_password", "warning")]
    assert only(run.json, "retired-copy-removed")["details"]["partner"] == "blobstore_agent_password"


# --- the NATS CA clean-up: NAME_2 promoted over NAME and removed -------------------------------------------------

NATS_YML = """\
name: bosh
variables:
- name: nats_ca
  type: certificate
  options: {is_ca: true, common_name: default.nats-ca.bosh-internal}
- name: nats_server_tls
  type: certificate
  options: {ca: nats_ca, common_name: default.nats.bosh-internal, extended_key_usage: [server_auth]}
- name: nats_ca_2
  type: certificate
  options: {is_ca: true, common_name: default.nats-ca.bosh-internal}
- name: nats_server_tls_2
  type: certificate
  options: {ca: nats_ca_2, common_name: default.nats.bosh-internal, extended_key_usage: [server_auth]}
"""
UPDATE_NATS_VAR_VALUES = """\
- type: replace
  path: /nats_ca
  value: ((nats_ca_2))
- type: replace
  path: /nats_server_tls
  value: ((nats_server_tls_2))
- type: remove
  path: /nats_ca_2
- type: remove
  path: /nats_server_tls_2
"""


def test_the_nats_ca_clean_up_stays_a_rotation(cli: RunCli, bosh: Bosh) -> None:
    (bosh.folder / "bosh.yml").write_text(NATS_YML, encoding="utf-8")
    (bosh.folder / "update_nats_var_values.yml").write_text(UPDATE_NATS_VAR_VALUES, encoding="utf-8")
    creds = bosh.generate("creds.yml", bosh.folder / "empty.yml")
    cleaned = bosh.write(
        "cleaned.yml", bosh.run("int", creds, "-o", "update_nats_var_values.yml", "--vars-file", creds)
    )
    run = cli(creds, cleaned, "--no-config", "--format", "json")
    assert (run.code, rules(run.json)) == (0, []), run.out
    steps = {f["variable"]: f["details"]["step"] for f in run.json["findings"] if f["rule"] == "documented-rotation"}
    assert steps == {
        "nats_ca": "promoted",
        "nats_server_tls": "promoted",
        "nats_ca_2": "retired",
        "nats_server_tls_2": "retired",
    }
