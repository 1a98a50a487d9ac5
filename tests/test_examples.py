"""The bundled examples and the var-stores written by the real bosh CLI get the verdicts the README promises."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Run, RunCli

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "examples"
SHARED = ROOT.parent / "shared" / "examples" / "bosh-deployment"

INCIDENT_ERRORS = {
    ("regenerated-encryption-key", "credhub_encryption_password"),
    ("regenerated-ca", "default_ca"),
    ("regenerated-ca", "nats_ca"),
    ("regenerated-ca", "blobstore_ca"),
    ("regenerated-ca", "credhub_ca"),
}


def errors(result: Run) -> set[tuple[str, str]]:
    return {(f["rule"], f["variable"]) for f in result.json["findings"] if f["severity"] == "error"}


def test_bundled_incident_after_create_env(cli: RunCli) -> None:
    result = cli(BUNDLED / "incident/creds.yml", BUNDLED / "incident/creds-after-create-env.yml", "--format", "json")
    assert result.code == 1
    assert errors(result) == INCIDENT_ERRORS


def test_bundled_incident_after_the_edit(cli: RunCli) -> None:
    result = cli(BUNDLED / "incident/creds.yml", BUNDLED / "incident/creds-after-edit.yml", "--format", "json")
    assert result.code == 1
    assert errors(result) == {
        ("removed-encryption-key", "credhub_encryption_password"),
        ("removed-ca", "default_ca"),
        ("removed-ca", "nats_ca"),
        ("removed-ca", "blobstore_ca"),
        ("removed-ca", "credhub_ca"),
    }
    warnings = [f["variable"] for f in result.json["findings"] if f["rule"] == "removed-certificate"]
    assert len(warnings) == 9


def test_bundled_leaf_rotation_passes(cli: RunCli) -> None:
    result = cli(BUNDLED / "leaf-rotation/creds.yml", BUNDLED / "leaf-rotation/creds-after-rotation.yml")
    assert result.code == 0, result.out


needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/examples is not beside this checkout")


@needs_shared
def test_real_bosh_incident_fails(cli: RunCli) -> None:
    result = cli(SHARED / "creds.yml", SHARED / "creds-after-incident.yml", "--format", "json")
    assert result.code == 1
    assert errors(result) == INCIDENT_ERRORS


@needs_shared
def test_real_bosh_leaf_rotation_passes_with_nine_rotations(cli: RunCli) -> None:
    result = cli(SHARED / "creds.yml", SHARED / "creds-after-leaf-rotation.yml", "--format", "json")
    assert result.code == 0
    rotated = [f["variable"] for f in result.json["findings"] if f["rule"] == "rotated-certificate"]
    assert len(rotated) == 9
