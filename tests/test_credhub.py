"""CredHub exports: read wherever a var-store is read, checked by the same rules, said in CredHub's words.

Export files are built in both formats (YAML, and `credhub export -j` JSON) from real credentials: tests/factory.py
makes the CAs, leaves and keys, and one test maps a var-store written by the real bosh CLI to CredHub names.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import BoshInt, RunCli
from credhub_factory import EXPORTERS, Credential, from_var_store, replaced, user
from creds_lint import credhub
from creds_lint.errors import CredsLintError
from creds_lint.loader import load_store, parse_store
from creds_lint.model import Export, Kind
from factory import BOSH_LEAVES, bosh_store, cert_from_value, leaf_rotation, make_ca, make_leaf, password, rsa_key
from factory import _reissue as reissue

PREFIX = "/bosh-lite/cf"
FORMATS = sorted(EXPORTERS)


def cf_store() -> dict[str, object]:
    store = bosh_store()
    store["cc_db_encryption_key"] = password("cc_db_encryption_key")
    return store


def cf_credentials(store: Mapping[str, object] | None = None) -> list[Credential]:
    credentials = from_var_store(store or cf_store(), prefix=PREFIX)
    credentials.append(user(f"{PREFIX}/cf_admin_user", "admin", password("cf_admin_user")))
    credentials.append({"name": f"{PREFIX}/app_config", "type": "json", "value": {"token": password("json")}})
    credentials.append({"name": f"{PREFIX}/app_domain", "type": "value", "value": "apps.example.com"})
    return credentials


def write(tmp_path: Path, name: str, credentials: Sequence[Credential], fmt: str, *, mode: int = 0o600) -> Path:
    path = tmp_path / name
    path.write_text(EXPORTERS[fmt](credentials), encoding="utf-8")
    path.chmod(mode)
    return path


def secrets_of(credentials: Sequence[Credential]) -> Iterator[str]:
    """Every secret of the credentials, and every line of every PEM body."""
    for credential in credentials:
        value = credential["value"]
        texts = [value] if isinstance(value, str) else []
        if isinstance(value, Mapping):
            texts += [v for k, v in value.items() if k in ("password", "private_key", "password_hash", "token")]
        for text in texts:
            if "-----BEGIN" in text:
                yield from (line for line in text.splitlines() if line and not line.startswith("-----"))
            else:
                yield text


def assert_no_secret(credentials: Sequence[Credential], *outputs: str) -> None:
    for secret in secrets_of(credentials):
        for output in outputs:
            assert secret not in output


def findings(run_json: Any) -> dict[tuple[str, str | None], dict[str, Any]]:  # noqa: ANN401
    return {(f["rule"], f["variable"]): f for f in run_json["findings"]}


def new_ca_tree(credentials: Sequence[Credential], ca: str, *, slot: int, leaves: bool) -> list[Credential]:
    """``credhub regenerate -n CA`` (a new key pair) and, with ``leaves``, ``credhub bulk-regenerate --signed-by
    CA`` (every certificate that names it in ca_name re-issued with a new key by the new CA)."""
    by_name = {c["name"]: c for c in credentials}
    old_ca = cert_from_value(by_name[ca]["value"])
    new_ca = reissue(old_ca, key=rsa_key(slot), signer=None)
    out = replaced(
        credentials,
        ca,
        {"ca": new_ca.certificate, "certificate": new_ca.certificate, "private_key": new_ca.private_key},
    )
    if not leaves:
        return out
    for i, credential in enumerate(credentials):
        value = credential["value"]
        if isinstance(value, Mapping) and value.get("ca_name") == ca:
            leaf = reissue(cert_from_value(value), key=rsa_key(slot + 1 + i), signer=new_ca)
            out = replaced(
                out,
                credential["name"],
                {"ca_name": ca, "certificate": leaf.certificate, "private_key": leaf.private_key},
            )
    return out


# --- reading --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_both_formats_read_as_the_same_credentials(tmp_path: Path, fmt: str) -> None:
    credentials = cf_credentials()
    store = load_store(write(tmp_path, f"export.{fmt}", credentials, fmt))
    assert store.export is (Export.JSON if fmt == "json" else Export.YAML)
    assert [e.name for e in store] == [c["name"] for c in credentials]
    kinds = {e.name.rpartition("/")[2]: e.kind for e in store}
    assert kinds["nats_ca"] is Kind.CERTIFICATE
    assert kinds["uaa_jwt_signing_key"] is Kind.RSA
    assert kinds["jumpbox_ssh"] is Kind.SSH
    assert kinds["cc_db_encryption_key"] is Kind.PASSWORD
    assert kinds["cf_admin_user"] is Kind.PASSWORD
    assert kinds["app_config"] is Kind.UNKNOWN
    leaf = store.get(f"{PREFIX}/nats_server_tls")
    assert isinstance(leaf, credhub.Credential)
    assert leaf.ca_name == f"{PREFIX}/nats_ca"
    assert "ca" not in leaf.fields
    other = load_store(write(tmp_path, "other", credentials, "json" if fmt == "yaml" else "yaml"))
    assert other.values() == store.values()


def test_yaml_lines_point_at_each_credential(tmp_path: Path) -> None:
    credentials = cf_credentials()
    path = write(tmp_path, "export.yml", credentials, "yaml")
    lines = path.read_text(encoding="utf-8").splitlines()
    store = load_store(path)
    for entry in store:
        assert lines[entry.line - 1].strip() == f"- name: {entry.name}"
    leaf = store.get(f"{PREFIX}/nats_server_tls")
    assert leaf is not None
    assert lines[leaf.field_line("certificate") - 1].strip().startswith("certificate: |")


def test_entries_are_matched_by_name_not_position(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    old = write(tmp_path, "old.yml", credentials, "yaml")
    new = write(tmp_path, "new.json", list(reversed(credentials)), "json")
    run = cli(old, new, "--format", "json")
    assert run.code == 0, run.out
    assert run.json["findings"] == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("credentials:\n    - type: password\n      value: x\n", "line 2: credential 1 of the export has no name"),
        ("credentials:\n    - name: /a/b\n      value: x\n", "line 2: /a/b has no type"),
        (
            "credentials:\n    - name: /a/b\n      type: pasword\n      value: x\n",
            "/a/b has 'pasword', not a CredHub type",
        ),
        ("credentials:\n    - name: /a/b\n      type: password\n", "line 2: /a/b has no value"),
        ("credentials:\n    - just-a-string\n", "credential 1 of the export is not a mapping"),
        (
            "credentials:\n    - name: /a/b\n      type: certificate\n      value: s3cr3t-Pa55w0rd\n",
            "/a/b is a certificate but its value is not a mapping of fields",
        ),
        ("credentials: []\nother: 1\n", "holds only its 'credentials' list"),
        ('{"Credentials":[{"Name":"/a","Value":"s3cr3t-Pa55w0rd"}]}', "line 1: /a has no type"),
    ],
)
def test_a_broken_export_is_one_clear_line_and_exit_2(tmp_path: Path, cli: RunCli, text: str, problem: str) -> None:
    path = tmp_path / "export.yml"
    path.write_text(text, encoding="utf-8")
    run = cli("check", path)
    assert run.code == 2
    assert problem in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert "Traceback" not in run.err
    assert "s3cr3t" not in run.err + run.out


def test_an_unknown_type_that_could_be_a_secret_is_not_shown(tmp_path: Path, cli: RunCli) -> None:
    path = tmp_path / "export.yml"
    path.write_text("credentials:\n    - name: /a\n      type: 9xK#q2!vLp0zT\n      value: x\n", encoding="utf-8")
    run = cli("check", path)
    assert run.code == 2
    assert "/a has an unknown type" in run.err
    assert "9xK" not in run.err


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_duplicate_name_is_a_finding_and_the_last_one_wins(tmp_path: Path, cli: RunCli, fmt: str) -> None:
    credentials = cf_credentials()
    twice = [*credentials, {"name": f"{PREFIX}/nats_password", "type": "password", "value": password("again")}]
    run = cli("check", write(tmp_path, "export", twice, fmt), "--format", "json")
    assert run.code == 1
    found = findings(run.json)[("duplicate-key", f"{PREFIX}/nats_password")]
    assert "`credhub import` sets each in turn, so the last one wins" in found["message"]
    store = load_store(tmp_path / "export")
    assert store.get(f"{PREFIX}/nats_password").value == password("again")  # type: ignore[union-attr]


def test_a_manifest_is_not_compared_with_an_export(tmp_path: Path, cli: RunCli) -> None:
    manifest = tmp_path / "manifest.yml"
    manifest.write_text("variables:\n- name: nats_ca\n  type: certificate\n", encoding="utf-8")
    run = cli("check", write(tmp_path, "export.yml", cf_credentials(), "yaml"), "--manifest", manifest)
    assert run.code == 2
    assert "check it without --manifest" in run.err


def test_the_redacted_diff_names_signers_and_shows_no_secret(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    after = new_ca_tree(credentials, f"{PREFIX}/nats_ca", slot=40, leaves=True)
    run = cli("diff", write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.json", after, "json"))
    assert run.code == 0
    assert f"~ {PREFIX}/nats_ca (CA)" in run.out
    assert "0 added, 0 removed, 4 changed" in run.out
    view = cli("diff", "--textconv", tmp_path / "new.json")
    assert f"ca_name: {PREFIX}/nats_ca" in view.out
    assert_no_secret(credentials + after, run.out, run.err, view.out, view.err)


def test_a_mixed_comparison_is_refused(tmp_path: Path, cli: RunCli, write_store: Any) -> None:  # noqa: ANN401
    store = cf_store()
    var_store = write_store("creds.yml", store)
    export = write(tmp_path, "export.yml", from_var_store(store), "yaml")
    run = cli(var_store, export)
    assert run.code == 2
    assert "is a CredHub export, the other a var-store" in run.err


# --- the rules, in CredHub's words ------------------------------------------------------------------------------


_VAR_STORE_WORDS = re.compile(r"(?<![\w/-])bosh(?![\w-])(?! deploy)|\bBOSH\b|version control|var-store|the store\b")


def assert_credhub_words(run_json: Any) -> None:  # noqa: ANN401
    for finding in run_json["findings"]:
        assert not _VAR_STORE_WORDS.search(finding["message"]), finding["message"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_regenerated_cc_db_encryption_key_fails(tmp_path: Path, cli: RunCli, fmt: str) -> None:
    credentials = cf_credentials()
    name = f"{PREFIX}/cc_db_encryption_key"
    after = replaced(credentials, name, password("regenerated"))
    old, new = write(tmp_path, "old", credentials, fmt), write(tmp_path, "new", after, fmt)
    run = cli(old, new, "--format", "json")
    assert run.code == 1
    found = findings(run.json)[("regenerated-encryption-key", name)]
    assert found["severity"] == "error"
    message = found["message"]
    assert "Cloud Controller can no longer decrypt" in message
    assert f"credhub get -n {name} --versions 2" in message
    assert f"credhub set -n {name} -t password" in message
    assert_credhub_words(run.json)
    text = cli(old, new)
    assert text.code == 1
    assert_no_secret(credentials + after, run.out, text.out, text.err)


def test_a_deleted_encryption_key_says_every_version_is_gone(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    name = f"{PREFIX}/credhub_encryption_password"
    after = [c for c in credentials if c["name"] != name]
    run = cli(
        write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.yml", after, "yaml"), "--format", "json"
    )
    assert run.code == 1
    message = findings(run.json)[("removed-encryption-key", name)]["message"]
    assert "the director will generate a new one in CredHub on the next deploy" in message
    assert "`credhub delete` removed every version" in message
    assert f"credhub set -n {name}" in message
    assert_credhub_words(run.json)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_leaf_rotation_passes(tmp_path: Path, cli: RunCli, fmt: str) -> None:
    store = cf_store()
    before = cf_credentials(store)
    after = cf_credentials(leaf_rotation(store))
    run = cli(write(tmp_path, "old", before, fmt), write(tmp_path, "new", after, fmt), "--format", "json")
    assert run.code == 0, run.out
    rotated = {f["variable"] for f in run.json["findings"] if f["rule"] == "rotated-certificate"}
    assert rotated == {f"{PREFIX}/{name}" for name in BOSH_LEAVES}
    nats = findings(run.json)[("rotated-certificate", f"{PREFIX}/nats_server_tls")]
    assert f"signed by {PREFIX}/nats_ca, which is unchanged" in nats["message"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_ca_regenerated_bulk_regenerate_style_fails_naming_its_dependents(
    tmp_path: Path, cli: RunCli, fmt: str
) -> None:
    credentials = cf_credentials()
    ca = f"{PREFIX}/nats_ca"
    after = new_ca_tree(credentials, ca, slot=40, leaves=True)
    old, new = write(tmp_path, "old", credentials, fmt), write(tmp_path, "new", after, fmt)
    run = cli(old, new, "--format", "json")
    assert run.code == 1
    message = findings(run.json)[("regenerated-ca", ca)]["message"]
    assert "was regenerated with a new key pair" in message
    for leaf in ("nats_server_tls", "nats_clients_director_tls", "nats_clients_health_monitor_tls"):
        assert f"{PREFIX}/{leaf}" in message
    assert "(3 certificates)" in message
    assert f"credhub get -n {ca} --versions 2" in message
    rotated = findings(run.json)[("rotated-certificate", f"{PREFIX}/nats_server_tls")]["message"]
    assert f"its CA {ca} was regenerated in this change" in rotated
    assert_credhub_words(run.json)
    for output in ("sarif", "github", "text"):
        other = cli(old, new, "--format", output)
        assert other.code == 1
        assert ca in other.out
        assert_no_secret(credentials + after, other.out, other.err)
    sarif = json.loads(cli(old, new, "--format", "sarif").out)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"CL204"}
    github = cli(old, new, "--format", "github").out
    assert re.search(r"^::error file=[^,]*new,line=\d+", github, re.MULTILINE)


def test_a_ca_regenerated_alone_leaves_its_leaves_stale(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    ca = f"{PREFIX}/nats_ca"
    after = new_ca_tree(credentials, ca, slot=40, leaves=False)
    run = cli(
        write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.yml", after, "yaml"), "--format", "json"
    )
    assert run.code == 1
    found = findings(run.json)
    stale = found[("stale-ca-reference", f"{PREFIX}/nats_server_tls")]
    assert stale["severity"] == "error"
    assert f"is signed by an earlier version of its ca_name {ca}" in stale["message"]
    assert "old.yml" in stale["message"]
    assert f"credhub regenerate -n {PREFIX}/nats_server_tls" in stale["message"]
    assert ("stale-ca-reference", f"{PREFIX}/director_ssl") not in found
    assert_credhub_words(run.json)


def test_a_renewed_ca_passes(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    ca = f"{PREFIX}/default_ca"
    old_ca = cert_from_value(next(c["value"] for c in credentials if c["name"] == ca))
    renewed = reissue(old_ca, key=old_ca.key_obj, signer=None)
    after = replaced(
        credentials,
        ca,
        {"ca": renewed.certificate, "certificate": renewed.certificate, "private_key": renewed.private_key},
    )
    run = cli(
        write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.yml", after, "yaml"), "--format", "json"
    )
    assert run.code == 0, run.out
    assert ("renewed-ca", ca) in findings(run.json)


def test_a_changed_ca_name_is_a_new_signer(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    by_name = {c["name"]: c for c in credentials}
    leaf_name = f"{PREFIX}/credhub_tls"
    other_ca = cert_from_value(by_name[f"{PREFIX}/default_ca"]["value"])
    old_leaf = cert_from_value(by_name[leaf_name]["value"])
    moved = reissue(old_leaf, key=old_leaf.key_obj, signer=other_ca)
    after = replaced(
        credentials,
        leaf_name,
        {"ca_name": f"{PREFIX}/default_ca", "certificate": moved.certificate, "private_key": moved.private_key},
    )
    run = cli(
        write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.yml", after, "yaml"), "--format", "json"
    )
    assert run.code == 1
    message = findings(run.json)[("signer-changed", leaf_name)]["message"]
    assert f"was signed by {PREFIX}/credhub_ca and is now signed by {PREFIX}/default_ca" in message


def test_a_user_whose_password_hash_alone_changed_is_formatting(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    name = f"{PREFIX}/cf_admin_user"
    after = [
        user(name, "admin", password("cf_admin_user"), salt="zyxwvuts") if c["name"] == name else c for c in credentials
    ]
    assert after != credentials
    old, new = write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.json", after, "json")
    run = cli(old, new, "--format", "json")
    assert run.code == 0
    assert run.json["findings"] == []
    changed = [user(name, "admin", password("other"), salt="zyxwvuts") if c["name"] == name else c for c in credentials]
    run = cli(old, write(tmp_path, "changed.yml", changed, "yaml"), "--format", "json")
    assert run.code == 1
    assert ("regenerated-password", name) in findings(run.json)


def test_classification_reads_the_last_path_segment(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    name = f"{PREFIX}/nats_password"
    after = replaced(credentials, name, password("new nats"))
    run = cli(
        write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.yml", after, "yaml"), "--format", "json"
    )
    message = findings(run.json)[("regenerated-password", name)]["message"]
    assert f"{name} (agent credential)" in message
    assert "agents become unresponsive" in message


@pytest.mark.parametrize("listed", [f"{PREFIX}/hm_password", "hm_password"])
def test_configured_names_match_the_full_name_or_the_last_segment(tmp_path: Path, cli: RunCli, listed: str) -> None:
    credentials = cf_credentials()
    name = f"{PREFIX}/hm_password"
    after = replaced(credentials, name, password("new hm"))
    config = tmp_path / ".creds-lint.yml"
    config.write_text(f"classify:\n  disposable:\n    names: [{listed}]\n", encoding="utf-8")
    old, new = write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.yml", after, "yaml")
    run = cli(old, new, "--config", config, "--format", "json")
    assert run.code == 0
    assert ("disposable-changed", name) in findings(run.json)
    assert cli(old, new, "--no-config").code == 1


def test_a_changed_type_names_credhub_types(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    name = f"{PREFIX}/app_domain"
    after = [
        {**c, "type": "json", "value": {"domain": "apps.example.com"}} if c["name"] == name else c for c in credentials
    ]
    run = cli(
        write(tmp_path, "old.yml", credentials, "yaml"), write(tmp_path, "new.yml", after, "yaml"), "--format", "json"
    )
    assert run.code == 1
    message = findings(run.json)[("changed-type", name)]["message"]
    assert "changed type from value to json" in message


# --- the audit ---------------------------------------------------------------------------------------------------


def test_check_audits_chains_through_ca_name_and_expiry(tmp_path: Path, cli: RunCli) -> None:
    root = make_ca("root", key_slot=50)
    intermediate = make_ca("intermediate", key_slot=51, signer=root)
    leaf = make_leaf("leaf.example.com", intermediate, key_slot=52, days=10)
    credentials: list[Credential] = [
        {"name": "/d/root_ca", "type": "certificate", "value": root.as_value()},
        {
            "name": "/d/intermediate_ca",
            "type": "certificate",
            "value": {
                "ca_name": "/d/root_ca",
                "certificate": intermediate.certificate,
                "private_key": intermediate.private_key,
            },
        },
        {
            "name": "/d/leaf_tls",
            "type": "certificate",
            "value": {
                "ca_name": "/d/intermediate_ca",
                "certificate": leaf.certificate,
                "private_key": leaf.private_key,
            },
        },
    ]
    run = cli("check", write(tmp_path, "export.yml", credentials, "yaml"), "--format", "json")
    assert run.code == 0, run.out
    found = findings(run.json)
    assert ("expiring-certificate", "/d/leaf_tls") in found
    # renew writes bosh var-stores only: for an export, the remedy is CredHub's
    message = found[("expiring-certificate", "/d/leaf_tls")]["message"]
    assert message.endswith("Re-issue it in CredHub from its unchanged CA: `credhub regenerate -n /d/leaf_tls`.")
    text = cli("check", tmp_path / "export.yml", "--no-config").out
    assert "creds-lint renew" not in text
    assert "allow:" not in text
    signers = {c["variable"]: c["signer"] for c in run.json["certificates"]}
    assert signers == {
        "/d/root_ca": "/d/root_ca",
        "/d/intermediate_ca": "/d/root_ca",
        "/d/leaf_tls": "/d/intermediate_ca",
    }
    # The intermediate signed by another root than its ca_name names: not signed by its CA.
    stranger = make_ca("stranger", key_slot=53)
    wrong = reissue(intermediate, key=intermediate.key_obj, signer=stranger)
    credentials[1]["value"] = {
        "ca_name": "/d/root_ca",
        "certificate": wrong.certificate,
        "private_key": wrong.private_key,
    }
    run = cli("check", write(tmp_path, "wrong.yml", credentials, "yaml"), "--format", "json")
    assert run.code == 1
    assert ("stale-ca-reference", "/d/intermediate_ca") in findings(run.json)


def test_a_signer_outside_the_export_is_a_warning(tmp_path: Path, cli: RunCli) -> None:
    credentials = [c for c in cf_credentials() if c["name"] != f"{PREFIX}/nats_ca"]
    run = cli("check", write(tmp_path, "export.yml", credentials, "yaml"), "--format", "json")
    assert run.code == 0, run.out
    found = findings(run.json)[("missing-signer", f"{PREFIX}/nats_server_tls")]
    assert found["severity"] == "warning"
    assert ("stale-ca-reference", f"{PREFIX}/nats_server_tls") not in findings(run.json)


def test_credhub_ssh_fingerprints_match_their_keys(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    run = cli("check", write(tmp_path, "export.yml", credentials, "yaml"), "--format", "json")
    assert run.code == 0, run.out
    assert not [f for f in run.json["findings"] if f["rule"] == "key-mismatch"]
    ssh = next(c for c in credentials if c["type"] == "ssh")
    ssh["value"] = {**ssh["value"], "public_key_fingerprint": "A" * 43}
    run = cli("check", write(tmp_path, "bad.yml", credentials, "yaml"), "--format", "json")
    assert ("key-mismatch", ssh["name"]) in findings(run.json)


def test_a_readable_export_gets_a_warning(tmp_path: Path, cli: RunCli) -> None:
    credentials = cf_credentials()
    path = write(tmp_path, "export.yml", credentials, "yaml", mode=0o644)
    run = cli("check", path, "--format", "json")
    found = findings(run.json)[("readable-export", None)]
    assert found["severity"] == "warning"
    assert "mode 0644" in found["message"]
    assert "its group and others" in found["message"]
    path.chmod(0o600)
    assert ("readable-export", None) not in findings(cli("check", path, "--format", "json").json)


def test_a_deleted_export_is_reported_as_a_lost_backup() -> None:
    from creds_lint.engine import lint

    old = parse_store(EXPORTERS["yaml"](cf_credentials()).encode(), source="backup.yml")
    removed = parse_store(b"", source="backup.yml")
    from dataclasses import replace

    found = lint(old, replace(removed, export=old.export), deleted=True)
    assert [f.rule for f in found] == ["removed-file"]
    assert "the CredHub export was deleted: it is the backup of" in found[0].message


# --- a var-store written by the real bosh CLI, mapped to CredHub names ---------------------------------------


BOSH_MANIFEST = """\
variables:
- name: cc_db_encryption_key
  type: password
- name: nats_ca
  type: certificate
  options:
    is_ca: true
    common_name: default.nats-ca.bosh-internal
- name: nats_server_tls
  type: certificate
  options:
    ca: nats_ca
    common_name: default.nats.bosh-internal
    alternative_names: [10.244.0.2]
    extended_key_usage: [server_auth]
- name: nats_clients_director_tls
  type: certificate
  options:
    ca: nats_ca
    common_name: default.director.bosh-internal
    extended_key_usage: [client_auth]
- name: nats_clients_health_monitor_tls
  type: certificate
  options:
    ca: nats_ca
    common_name: default.hm.bosh-internal
    extended_key_usage: [client_auth]
- name: jumpbox_ssh
  type: ssh
- name: uaa_jwt_signing_key
  type: rsa
"""
NATS_LEAVES = ("nats_server_tls", "nats_clients_director_tls", "nats_clients_health_monitor_tls")


def test_a_bosh_written_var_store_as_credhub_exports(tmp_path: Path, cli: RunCli, bosh_int: BoshInt) -> None:
    manifest = tmp_path / "manifest.yml"
    manifest.write_text(BOSH_MANIFEST, encoding="utf-8")
    signers = dict.fromkeys(NATS_LEAVES, "nats_ca")  # each leaf's options.ca: what CredHub records
    creds = tmp_path / "creds.yml"
    bosh_int(manifest, creds)
    before = yaml.safe_load(creds.read_text(encoding="utf-8"))
    backup = write(tmp_path, "backup.yml", from_var_store(before, signers=signers), "yaml")
    assert cli("check", backup).code == 0
    # The encryption key and nats_ca deleted (`credhub delete`): bosh generates new ones, the leaves stay.
    creds.write_text(
        yaml.safe_dump({k: v for k, v in before.items() if k not in ("nats_ca", "cc_db_encryption_key")}),
        encoding="utf-8",
    )
    bosh_int(manifest, creds)
    after = yaml.safe_load(creds.read_text(encoding="utf-8"))
    assert after["nats_ca"] != before["nats_ca"]
    current = write(tmp_path, "current.json", from_var_store(after, signers=signers), "json")
    run = cli(backup, current, "--format", "json")
    assert run.code == 1
    found = findings(run.json)
    assert ("regenerated-encryption-key", f"{PREFIX}/cc_db_encryption_key") in found
    assert ("regenerated-ca", f"{PREFIX}/nats_ca") in found
    for leaf in NATS_LEAVES:
        assert ("stale-ca-reference", f"{PREFIX}/{leaf}") in found
        assert f"{PREFIX}/{leaf}" in found[("regenerated-ca", f"{PREFIX}/nats_ca")]["message"]
    assert_credhub_words(run.json)
    # Nothing changed: the same credentials, in the other format, pass.
    assert cli(backup, write(tmp_path, "same.json", from_var_store(before, signers=signers), "json")).code == 0


# --- subset import files ----------------------------------------------------------------------------------------


def test_a_subset_holds_exactly_the_chosen_credentials_and_the_signers_they_need(tmp_path: Path) -> None:
    credentials = cf_credentials()
    ca = f"{PREFIX}/nats_ca"
    regenerated = new_ca_tree(credentials, ca, slot=40, leaves=True)
    old = load_store(write(tmp_path, "old.yml", credentials, "yaml"))
    new = load_store(write(tmp_path, "new.json", regenerated, "json"))
    chosen = [f"{PREFIX}/nats_server_tls", f"{PREFIX}/cc_db_encryption_key", f"{PREFIX}/director_ssl"]
    selection = credhub.select(old, new, chosen)
    assert [e.name for e in selection.chosen] == chosen
    assert [e.name for e in selection.signers] == [ca]  # default_ca is unchanged: not needed
    out = tmp_path / "restore.yml"
    credhub.write_import_file(out, selection)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    written = load_store(out)
    assert [e.name for e in written] == [ca, *chosen]
    for entry in written:
        assert entry.value == old.get(entry.name).value  # type: ignore[union-attr]
    document = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert {tuple(sorted(c)) for c in document["credentials"]} == {("name", "type", "value")}
    assert credhub.import_command(out) == f"credhub import -f {out}"
    with pytest.raises(CredsLintError, match="exists already"):
        credhub.write_import_file(out, selection)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.json", "old.yml", "restore.yml"]


def test_a_subset_leaves_out_a_signer_that_still_verifies(tmp_path: Path) -> None:
    credentials = cf_credentials()
    old = load_store(write(tmp_path, "old.yml", credentials, "yaml"))
    rotated = load_store(write(tmp_path, "new.yml", cf_credentials(leaf_rotation(cf_store())), "yaml"))
    selection = credhub.select(old, rotated, [f"{PREFIX}/nats_server_tls"])
    assert selection.signers == ()


def test_a_subset_refuses_a_name_the_old_export_does_not_hold(tmp_path: Path) -> None:
    credentials = cf_credentials()
    old = load_store(write(tmp_path, "old.yml", credentials, "yaml"))
    with pytest.raises(CredsLintError, match="/nope is not in the old export"):
        credhub.select(old, old, ["/nope"])
