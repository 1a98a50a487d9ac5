from __future__ import annotations

# `creds-lint renew` end to end on var-stores written by the real bosh CLI: openssl verifies the renewed
# certificates against the old and the renewed CA copies, every other entry stays byte-identical, and `bosh int`
# over the renewed store generates nothing and leaves it as it is. Refusals write nothing; no secret in output.
import json
import os
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from conftest import BoshInt, RunCli, WriteStore
from creds_lint import blocks, der
from factory import bosh_store
from test_sops import Sops, tool

pytestmark = pytest.mark.slow  # real bosh CLI and sops

VARIABLES = """\
variables:
- name: admin_password
  type: password
- name: credhub_encryption_password
  type: password
- name: default_ca
  type: certificate
  options: {is_ca: true, common_name: ca}
- name: director_ssl
  type: certificate
  options: {ca: default_ca, common_name: 192.168.56.6, alternative_names: [192.168.56.6]}
- name: nats_ca
  type: certificate
  options: {is_ca: true, common_name: default.nats-ca.bosh-internal}
- name: nats_server_tls
  type: certificate
  options:
    ca: nats_ca
    common_name: default.nats.bosh-internal
    alternative_names: [192.168.56.6, 10.254.50.4]
    extended_key_usage: [server_auth]
- name: nats_clients_director_tls
  type: certificate
  options: {ca: nats_ca, common_name: default.director.bosh-internal, extended_key_usage: [client_auth]}
- name: blobstore_ca
  type: certificate
  options: {is_ca: true, common_name: default.blobstore-ca.bosh-internal}
- name: blobstore_server_tls
  type: certificate
  options: {ca: blobstore_ca, common_name: 192.168.56.6, alternative_names: [192.168.56.6, 10.254.50.4]}
- name: uaa_jwt_signing_key
  type: rsa
- name: jumpbox_ssh
  type: ssh
"""
CERTIFICATES = (
    "blobstore_ca",
    "blobstore_server_tls",
    "default_ca",
    "director_ssl",
    "nats_ca",
    "nats_clients_director_tls",
    "nats_server_tls",
)
SIGNERS = {
    "blobstore_server_tls": "blobstore_ca",
    "director_ssl": "default_ca",
    "nats_clients_director_tls": "nats_ca",
    "nats_server_tls": "nats_ca",
}


@pytest.fixture
def bosh_written(tmp_path: Path, bosh_int: BoshInt) -> tuple[Path, Path]:
    """A manifest and the var-store the real bosh CLI generated from it (mode 0600)."""
    manifest = tmp_path / "manifest.yml"
    manifest.write_text(VARIABLES, encoding="utf-8")
    store = tmp_path / "creds.yml"
    bosh_int(manifest, store)
    store.chmod(0o600)
    return manifest, store


def values(path: Path) -> dict[str, object]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def field(path: Path, name: str, key: str) -> str:
    value = values(path)[name]
    assert isinstance(value, dict)
    text = value[key]
    assert isinstance(text, str)
    return text


def cert(path: Path, name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(field(path, name, "certificate").encode("ascii"))


def openssl_verify(ca_pem: str, leaf_pem: str, where: Path) -> subprocess.CompletedProcess[str]:
    ca, leaf = where / "ca.pem", where / "leaf.pem"
    ca.write_text(ca_pem, encoding="ascii")
    leaf.write_text(leaf_pem, encoding="ascii")
    return subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca), str(leaf)], capture_output=True, text=True, check=False
    )


def secrets_of(path: Path) -> list[str]:
    """Every private key line and password of the store: none may appear in any output."""
    found: list[str] = []
    for value in values(path).values():
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for key in ("private_key",):
                text = value.get(key)
                if isinstance(text, str):
                    found.extend(line for line in text.splitlines() if len(line) > 40)
    return found


def assert_no_secret(text: str, path: Path) -> None:
    assert "-----BEGIN" not in text
    assert "PRIVATE KEY" not in text
    for secret in secrets_of(path):
        assert secret not in text


def test_renew_all_on_a_bosh_written_store(
    cli: RunCli, bosh_written: tuple[Path, Path], bosh_int: BoshInt, tmp_path: Path
) -> None:
    manifest, store = bosh_written
    before = store.read_bytes()
    old = tmp_path / "old.yml"
    old.write_bytes(before)
    run = cli("renew", store, "--all", "--days", "730", "--format", "json")
    assert run.code == 0, run.out + run.err
    document = json.loads(run.out)
    assert document["written"] is True
    assert sorted(r["variable"] for r in document["renewed"]) == list(CERTIFICATES)
    for name in CERTIFICATES:
        renewed, previous = cert(store, name), cert(old, name)
        assert field(store, name, "private_key") == field(old, name, "private_key")
        assert der.tbs(renewed.tbs_certificate_bytes).subject == der.tbs(previous.tbs_certificate_bytes).subject
        skid = x509.SubjectKeyIdentifier
        assert renewed.extensions.get_extension_for_class(skid) == previous.extensions.get_extension_for_class(skid)
        assert renewed.serial_number != previous.serial_number
        assert renewed.not_valid_after_utc - renewed.not_valid_before_utc == timedelta(days=730)
    for leaf, ca in SIGNERS.items():
        for copy in (field(old, ca, "certificate"), field(store, ca, "certificate"), field(store, leaf, "ca")):
            result = openssl_verify(copy, field(store, leaf, "certificate"), tmp_path)
            assert result.returncode == 0, result.stdout + result.stderr
        old_leaf = openssl_verify(field(store, ca, "certificate"), field(old, leaf, "certificate"), tmp_path)
        assert old_leaf.returncode == 0, old_leaf.stderr  # what the old CA signed verifies under the renewed one
    old_blocks, new_blocks = blocks.split(before, source="old"), blocks.split(store.read_bytes(), source="new")
    assert old_blocks.names == new_blocks.names
    for name in old_blocks.names:
        if name not in CERTIFICATES:
            assert new_blocks.get(name).raw == old_blocks.get(name).raw  # type: ignore[union-attr]
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    backup = Path(document["backup"])
    assert backup.read_bytes() == before
    # bosh accepts the result as is: it generates nothing and leaves the file byte-identical
    renewed_bytes, mtime = store.read_bytes(), store.stat().st_mtime_ns
    bosh_int(manifest, store)
    assert store.read_bytes() == renewed_bytes
    assert store.stat().st_mtime_ns == mtime
    # and creds-lint's comparison of the two versions reports renewals only
    compared = cli(old, store, "--format", "json")
    assert compared.code == 0, compared.out
    assert {f["rule"] for f in compared.json["findings"]} == {"renewed-ca", "rotated-certificate"}
    assert_no_secret(run.out + run.err, old)


def test_renewing_one_ca_moves_its_trust_fields_and_nothing_else(
    cli: RunCli, bosh_written: tuple[Path, Path], bosh_int: BoshInt, tmp_path: Path
) -> None:
    manifest, store = bosh_written
    before = store.read_bytes()
    run = cli("renew", store, "nats_ca", "--days", "1000")
    assert run.code == 0, run.out + run.err
    renewed = field(store, "nats_ca", "certificate")
    assert field(store, "nats_ca", "ca") == renewed
    for leaf in ("nats_server_tls", "nats_clients_director_tls"):
        assert field(store, leaf, "ca") == renewed
        assert openssl_verify(renewed, field(store, leaf, "certificate"), tmp_path).returncode == 0
    old_blocks, new_blocks = blocks.split(before, source="old"), blocks.split(store.read_bytes(), source="new")
    changed = [n for n in old_blocks.names if old_blocks.get(n).raw != new_blocks.get(n).raw]  # type: ignore[union-attr]
    assert changed == ["nats_ca", "nats_clients_director_tls", "nats_server_tls"]
    lines = run.out.splitlines()
    assert lines[0].startswith(f"{store}: renewed 1 certificate (backup of the old version: ")
    trust = "nats_ca.ca, nats_clients_director_tls.ca, nats_server_tls.ca"
    assert f"  trust fields that now carry the renewed CAs: {trust}" in lines
    assert any(line.startswith("  nats_ca  until ") and "every agent" in line for line in lines)
    steps = lines[lines.index("Next steps, in order:") + 1 :]
    assert [s.split(":")[0].split(",")[0] for s in steps] == [
        "  1. bosh update-resurrection off",
        f"  2. bosh create-env ... --vars-store {store}",
        "  3. bosh -d DEPLOYMENT deploy",
        "  4. bosh update-resurrection on",
    ]
    mtime = store.stat().st_mtime_ns
    bosh_int(manifest, store)
    assert store.stat().st_mtime_ns == mtime
    assert_no_secret(run.out + run.err, store)


def test_dry_run_writes_nothing(cli: RunCli, write_store: WriteStore) -> None:
    path = write_store("creds.yml", bosh_store())
    before = path.read_bytes()
    run = cli("renew", path, "--expiring", "400", "--days", "400", "--dry-run")
    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == f"{path}: would renew 13 certificates (--dry-run: nothing written)"
    assert path.read_bytes() == before
    assert list(path.parent.glob("*.bak")) == []


def test_nothing_selected(cli: RunCli, write_store: WriteStore) -> None:
    path = write_store("creds.yml", bosh_store())
    run = cli("renew", path, "--expiring", "30")
    assert (run.code, run.out) == (0, f"{path}: nothing to renew\n")


def test_a_refusal_writes_nothing_and_says_why(cli: RunCli, write_store: WriteStore) -> None:
    path = write_store("creds.yml", bosh_store())
    before = path.read_bytes()
    later = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    run = cli("renew", path, "nats_ca", "--now", later, "--format", "json")
    assert run.code == 1
    assert run.err == f"creds-lint: error: {path}: renewal refused; nothing written\n"
    document = json.loads(run.out)
    assert document["refused"] is True
    assert document["written"] is False
    assert document["renewed"] == []
    assert document["refusals"][0].startswith("nats_ca: this CA expired on ")
    assert path.read_bytes() == before
    assert list(path.parent.glob("*.bak")) == []
    run = cli("renew", path, "nats_ca", "--now", later, "--expired-ok")
    assert run.code == 0, run.out
    assert (
        "warning: nats_ca had already expired: agents that hold its old copy fail until `bosh recreate --fix`"
    ) in run.out
    assert "  3. bosh -d DEPLOYMENT recreate --fix, for each deployment" in run.out


def test_a_mismatched_ca_key_is_refused(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    nats, default = store["nats_ca"], store["default_ca"]
    assert isinstance(nats, dict)
    assert isinstance(default, dict)
    store["nats_ca"] = {**nats, "private_key": default["private_key"]}
    path = write_store("creds.yml", store)
    before = path.read_bytes()
    run = cli("renew", path, "--all")
    assert run.code == 1
    assert "  - nats_ca: its private_key is not the key of its certificate" in run.out.splitlines()
    assert "  - nats_server_tls: the private_key of its CA nats_ca is not the key of nats_ca's certificate" in run.out
    assert path.read_bytes() == before
    assert_no_secret(run.out + run.err, path)


def test_the_manifest_duration_gives_the_validity(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    path = write_store("creds.yml", bosh_store())
    manifest = tmp_path / "manifest.yml"
    manifest.write_text(
        "variables:\n- name: director_ssl\n  type: certificate\n  options: {ca: default_ca, duration: 500}\n",
        encoding="utf-8",
    )
    later = (datetime.now(UTC) + timedelta(days=100)).isoformat()
    run = cli("renew", path, "director_ssl", "nats_ca", "--manifest", manifest, "--now", later, "--format", "json")
    assert run.code == 0, run.out
    renewed = {r["variable"]: r for r in json.loads(run.out)["renewed"]}
    start = datetime.fromisoformat(renewed["director_ssl"]["not_before"])
    assert datetime.fromisoformat(renewed["director_ssl"]["not_after"]) - start == timedelta(days=500)
    assert datetime.fromisoformat(renewed["nats_ca"]["not_after"]) - start == timedelta(days=365)
    assert "director_ssl (192.168.56.6) would be valid until" in json.loads(run.out)["warnings"][0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "say what to renew, in one way"),
        (("nats_ca", "--all"), "say what to renew, in one way"),
        (("--all", "--days", "0"), "0 is not between 1 and 36500 days"),
        (("--all", "--now", "yesterday"), "'yesterday' is not an ISO 8601 time"),
    ],
)
def test_usage_errors(
    cli: RunCli, write_store: WriteStore, args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_store("creds.yml", bosh_store())
    run = cli("renew", path, *args)
    assert run.code == 2
    assert message in run.err


def test_bad_input_is_one_line(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    path = write_store("creds.yml", bosh_store())
    run = cli("renew", path, "nats")
    assert (run.code, run.err) == (2, f"creds-lint: error: {path}: no variable 'nats' in the var-store\n")
    run = cli("renew", tmp_path / "missing.yml", "--all")
    assert run.code == 2
    assert run.err.count("\n") == 1


def test_a_file_that_is_not_private_keeps_its_mode_and_is_warned_about(cli: RunCli, write_store: WriteStore) -> None:
    path = write_store("creds.yml", bosh_store())
    os.chmod(path, 0o644)
    run = cli("renew", path, "director_ssl", "--days", "400")
    assert run.code == 0, run.out
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert "readable by" in run.err


def test_a_credhub_export_is_not_renewed(cli: RunCli, tmp_path: Path) -> None:
    from credhub_factory import export_yaml, from_var_store

    path = tmp_path / "export.yml"
    path.write_text(export_yaml(from_var_store(bosh_store(), prefix="/bosh-lite/cf")), encoding="utf-8")
    before = path.read_bytes()
    run = cli("renew", path, "--all")
    assert run.code == 2
    assert run.err == (
        f"creds-lint: error: {path}: is a CredHub export: renew writes bosh var-stores only (an export is not read "
        "back by bosh, and `credhub import` of it would overwrite every credential)\n"
    )
    assert path.read_bytes() == before


@pytest.fixture
def sops_with_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sops:
    """sops and an age key of its own (test_sops.Sops); creds-lint runs with no key until the test sets one."""
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    root, key = tmp_path / "work", tmp_path / "age.key"
    root.mkdir()
    subprocess.run([tool("age-keygen"), "-o", str(key)], capture_output=True, check=True)
    recipient = subprocess.run([tool("age-keygen"), "-y", str(key)], capture_output=True, text=True, check=True)
    tool("sops")
    return Sops(root=root, key=key, recipient=recipient.stdout.strip())


def test_a_sops_store_is_renewed_with_sops_set(
    cli: RunCli, sops_with_key: Sops, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sops = sops_with_key
    path = sops.encrypt("creds.yml", bosh_store(), readable=False)
    before = path.read_bytes()
    run = cli("renew", path, "--all")
    assert run.code == 2  # without the key: one line, nothing written
    assert run.err.count("\n") == 1
    assert path.read_bytes() == before
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(sops.key))
    run = cli("renew", path, "nats_ca", "--days", "730")
    assert run.code == 0, run.out + run.err
    encrypted_before, encrypted_after = yaml.safe_load(before), yaml.safe_load(path.read_bytes())
    for name in ("admin_password", "default_ca", "director_ssl"):
        assert encrypted_after[name] == encrypted_before[name]  # every other value keeps its ciphertext
    assert encrypted_after["nats_ca"] != encrypted_before["nats_ca"]
    plain = tmp_path / "plain.yml"
    plain.write_bytes(sops.run("decrypt", "--input-type", "yaml", "--output-type", "yaml", str(path)))
    renewed = field(plain, "nats_ca", "certificate")
    assert field(plain, "nats_server_tls", "ca") == renewed
    assert openssl_verify(renewed, field(plain, "nats_server_tls", "certificate"), tmp_path).returncode == 0
    assert_no_secret(run.out + run.err, plain)
