"""``creds-lint restore NEW_EXPORT --from OLD_EXPORT [NAME...] --import-file OUT``: an import file with only what
to restore, and the signers its ``ca_name`` needs; the exports themselves are never written."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from conftest import RunCli
from credhub_factory import replaced
from creds_lint.loader import load_store
from factory import password
from test_credhub import PREFIX, assert_no_secret, cf_credentials, new_ca_tree, write


def digests(*paths: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


def test_a_regenerated_encryption_key_is_put_back_alone(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    key = f"{PREFIX}/cc_db_encryption_key"
    rotated_on_purpose = f"{PREFIX}/nats_ca"
    after = replaced(new_ca_tree(credentials, rotated_on_purpose, slot=40, leaves=True), key, password("new"))
    old, new = write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.json", after, "json")
    before = digests(old, new)
    out = tmp_path / "restore.yml"
    run = cli("restore", new, "--from", old, "--import-file", out)
    assert run.code == 0, run.err
    assert digests(old, new) == before  # the exports are never written
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert [e.name for e in load_store(out)] == [key]
    assert f"credhub import -f {out}" in run.out
    assert "flagged: regenerated-encryption-key" in run.out
    assert "regenerated-ca" in run.out  # the check after the import: the CA rotation stays
    assert_no_secret(credentials + after, run.out, run.err)


def test_a_named_leaf_brings_the_signer_it_needs_and_refuses_to_break_the_others(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    ca = f"{PREFIX}/nats_ca"
    leaf = f"{PREFIX}/nats_server_tls"
    after = new_ca_tree(credentials, ca, slot=40, leaves=True)
    old, new = write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.yml", after, "yaml")
    out = tmp_path / "restore.yml"
    refused = cli("restore", new, "--from", old, leaf, "--import-file", out)
    assert refused.code == 2
    assert f"restoring {ca} breaks what the regenerated CA signed since" in refused.err
    assert f"{PREFIX}/nats_clients_director_tls" in refused.err
    assert not out.exists()
    run = cli("restore", new, "--from", old, leaf, "--import-file", out, "--with-dependents", "--format", "json")
    assert run.code == 0, run.err
    document = json.loads(run.out)
    reasons = {item["name"]: item["reason"] for item in document["restored"]}
    assert reasons == {
        ca: "signer",
        leaf: "named",
        f"{PREFIX}/nats_clients_director_tls": "dependent",
        f"{PREFIX}/nats_clients_health_monitor_tls": "dependent",
    }
    written = load_store(out)
    assert next(e.name for e in written) == ca  # signers first
    old_store = load_store(old)
    assert all(e.value == old_store.get(e.name).value for e in written)  # type: ignore[union-attr]
    assert document["check"]["summary"]["error"] == 0
    assert document["next"].startswith(f"credhub import -f {out}")


def test_a_leaf_under_an_unchanged_ca_comes_alone(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    leaf = f"{PREFIX}/director_ssl"
    after = replaced(
        credentials, leaf, {**next(c for c in cf_credentials() if c["name"] == f"{PREFIX}/uaa_ssl")["value"]}
    )
    old, new = write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.yml", after, "yaml")
    out = tmp_path / "restore.yml"
    run = cli("restore", new, "--from", old, leaf, "--import-file", out)
    assert run.code == 0, run.err
    assert [e.name for e in load_store(out)] == [leaf]


def test_dry_run_nothing_to_restore_and_refusals(tmp_path: Path, cli: RunCli, write_store: object) -> None:
    credentials = cf_credentials()
    after = replaced(credentials, f"{PREFIX}/nats_password", password("other"))
    old, new = write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.yml", after, "yaml")
    out = tmp_path / "restore.yml"
    dry = cli("restore", new, "--from", old, "--import-file", out, "--dry-run")
    assert dry.code == 0
    assert "Dry run: nothing written." in dry.out
    assert not out.exists()
    same = cli("restore", old, "--from", old, "--import-file", out)
    assert same.code == 0
    assert "nothing to restore" in same.out
    assert not out.exists()
    no_file = cli("restore", new, "--from", old)
    assert no_file.code == 2
    assert "give --import-file OUT" in no_file.err
    missing = cli("restore", new, "--from", old, "/no/such", "--import-file", out)
    assert missing.code == 2
    assert "/no/such: not in" in missing.err
    rotation = cli("restore", new, "--from", old, "--import-file", out, "--as-rotation")
    assert rotation.code == 2
    out.write_text("keep me", encoding="utf-8")
    taken = cli("restore", new, "--from", old, "--import-file", out)
    assert taken.code == 2
    assert "exists already" in taken.err
    assert out.read_text(encoding="utf-8") == "keep me"


def test_import_file_is_for_exports(tmp_path: Path, cli: RunCli) -> None:
    from factory import bosh_store, dump_store

    creds = tmp_path / "creds.yml"
    creds.write_text(dump_store(bosh_store()), encoding="utf-8")
    run = cli("restore", creds, "--from", creds, "--import-file", tmp_path / "out.yml")
    assert run.code == 2
    assert "--import-file is for a CredHub export" in run.err


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_deleted_credential_is_put_back(tmp_path: Path, cli: RunCli, fmt: str) -> None:
    credentials = cf_credentials()
    gone = f"{PREFIX}/uaa_jwt_signing_key"
    after = [c for c in credentials if c["name"] != gone]
    old, new = write(tmp_path, "old", credentials, fmt), write(tmp_path, "new", after, fmt)
    out = tmp_path / "restore.yml"
    run = cli("restore", new, "--from", old, "--import-file", out)
    assert run.code == 0, run.err
    assert [e.name for e in load_store(out)] == [gone]
    assert "missing -> sha256:" in run.out


def test_the_check_advises_the_import_not_a_write_to_the_export(
    tmp_path: Path, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check of an export names the restore that works for it: ``--import-file`` and ``credhub import``, never
    ``git checkout`` of the backup or a restore into the export; and the advised command, run as printed, writes
    the import file with the regenerated key alone."""
    credentials = cf_credentials()
    key = f"{PREFIX}/cc_db_encryption_key"
    old = write(tmp_path, "old.yml", credentials, "yaml")
    new = write(tmp_path, "new.yml", replaced(credentials, key, password("new")), "yaml")
    monkeypatch.chdir(tmp_path)
    check = cli("old.yml", "new.yml")
    assert check.code == 1
    assert "Set the old values back in CredHub before the next deploy" in check.out
    assert "BOSH generates new ones" not in check.out
    assert "credhub import -f restore.yml" in check.out
    advised = [line.split("   (")[0].split() for line in check.out.splitlines() if "creds-lint restore" in line]
    assert advised == [["creds-lint", "restore", "new.yml", "--from", "old.yml", "--import-file", "restore.yml"]]
    before = digests(old, new)
    run = cli(*advised[0][1:])
    assert run.code == 0, run.err
    assert digests(old, new) == before
    assert [e.name for e in load_store(tmp_path / "restore.yml")] == [key]
