"""``creds-lint restore``: real var-stores, real git repositories, the real bosh CLI where bosh must agree, a kill
injected before the rename."""

from __future__ import annotations

import shutil
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import BoshInt, Run, RunCli
from creds_lint import blocks
from factory import BOSH_LEAVES, bosh_store, dump_store, incident, make_ca, make_leaf, password
from gitrepo import GitRepo, isolate_git

pytestmark = pytest.mark.slow  # real git repositories, git-crypt and the bosh CLI

STORE = bosh_store()
INCIDENT = incident(STORE)
DEFAULT_CA_LEAVES = sorted(n for n, (ca, *_) in BOSH_LEAVES.items() if ca == "default_ca")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    isolate_git(monkeypatch, tmp_path / "home")
    return GitRepo.init(tmp_path / "ops")


def _secrets(*stores: Mapping[str, object]) -> Iterator[str]:
    """Every password and every line of a PEM body in the stores."""
    for store in stores:
        for value in store.values():
            texts = [value] if isinstance(value, str) else list(value.values()) if isinstance(value, dict) else []
            for text in texts:
                assert isinstance(text, str)
                if "-----BEGIN" not in text and not text.startswith("ssh-rsa"):
                    yield text
                else:
                    yield from (line for line in text.splitlines() if len(line) > 40 and "-----" not in line)


def _no_secret(result: Run, *stores: Mapping[str, object]) -> None:
    for secret in _secrets(*stores):
        assert secret not in result.out
        assert secret not in result.err


def _committed(repo: GitRepo, store: Mapping[str, object], then: Mapping[str, object]) -> Path:
    """``creds.yml`` committed as ``store`` and changed on disk to ``then`` (mode 0600)."""
    repo.write("creds.yml", store)
    repo.commit("the var-store")
    path = repo.write("creds.yml", then)
    path.chmod(0o600)
    return path


def _blocks(path: Path | bytes) -> blocks.Blocks:
    data = path if isinstance(path, bytes) else path.read_bytes()
    return blocks.split(data, source="t")


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(path.name + ".*.bak"))


def test_the_incident_is_restored_only_the_encryption_password_changes(repo: GitRepo, cli: RunCli) -> None:
    path = _committed(repo, STORE, INCIDENT)
    before = path.read_bytes()
    result = cli("restore", path, "--from", "HEAD")
    assert result.code == 0, result.err
    after = _blocks(path)
    old, regenerated = _blocks(dump_store(STORE).encode()), _blocks(before)
    assert after.get("credhub_encryption_password").raw == old.get("credhub_encryption_password").raw  # type: ignore[union-attr]
    for block in after.blocks:
        if block.name != "credhub_encryption_password":
            assert block.raw == regenerated.get(block.name).raw  # type: ignore[union-attr]
    assert "credhub_encryption_password: restored, sha256:" in result.out
    assert "(flagged: regenerated-encryption-key)" in result.out
    (backup,) = _backups(path)
    assert backup.read_bytes() == before
    assert f"Backup: {backup}" in result.out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "Check of HEAD:creds.yml against the result:" in result.out
    assert "regenerated-encryption-key" not in result.out.split("against the result:")[1]
    assert "Next: bosh create-env ... --vars-store" in result.out
    _no_secret(result, STORE, INCIDENT)


def test_a_regenerated_password_restored_from_a_file_gives_the_old_file_byte_for_byte(
    tmp_path: Path, cli: RunCli
) -> None:
    source = tmp_path / "creds-before.yml"
    source.write_text(dump_store(STORE), encoding="utf-8")
    path = tmp_path / "creds.yml"
    path.write_text(dump_store({**STORE, "admin_password": password("other")}), encoding="utf-8")
    path.chmod(0o640)
    result = cli("restore", path, "--from", source)
    assert result.code == 0, result.err
    assert path.read_bytes() == source.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert "readable by its group (mode 0640)" in result.out
    _no_secret(result, STORE)


def test_a_removed_key_pair_is_put_back_in_bosh_order(repo: GitRepo, cli: RunCli) -> None:
    edited = {n: v for n, v in STORE.items() if n not in ("jumpbox_ssh", "nats_password")}
    path = _committed(repo, STORE, edited)
    result = cli("restore", path, "--from", "HEAD", "--format", "json")
    assert result.code == 0, result.err
    assert path.read_bytes() == dump_store(STORE).encode()
    restored = {item["name"]: item for item in result.json["restored"]}
    assert set(restored) == {"jumpbox_ssh", "nats_password"}
    assert restored["jumpbox_ssh"]["outcome"] == "put_back"
    assert restored["jumpbox_ssh"]["rule"] == "removed-keypair"
    assert restored["jumpbox_ssh"]["before"] == "missing"
    assert restored["nats_password"]["after"].startswith("sha256:")
    assert result.json["written"] is True
    assert result.json["check"]["findings"] == []
    _no_secret(result, STORE)


def test_an_older_revision_can_be_the_source(repo: GitRepo, cli: RunCli) -> None:
    repo.write("creds.yml", STORE)
    repo.commit("first")
    changed = {**STORE, "hm_password": password("hm@2")}
    repo.write("creds.yml", changed)
    repo.commit("second")
    path = repo.write("creds.yml", {**changed, "hm_password": password("hm@3")})
    result = cli("restore", path, "--from", "HEAD~1", "hm_password")
    assert result.code == 0, result.err
    assert path.read_bytes() == dump_store(STORE).encode()
    assert "from HEAD~1:creds.yml" in result.out


def test_a_ca_is_restored_with_its_dependents_and_refused_without(repo: GitRepo, cli: RunCli) -> None:
    path = _committed(repo, STORE, INCIDENT)
    before = path.read_bytes()
    refused = cli("restore", path, "--from", "HEAD", "default_ca")
    assert refused.code == 2
    assert f"restoring default_ca breaks what the regenerated CA signed since: {', '.join(DEFAULT_CA_LEAVES)}" in (
        refused.err
    )
    assert "--with-dependents" in refused.err
    assert path.read_bytes() == before
    assert _backups(path) == []
    result = cli("restore", path, "--from", "HEAD", "default_ca", "--with-dependents", "--format", "json")
    assert result.code == 0, result.err
    restored = {item["name"]: item for item in result.json["restored"]}
    assert set(restored) == {"default_ca", *DEFAULT_CA_LEAVES}
    assert {restored[n]["signer"] for n in DEFAULT_CA_LEAVES} == {"default_ca"}
    after, old, regenerated = _blocks(path), _blocks(dump_store(STORE).encode()), _blocks(before)
    for block in after.blocks:
        expected = old if block.name in restored else regenerated
        assert block.raw == expected.get(block.name).raw  # type: ignore[union-attr]
    flagged = {(f["rule"], f["variable"]) for f in result.json["check"]["findings"]}
    assert ("regenerated-ca", "default_ca") not in flagged
    assert ("regenerated-ca", "nats_ca") in flagged  # not named: still flagged, for the operator to see
    _no_secret(result, STORE, INCIDENT)


def test_a_dependent_the_source_lacks_is_removed_for_bosh_to_issue_again(tmp_path: Path, cli: RunCli) -> None:
    source = tmp_path / "old.yml"
    source.write_text(dump_store(STORE), encoding="utf-8")
    new_ca = make_ca("ca", key_slot=40)
    regenerated = {**STORE, "default_ca": new_ca.as_value(), "extra_tls": make_leaf("x", new_ca).as_value()}
    path = tmp_path / "creds.yml"
    path.write_text(dump_store(regenerated), encoding="utf-8")
    result = cli("restore", path, "--from", source, "default_ca", "--with-dependents", "--format", "json")
    assert result.code == 0, result.err
    outcome = {item["name"]: item["outcome"] for item in result.json["restored"]}
    assert outcome["extra_tls"] == "removed"
    assert "extra_tls" not in _blocks(path)
    assert path.read_bytes() == source.read_bytes()  # the leaves still carried the old CA: nothing else to do


def test_a_restored_certificate_that_has_expired_is_reported(tmp_path: Path, cli: RunCli) -> None:
    ca = make_ca("ca", key_slot=0)
    expired = make_leaf("old", ca, not_before=datetime.now(UTC) - timedelta(days=400), days=365)
    source = tmp_path / "old.yml"
    source.write_text(dump_store({"default_ca": ca.as_value(), "old_tls": expired.as_value()}), encoding="utf-8")
    path = tmp_path / "creds.yml"
    path.write_text(dump_store({"default_ca": ca.as_value()}), encoding="utf-8")
    result = cli("restore", path, "--from", source, "old_tls")
    assert result.code == 0, result.err
    assert "warning: old_tls: the restored certificate expired on" in result.out
    assert "renew it, keeping its key pair" in result.out
    assert f"creds-lint renew {path} old_tls (docs/renew.md)" in result.out


def test_as_rotation_keeps_the_new_key_and_writes_the_old_one_as_old(repo: GitRepo, cli: RunCli) -> None:
    path = _committed(repo, STORE, INCIDENT)
    # a kept copy is a rotation once the manifest reads it (the ops file the restore prints)
    manifest = repo.root / "manifest.yml"
    manifest.write_text(
        "name: bosh\ninstance_groups:\n- name: bosh\n  jobs:\n  - name: credhub\n    properties:\n"
        "      credhub:\n        encryption:\n          keys:\n          - active: false\n"
        "            key_properties:\n              encryption_password: ((credhub_encryption_password_old))\n"
        "variables: []\n",
        encoding="utf-8",
    )
    planned = cli("restore", path, "--from", "HEAD", "--as-rotation", "--dry-run", "--manifest", manifest)
    assert planned.code == 0, planned.err
    assert "regenerated-encryption-key" not in planned.out.split("against the planned result:")[1]
    result = cli("restore", path, "--from", "HEAD", "--as-rotation")
    assert result.code == 0, result.err
    after = _blocks(path)
    old_value = _blocks(dump_store(STORE).encode()).get("credhub_encryption_password").value  # type: ignore[union-attr]
    assert after.get("credhub_encryption_password_old").value == old_value  # type: ignore[union-attr]
    assert after.get("credhub_encryption_password").value == INCIDENT["credhub_encryption_password"]  # type: ignore[union-attr]
    assert "Ops file add-old-credhub-encryption-password.yml" in result.out
    assert "encryption_password: ((credhub_encryption_password_old))" in result.out
    assert "-o add-old-credhub-encryption-password.yml" in result.out
    # without the manifest, the check says what evidence is missing
    checked = result.out.split("against the result:")[1]
    assert "regenerated-encryption-key" in checked
    assert "references ((credhub_encryption_password_old))" in checked
    _no_secret(result, STORE, INCIDENT)


def test_as_rotation_is_refused_for_a_key_that_was_removed(repo: GitRepo, cli: RunCli) -> None:
    edited = {n: v for n, v in STORE.items() if n != "credhub_encryption_password"}
    path = _committed(repo, STORE, edited)
    before = path.read_bytes()
    result = cli("restore", path, "--from", "HEAD", "--as-rotation")
    assert result.code == 2
    assert "restore it without --as-rotation" in result.err
    assert path.read_bytes() == before


def test_dry_run_prints_the_plan_and_writes_nothing(repo: GitRepo, cli: RunCli) -> None:
    path = _committed(repo, STORE, INCIDENT)
    before = path.read_bytes()
    result = cli("restore", path, "--from", "HEAD", "--dry-run")
    assert result.code == 0
    assert "credhub_encryption_password: restored" in result.out
    assert "Dry run: nothing written." in result.out
    assert "against the planned result" in result.out
    assert path.read_bytes() == before
    assert _backups(path) == []


@pytest.mark.parametrize("flags", [(), ("--as-rotation",), ("default_ca", "--with-dependents")])
def test_nothing_to_restore_exits_0_and_writes_nothing(repo: GitRepo, cli: RunCli, flags: tuple[str, ...]) -> None:
    path = _committed(repo, STORE, STORE)
    before = path.read_bytes()
    result = cli("restore", path, "--from", "HEAD", *flags)
    assert result.code == 0, result.err
    assert "nothing to restore" in result.out
    assert path.read_bytes() == before
    assert _backups(path) == []


@pytest.mark.parametrize(
    ("file_text", "source_text", "message"),
    [
        ("a: 1\nb: x\na: 2\n", "a: 3\n", "a: written twice (lines 1 and 3)"),
        ("a: 1\n", "{a: 3, b: 4}\n", "the top level is a flow mapping"),
        ("a: short-password\n", "a:\n  private_key: k\n  public_key: p\n", "restore it anyway with --force"),
        ("a: 1\n", "b: 2\n", "a: not in"),
    ],
)
def test_what_is_refused_writes_nothing(
    tmp_path: Path, cli: RunCli, file_text: str, source_text: str, message: str
) -> None:
    path, source = tmp_path / "creds.yml", tmp_path / "old.yml"
    path.write_text(file_text, encoding="utf-8")
    source.write_text(source_text, encoding="utf-8")
    result = cli("restore", path, "--from", source, "a")
    assert result.code == 2
    assert message in result.err
    assert "short-password" not in result.err + result.out
    assert path.read_text(encoding="utf-8") == file_text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["creds.yml", "old.yml"]


def test_force_restores_a_name_that_changed_type(tmp_path: Path, cli: RunCli) -> None:
    path, source = tmp_path / "creds.yml", tmp_path / "old.yml"
    source.write_text(dump_store({"a": {"private_key": "k" * 20, "public_key": "p" * 20}}), encoding="utf-8")
    path.write_text(dump_store({"a": "x" * 20}), encoding="utf-8")
    result = cli("restore", path, "--from", source, "a", "--force")
    assert result.code == 0, result.err
    assert "restored (--force)" in result.out
    assert path.read_bytes() == source.read_bytes()


def test_a_file_changed_on_disk_during_the_restore_is_not_written(
    tmp_path: Path, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "old.yml"
    source.write_text(dump_store(STORE), encoding="utf-8")
    path = tmp_path / "creds.yml"
    path.write_text(dump_store(INCIDENT), encoding="utf-8")
    apply = blocks.Blocks.apply

    def apply_while_bosh_writes(self: blocks.Blocks, edits: object) -> blocks.Applied:
        applied = apply(self, edits)  # type: ignore[arg-type]
        with path.open("a", encoding="utf-8") as out:  # bosh generates a variable meanwhile
            out.write("new_password: abcdefghij0123456789\n")
        return applied

    monkeypatch.setattr(blocks.Blocks, "apply", apply_while_bosh_writes)
    result = cli("restore", path, "--from", source)
    assert result.code == 2
    assert "changed on disk since it was read" in result.err
    assert path.read_text(encoding="utf-8") == dump_store(INCIDENT) + "new_password: abcdefghij0123456789\n"


_KILLED = """
import os, signal, sys
from creds_lint.cli import main
os.replace = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
sys.exit(main(sys.argv[1:]))
"""


def test_a_kill_before_the_rename_leaves_the_old_file_whole(tmp_path: Path) -> None:
    source = tmp_path / "old.yml"
    source.write_text(dump_store(STORE), encoding="utf-8")
    path = tmp_path / "creds.yml"
    path.write_text(dump_store(INCIDENT), encoding="utf-8")
    before = path.read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", _KILLED, "restore", str(path), "--from", str(source)],
        capture_output=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    (backup,) = _backups(path)
    assert backup.read_bytes() == before


BOSH_MANIFEST = """\
variables:
- {name: admin_password, type: password}
- {name: credhub_encryption_password, type: password}
- {name: nats_password, type: password}
- {name: default_ca, type: certificate, options: {is_ca: true, common_name: ca}}
- name: director_ssl
  type: certificate
  options: {ca: default_ca, common_name: 10.0.0.6, alternative_names: [10.0.0.6], extended_key_usage: [server_auth]}
- {name: uaa_ssl, type: certificate, options: {ca: default_ca, common_name: 10.0.0.6, alternative_names: [10.0.0.6]}}
- {name: nats_ca, type: certificate, options: {is_ca: true, common_name: default.nats-ca.bosh-internal}}
- name: nats_server_tls
  type: certificate
  options: {ca: nats_ca, common_name: default.nats.bosh-internal, extended_key_usage: [server_auth]}
- {name: jumpbox_ssh, type: ssh}
- {name: uaa_jwt_signing_key, type: rsa}
"""


def test_bosh_generates_nothing_over_a_restored_complete_store(
    repo: GitRepo, cli: RunCli, bosh_int: BoshInt, tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.yml"
    manifest.write_text(BOSH_MANIFEST, encoding="utf-8")
    path = repo.root / "creds.yml"
    bosh_int(manifest, path)
    repo.commit("bosh wrote it")
    original = path.read_bytes()
    # The incident: certificates deleted by hand, and the encryption password with them; bosh regenerates them.
    edited = _blocks(path).apply(
        [blocks.Remove(name=n) for n in ("credhub_encryption_password", "default_ca", "director_ssl", "uaa_ssl")]
    )
    path.write_bytes(edited.data)
    bosh_int(manifest, path)
    regenerated = path.read_bytes()
    assert regenerated != original
    result = cli("restore", path, "--from", "HEAD", "default_ca", "credhub_encryption_password", "--with-dependents")
    assert result.code == 0, result.err
    restored = path.read_bytes()
    assert restored == original  # every regenerated entry restored: bosh's own file, byte for byte
    bosh_int(manifest, path)
    assert path.read_bytes() == restored  # complete and in bosh's format: bosh generates nothing


def test_bosh_agrees_with_a_partial_restore(repo: GitRepo, cli: RunCli, bosh_int: BoshInt, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yml"
    manifest.write_text(BOSH_MANIFEST, encoding="utf-8")
    path = repo.root / "creds.yml"
    bosh_int(manifest, path)
    repo.commit("bosh wrote it")
    path.write_bytes(_blocks(path).apply([blocks.Remove(name="credhub_encryption_password")]).data)
    bosh_int(manifest, path)  # regenerated
    result = cli("restore", path, "--from", "HEAD")
    assert result.code == 0, result.err
    restored = path.read_bytes()
    bosh_int(manifest, path)
    assert path.read_bytes() == restored


@pytest.mark.parametrize(
    ("source", "message"), [("no-such-rev", "no-such-rev"), ("HEAD", "git does not know this file at HEAD")]
)
def test_a_revision_without_the_file_is_a_clear_error(repo: GitRepo, cli: RunCli, source: str, message: str) -> None:
    repo.write("other.yml", {"a": "b"})
    repo.commit("something else")
    path = repo.write("creds.yml", STORE)
    result = cli("restore", path, "--from", source)
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert _backups(path) == []


def test_a_git_crypt_repository_is_restored_from_its_decrypted_history(repo: GitRepo, cli: RunCli) -> None:
    git_crypt = shutil.which("git-crypt")
    if git_crypt is None:
        pytest.skip("git-crypt is not installed (Debian package git-crypt)")
    subprocess.run([git_crypt, "init"], cwd=repo.root, check=True, capture_output=True)
    (repo.root / ".gitattributes").write_text("creds.yml filter=git-crypt diff=git-crypt\n", encoding="utf-8")
    path = _committed(repo, STORE, INCIDENT)
    assert repo.git("cat-file", "-p", "HEAD:.gitattributes")  # committed with the store
    blob = subprocess.run(["git", "cat-file", "-p", "HEAD:creds.yml"], cwd=repo.root, capture_output=True, check=True)
    assert blob.stdout.startswith(b"\0GITCRYPT\0")  # the history holds ciphertext
    result = cli("restore", path, "--from", "HEAD")
    assert result.code == 0, result.err
    restored = _blocks(path).get("credhub_encryption_password")
    assert restored is not None
    assert restored.raw == _blocks(dump_store(STORE).encode()).get("credhub_encryption_password").raw  # type: ignore[union-attr]
    assert not path.read_bytes().startswith(b"\0GITCRYPT\0")  # the work tree stays plaintext; git encrypts it
