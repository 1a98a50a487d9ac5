"""Manifest awareness (--manifest): declared types and options against the stored values, what bosh will generate,
orphans, and options left as ((variables))."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import RunCli, WriteStore
from creds_lint import manifest
from creds_lint.errors import CredsLintError
from creds_lint.rules import manifest as manifest_rules
from factory import BOSH_CAS, BOSH_LEAVES, BOSH_PASSWORDS, bosh_store, make_ca, make_leaf

MANIFEST_RULES = {r.name for r in manifest_rules.RULES}


def declarations() -> list[dict[str, Any]]:
    """The variables section of a bosh-deployment manifest (with its ops files applied), as the factory's store
    was generated from it."""
    variables: list[dict[str, Any]] = [{"name": name, "type": "password"} for name in BOSH_PASSWORDS]
    for name, cn in BOSH_CAS.items():
        variables.append({"name": name, "type": "certificate", "options": {"is_ca": True, "common_name": cn}})
    for name, (ca, cn, sans, eku) in BOSH_LEAVES.items():
        options: dict[str, Any] = {"ca": ca, "common_name": cn, "extended_key_usage": list(eku)}
        if sans:
            options["alternative_names"] = list(sans)
        variables.append({"name": name, "type": "certificate", "options": options})
    variables += [{"name": "uaa_jwt_signing_key", "type": "rsa"}, {"name": "jumpbox_ssh", "type": "ssh"}]
    return variables


def write_manifest(path: Path, variables: list[dict[str, Any]], *, whole: bool = True) -> Path:
    doc: object = {"name": "bosh", "instance_groups": [{"name": "bosh", "jobs": []}], "variables": variables}
    path.write_text(yaml.safe_dump(doc if whole else variables, sort_keys=False), encoding="utf-8")
    return path


def changed(variables: list[dict[str, Any]], name: str, **options: object) -> list[dict[str, Any]]:
    return [{**v, "options": {**v.get("options", {}), **options}} if v["name"] == name else v for v in variables]


def line_of(path: Path, name: str) -> int:
    """The line of ``- name: NAME`` in a manifest written by :func:`write_manifest`."""
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.endswith(f"- name: {name}"))


def rows(run_json: Mapping[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(f["rule"], f["variable"], f["severity"]) for f in run_json["findings"]]


# --- reading manifests ----------------------------------------------------------------------------------------


def test_a_manifest_or_its_variables_list(tmp_path: Path) -> None:
    whole = write_manifest(tmp_path / "bosh.yml", declarations())
    bare = write_manifest(tmp_path / "vars.yml", declarations(), whole=False)
    for path in (whole, bare):
        loaded = manifest.load([path])
        assert loaded is not None
        director = loaded.variables["director_ssl"]
        assert (director.type, director.ca, director.common_name, director.is_ca) == (
            "certificate",
            "default_ca",
            "192.168.56.6",
            None,
        )
        assert director.alternative_names == ("192.168.56.6",)
        assert director.extended_key_usage == ("server_auth",)
        assert loaded.variables["nats_ca"].is_ca is True
        assert loaded.variables["jumpbox_ssh"].type == "ssh"
        assert loaded.unresolved == ()
    loaded = manifest.load([whole])
    assert loaded is not None
    assert loaded.variables["admin_password"].line == line_of(whole, "admin_password") == 6


def test_options_with_variables_are_skipped_and_listed(tmp_path: Path) -> None:
    variables = changed(
        declarations(), "director_ssl", common_name="((internal_ip))", alternative_names=["((internal_ip))", "x"]
    )
    loaded = manifest.load([write_manifest(tmp_path / "m.yml", variables)])
    assert loaded is not None
    director = loaded.variables["director_ssl"]
    assert (director.common_name, director.alternative_names, director.ca) == (None, None, "default_ca")
    assert loaded.unresolved == ("director_ssl.common_name", "director_ssl.alternative_names")


def test_later_manifests_replace_earlier_declarations(tmp_path: Path) -> None:
    first = write_manifest(tmp_path / "a.yml", declarations())
    second = write_manifest(tmp_path / "b.yml", [{"name": "director_ssl", "type": "password"}], whole=False)
    loaded = manifest.load([first, second])
    assert loaded is not None
    assert (loaded.variables["director_ssl"].type, loaded.variables["director_ssl"].source) == ("password", str(second))
    assert loaded.label == f"{first}, {second}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: bosh\n", "no variables: section (give a BOSH manifest or its variables list)"),
        ("just text\n", "line 1: expected a BOSH manifest or a list of variables"),
        ("variables:\n- type: password\n", "line 2: variables[0]: a variable needs a 'name'"),
        ("- name: a\n  type: [password]\n", "line 2: [0].type: expected a string, got a list"),
        (
            "- name: a\n  type: certificate\n  options:\n    is_ca: maybe\n",
            "line 4: [0].options.is_ca: expected true or false, got a string",
        ),
        ("variables: [\n", "line 2, column 1: invalid YAML: did not find expected node content"),
    ],
)
def test_a_bad_manifest_is_one_line_naming_the_place(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "m.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CredsLintError) as caught:
        manifest.load([path])
    assert str(caught.value) == f"{path}: {message}"


def test_a_bad_manifest_is_exit_2(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    store = write_store("creds.yml", {"a": "b"})
    run = cli(store, store, "--no-config", "--manifest", tmp_path / "missing.yml")
    assert (run.code, run.err) == (2, f"creds-lint: error: {tmp_path / 'missing.yml'}: no such file\n")


# --- the checks -----------------------------------------------------------------------------------------------


def test_a_store_that_matches_its_manifest_has_no_finding(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    store = write_store("creds.yml", bosh_store())
    run = cli(store, store, "--no-config", "--manifest", write_manifest(tmp_path / "m.yml", declarations()))
    assert run.code == 0
    assert run.out.splitlines()[-1] == "0 errors, 0 warnings, 0 info in 1 file"


def test_what_bosh_will_generate(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    """The pre-flight answer to "what will create-env regenerate?"."""
    gone = ("credhub_encryption_password", "nats_ca", "jumpbox_ssh", "admin_password", "director_ssl", "hm_password")
    store = write_store("creds.yml", {k: v for k, v in bosh_store().items() if k not in gone})
    path = write_manifest(tmp_path / "m.yml", declarations())
    run = cli(store, store, "--no-config", "--format", "json", "--manifest", path)
    assert run.code == 1
    assert rows(run.json) == [
        ("missing-password", "admin_password", "warning"),
        ("missing-encryption-key", "credhub_encryption_password", "error"),
        ("missing-certificate", "director_ssl", "info"),
        ("missing-password", "hm_password", "warning"),
        ("missing-keypair", "jumpbox_ssh", "warning"),
        ("missing-ca", "nats_ca", "error"),
    ]
    by_variable = {f["variable"]: f for f in run.json["findings"]}
    assert by_variable["nats_ca"]["message"].startswith(
        f"nats_ca (CA) is declared in {path}:{line_of(path, 'nats_ca')} but missing from the var-store: "
        "BOSH will generate a new one on the "
        "next deploy. If a value of it was ever deployed, "
    )
    assert by_variable["director_ssl"]["message"] == (
        f"director_ssl (certificate) is declared in {path}:{line_of(path, 'director_ssl')} but missing from the "
        "var-store: BOSH will generate a "
        "new one on the next deploy from default_ca, which is safe while that CA stays unchanged."
    )
    assert by_variable["admin_password"]["message"].startswith(
        f"admin_password (login) is declared in {path}:{line_of(path, 'admin_password')} but missing"
    )
    assert (by_variable["nats_ca"]["line"], by_variable["nats_ca"]["details"]) == (
        None,
        {"declared": f"{path}:{line_of(path, 'nats_ca')}", "type": "certificate"},
    )
    conf = tmp_path / "conf.yml"
    conf.write_text("classify:\n  disposable:\n    names: [hm_password]\n", encoding="utf-8")
    run = cli(store, store, "--config", conf, "--format", "json", "--manifest", path)
    assert ("disposable-changed", "hm_password", "info") in rows(run.json)
    assert ("missing-password", "hm_password", "warning") not in rows(run.json)


def test_a_removed_variable_is_left_to_the_removal_rules(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    before = bosh_store()
    old = write_store("old.yml", before)
    new = write_store("new.yml", {k: v for k, v in before.items() if k != "nats_ca"})
    run = cli(
        old, new, "--no-config", "--format", "json", "--manifest", write_manifest(tmp_path / "m.yml", declarations())
    )
    assert rows(run.json) == [("removed-ca", "nats_ca", "error")]


def test_a_stored_type_that_differs_from_the_declaration(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    data = bosh_store()
    data["nats_password"] = data["uaa_jwt_signing_key"]
    data["uaa_jwt_signing_key"] = "not-a-key"
    store = write_store("creds.yml", data)
    path = write_manifest(tmp_path / "m.yml", declarations())
    run = cli(store, store, "--no-config", "--format", "json", "--manifest", path)
    assert run.code == 1
    assert rows(run.json) == [
        ("declared-type-mismatch", "nats_password", "error"),
        ("declared-type-mismatch", "uaa_jwt_signing_key", "error"),
    ]
    assert run.json["findings"][0]["message"] == (
        f"nats_password is declared as password in {path}:{line_of(path, 'nats_password')} but the var-store "
        "holds an rsa key pair: bosh keeps it "
        "as it is and the jobs that read it fail."
    )
    assert run.json["findings"][0]["line"] == data_line(store, "nats_password")


def data_line(path: Path, name: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(f"{name}:"))


def test_after_an_ip_change_the_certificates_must_be_reissued(
    cli: RunCli, write_store: WriteStore, tmp_path: Path
) -> None:
    store = write_store("creds.yml", bosh_store())
    variables = changed(declarations(), "director_ssl", common_name="10.0.0.6", alternative_names=["10.0.0.6"])
    path = write_manifest(tmp_path / "m.yml", variables)
    run = cli(store, store, "--no-config", "--format", "json", "--manifest", path)
    assert run.code == 1
    findings = run.json["findings"]
    assert [(f["rule"], f["variable"], f["field"], f["details"]["option"]) for f in findings] == [
        ("certificate-options-mismatch", "director_ssl", "certificate", "common_name"),
        ("certificate-options-mismatch", "director_ssl", "certificate", "alternative_names"),
    ]
    assert findings[1]["details"] == {"option": "alternative_names", "declared": "10.0.0.6", "stored": "192.168.56.6"}
    assert findings[1]["message"] == (
        f"director_ssl: the manifest ({path}:{line_of(path, 'director_ssl')}) says alternative_names: 10.0.0.6, "
        "the stored certificate has "
        "192.168.56.6. bosh keeps the stored certificate as it is; delete it so that bosh re-issues it, or fix the "
        "manifest."
    )
    # the operator deletes director_ssl, as the docs say: bosh re-issues it from the unchanged default_ca
    old = store
    reissued = write_store("new.yml", {k: v for k, v in bosh_store().items() if k != "director_ssl"})
    run = cli(old, reissued, "--no-config", "--format", "json", "--manifest", path)
    assert (run.code, rows(run.json)) == (0, [("removed-certificate", "director_ssl", "warning")])


def test_signer_usages_and_ca_flag_are_compared(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    data = bosh_store()
    # nats_server_tls re-issued by the wrong CA, with client_auth; blobstore_ca replaced by a leaf
    _, cn, sans, _ = BOSH_LEAVES["nats_server_tls"]
    wrong = make_ca("other", key_slot=44)
    data["nats_server_tls"] = make_leaf(
        cn, wrong, key_slot=45, sans=sans, extended_key_usage=("client_auth",)
    ).as_value()
    default_ca = make_ca(BOSH_CAS["default_ca"], key_slot=0)
    data["blobstore_ca"] = make_leaf(BOSH_CAS["blobstore_ca"], default_ca, key_slot=46).as_value()
    store = write_store("creds.yml", data)
    run = cli(
        store,
        store,
        "--no-config",
        "--format",
        "json",
        "--manifest",
        write_manifest(tmp_path / "m.yml", declarations()),
    )
    mismatches = [
        (f["variable"], f["details"]["option"], f["details"]["declared"], f["details"]["stored"])
        for f in run.json["findings"]
        if f["rule"] == "certificate-options-mismatch"
    ]
    assert mismatches == [
        ("blobstore_ca", "is_ca", "true", "false"),
        # its leaf is no longer signed by what blobstore_ca now holds
        (
            "blobstore_server_tls",
            "ca",
            "blobstore_ca",
            f"a certificate signed by CN={BOSH_CAS['blobstore_ca']},O=Cloud Foundry,C=US",
        ),
        ("nats_server_tls", "extended_key_usage", "server_auth", "client_auth"),
        ("nats_server_tls", "ca", "nats_ca", "a certificate signed by CN=other,O=Cloud Foundry,C=US"),
    ]


def test_orphans_and_unresolved_options(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    data = {**bosh_store(), "old_director_password": "abc"}
    store = write_store("creds.yml", data)
    variables = changed(
        declarations(), "director_ssl", common_name="((internal_ip))", alternative_names=["((internal_ip))"]
    )
    variables = changed(variables, "nats_server_tls", alternative_names=["((internal_ip))", "10.254.50.4"])
    path = write_manifest(tmp_path / "m.yml", variables)
    run = cli(store, store, "--no-config", "--format", "json", "--manifest", path)
    assert run.code == 0
    assert rows(run.json) == [("unresolved-manifest-option", None, "info")]  # an unchanged orphan: not said
    run = cli(store, store, "--no-config", "--format", "json", "--manifest", path, "--all")
    assert run.code == 0
    assert rows(run.json) == [
        ("unresolved-manifest-option", None, "info"),
        ("orphaned-variable", "old_director_password", "info"),
    ]
    assert run.json["findings"][0]["message"] == (
        f"3 options of {path} still hold ((variables)) and were not compared: director_ssl.common_name, "
        "director_ssl.alternative_names, nats_server_tls.alternative_names."
    )
    assert (
        run.json["findings"][1]["message"]
        == f"old_director_password is not declared in {path}: bosh no longer uses it."
    )


def test_manifests_from_the_configuration_file(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    store = write_store("creds.yml", {k: v for k, v in bosh_store().items() if k != "nats_ca"})
    (tmp_path / "deploy").mkdir()
    write_manifest(tmp_path / "deploy" / "bosh.yml", declarations())
    conf = tmp_path / "conf.yml"
    conf.write_text("manifests: [deploy/bosh.yml]\n", encoding="utf-8")
    run = cli(store, store, "--config", conf, "--format", "json")
    assert rows(run.json) == [("missing-ca", "nats_ca", "error")]
    # --manifest replaces the file's manifests
    other = write_manifest(tmp_path / "other.yml", [{"name": "nats_ca", "type": "certificate"}], whole=False)
    run = cli(store, store, "--config", conf, "--format", "json", "--manifest", other, "--all")
    assert sorted(rule for rule, _, _ in rows(run.json) if rule in MANIFEST_RULES) == ["missing-certificate"] + [
        "orphaned-variable"
    ] * (len(bosh_store()) - 1)


def test_only_the_variables_section_is_read(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text(
        "name: bosh\nproperties:\n  a: 1\n  a: 2\nvariables:\n- name: nats_ca\n  type: certificate\n"
        "  options: {is_ca: true, common_name: nats}\n",
        encoding="utf-8",
    )
    loaded = manifest.load([path])
    assert loaded is not None
    [(name, declaration)] = loaded.variables.items()
    assert (name, declaration.is_ca, declaration.common_name, declaration.line) == ("nats_ca", True, "nats", 6)
