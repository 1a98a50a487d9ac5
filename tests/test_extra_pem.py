from __future__ import annotations

# Extra PEM material: parsers read the first block of a field, so whatever is pasted after it (another CA's
# certificate or key, a second ssh key, a password) must be reported, never taken for formatting.
import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from conftest import Run, RunCli, WriteStore
from creds_lint import x509
from factory import bosh_store, cert_from_value, leaf_rotation, make_ca, make_ssh

Store = dict[str, Any]
SECRET_MARKERS = ("-----BEGIN", "PRIVATE KEY", "ssh-rsa AAAA")


def line_of(path: Path, variable: str, field: str | None = None) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, text in enumerate(lines) if text == f"{variable}:" or text.startswith(f"{variable}: "))
    if field is None:
        return start + 1
    return next(i + 1 for i in range(start + 1, len(lines)) if lines[i].startswith(f"  {field}:"))


def compare(cli: RunCli, write_store: WriteStore, old: Mapping[str, object], new: Mapping[str, object]) -> Run:
    run = cli(write_store("old.yml", old), write_store("new.yml", new), "--no-config", "--format", "json")
    for marker in SECRET_MARKERS:
        assert marker not in run.out
        assert marker not in run.err
    return run


def errors(run: Run) -> list[tuple[str, str, str | None, int | None]]:
    return [(f["rule"], f["variable"], f["field"], f["line"]) for f in run.json["findings"] if f["severity"] == "error"]


def message(run: Run, rule: str, variable: str) -> str:
    (found,) = [f["message"] for f in run.json["findings"] if f["rule"] == rule and f["variable"] == variable]
    assert isinstance(found, str)
    return found


def key_id(store: Mapping[str, Any], name: str) -> str:
    return x509.key_id(cert_from_value(store[name]).key_obj)


# --- extra key material: malformed-certificate -----------------------------------------------------------------


def _appended_key(store: Store) -> tuple[str, str, str]:
    store["nats_ca"]["private_key"] += store["default_ca"]["private_key"]
    return (
        "nats_ca",
        "private_key",
        "nats_ca (CA): 'private_key' holds 2 PEM blocks where one key belongs "
        f"(rsa 2048 {key_id(store, 'nats_ca')}, rsa 2048 {key_id(store, 'default_ca')}): bosh deploys it as it is.",
    )


def _key_in_trust_field(store: Store) -> tuple[str, str, str]:
    store["director_ssl"]["ca"] += store["director_ssl"]["private_key"]
    return (
        "director_ssl",
        "ca",
        "director_ssl (certificate): 'ca' holds a private key besides certificates (handed to whoever reads it): "
        "bosh deploys it as it is.",
    )


def _second_ssh_key(store: Store) -> tuple[str, str, str]:
    store["jumpbox_ssh"]["public_key"] += make_ssh(33)["public_key"]
    return (
        "jumpbox_ssh",
        "public_key",
        "jumpbox_ssh (ssh key pair): 'public_key' holds 2 lines where one key belongs (each one is an authorized "
        "key): bosh deploys it as it is.",
    )


def _second_public_key(store: Store) -> tuple[str, str, str]:
    store["uaa_jwt_signing_key"]["public_key"] += store["uaa_jwt_signing_key"]["public_key"]
    return (
        "uaa_jwt_signing_key",
        "public_key",
        "uaa_jwt_signing_key (rsa key pair): 'public_key' holds 2 PEM blocks where one key belongs (public key, "
        "public key): bosh deploys it as it is.",
    )


def _text_after_certificate(store: Store) -> tuple[str, str, str]:
    store["nats_ca"]["certificate"] += "\nhunter2hunter2hunter2\n"
    return (
        "nats_ca",
        "certificate",
        "nats_ca (CA): 'certificate' holds text outside its PEM blocks (a pasted value?): bosh deploys it as it is.",
    )


@pytest.mark.parametrize(
    "mutate",
    [_appended_key, _key_in_trust_field, _second_ssh_key, _second_public_key, _text_after_certificate],
    ids=["ca-key-appended", "key-in-ca-field", "second-ssh-key", "second-rsa-public-key", "text-after-certificate"],
)
def test_extra_material_after_the_first_block_is_malformed(
    cli: RunCli, write_store: WriteStore, mutate: Callable[[Store], tuple[str, str, str]]
) -> None:
    old = bosh_store()
    new = copy.deepcopy(old)
    variable, field, expected = mutate(new)
    run = compare(cli, write_store, old, new)
    path = write_store("new.yml", new)
    assert run.code == 1
    assert errors(run) == [("malformed-certificate", variable, field, line_of(path, variable, field))]
    assert message(run, "malformed-certificate", variable) == expected
    assert "hunter2" not in run.out


def test_one_key_re_encoded_is_not_extra_material(cli: RunCli, write_store: WriteStore) -> None:
    """A key written again with other line breaks is still one block: no error."""
    old: Store = bosh_store()
    new = copy.deepcopy(old)
    pem = new["nats_ca"]["private_key"].splitlines()
    new["nats_ca"]["private_key"] = "\n".join([pem[0], "".join(pem[1:-1]), pem[-1]]) + "\n"
    run = compare(cli, write_store, old, new)
    assert (run.code, errors(run)) == (0, [])


# --- trust fields: changed-trust ---------------------------------------------------------------------------------


def label(store: Mapping[str, Any], name: str) -> str:
    info = x509.info(cert_from_value(store[name]).cert_obj)
    serial = info.serial if len(info.serial) <= 16 else info.serial[:16] + "…"
    return f"CN={info.common_name}, serial {serial}, expires {info.not_after:%Y-%m-%d}"


def test_another_ca_appended_to_a_ca_certificate_is_changed_trust(cli: RunCli, write_store: WriteStore) -> None:
    old: Store = bosh_store()
    new = copy.deepcopy(old)
    new["nats_ca"]["certificate"] += old["default_ca"]["certificate"]
    run = compare(cli, write_store, old, new)
    path = write_store("new.yml", new)
    assert run.code == 1
    assert errors(run) == [("changed-trust", "nats_ca", "certificate", line_of(path, "nats_ca", "certificate"))]
    assert message(run, "changed-trust", "nats_ca") == (
        f"nats_ca (CA) [{label(old, 'nats_ca')}]: its 'certificate' field now also carries default_ca "
        f"({label(old, 'default_ca')}): everything given ((nats_ca.certificate)) now also accepts what it signs."
    )
    # and taking it out again is a change of trust too
    back = compare(cli, write_store, new, old)
    assert errors(back) == [("changed-trust", "nats_ca", "certificate", line_of(path, "nats_ca", "certificate"))]
    assert message(back, "changed-trust", "nats_ca").endswith(
        f"its 'certificate' field no longer carries default_ca ({label(old, 'default_ca')}): everything given "
        "((nats_ca.certificate)) now rejects what it signs."
    )


def test_unrelated_ca_added_to_a_leaf_trust_field_is_no_rotation(cli: RunCli, write_store: WriteStore) -> None:
    old: Store = bosh_store()
    new = copy.deepcopy(old)
    new["director_ssl"]["ca"] += old["nats_ca"]["certificate"]
    run = compare(cli, write_store, old, new)
    path = write_store("new.yml", new)
    assert run.code == 1
    assert errors(run) == [("changed-trust", "director_ssl", "ca", line_of(path, "director_ssl", "ca"))]
    assert "documented-rotation" not in {f["rule"] for f in run.json["findings"]}
    assert message(run, "changed-trust", "director_ssl") == (
        f"director_ssl (certificate) [{label(old, 'director_ssl')}]: its 'ca' field now also trusts nats_ca "
        f"({label(old, 'nats_ca')}), which is no version of its signer default_ca: everything given "
        "((director_ssl.ca)) now also accepts what that CA signs. Remove it; to rotate the CA, add its next version "
        "as NAME_2 and trust that."
    )
    assert message(run, "rotated-certificate", "director_ssl").endswith(
        "but its 'ca' field now trusts a CA that is no version of its signer (see changed-trust)."
    )


def test_unrelated_ca_added_to_a_root_trust_field(cli: RunCli, write_store: WriteStore) -> None:
    old: Store = bosh_store()
    new = copy.deepcopy(old)
    new["nats_ca"]["ca"] += old["default_ca"]["certificate"]
    run = compare(cli, write_store, old, new)
    path = write_store("new.yml", new)
    assert errors(run) == [("changed-trust", "nats_ca", "ca", line_of(path, "nats_ca", "ca"))]
    assert f"now also trusts default_ca ({label(old, 'default_ca')}), which is no version of nats_ca itself" in (
        message(run, "changed-trust", "nats_ca")
    )


def test_leaf_re_issued_and_trusting_an_unrelated_ca(cli: RunCli, write_store: WriteStore) -> None:
    old: Store = bosh_store()
    new: Store = leaf_rotation(old)
    new["uaa_ssl"] = {**new["uaa_ssl"], "ca": new["uaa_ssl"]["ca"] + old["blobstore_ca"]["certificate"]}
    run = compare(cli, write_store, old, new)
    path = write_store("new.yml", new)
    assert errors(run) == [("changed-trust", "uaa_ssl", "ca", line_of(path, "uaa_ssl", "ca"))]


@pytest.mark.parametrize("suffix", ["_2", "_new"])
def test_next_version_of_the_signer_in_trust_fields_is_the_documented_trust_step(
    cli: RunCli, write_store: WriteStore, suffix: str
) -> None:
    old: Store = bosh_store()
    new = copy.deepcopy(old)
    following = make_ca("ca-next", key_slot=50)
    new["default_ca" + suffix] = following.as_value()
    for name in ("director_ssl", "uaa_ssl", "default_ca"):
        new[name]["ca"] += following.certificate
    run = compare(cli, write_store, old, new)
    assert (run.code, errors(run)) == (0, [])
    assert sorted((f["rule"], f["variable"]) for f in run.json["findings"]) == [
        ("added-variable", "default_ca" + suffix),
        ("documented-rotation", "default_ca"),
        ("documented-rotation", "director_ssl"),
        ("documented-rotation", "uaa_ssl"),
    ]
    # the same CA under a name that is not the signer's next version is a change of trust
    unrelated = {**new, "other_ca": new["default_ca" + suffix]}
    del unrelated["default_ca" + suffix]
    run = compare(cli, write_store, old, unrelated)
    assert [(rule, variable) for rule, variable, _, _ in errors(run)] == [
        ("changed-trust", "default_ca"),
        ("changed-trust", "director_ssl"),
        ("changed-trust", "uaa_ssl"),
    ]


# --- what changed in a certificate, by field -------------------------------------------------------------------


def test_indentation_slip_names_the_nested_variable_and_removed_password_fires(
    cli: RunCli, write_store: WriteStore
) -> None:
    """credhub_cli_user_password indented under credhub_ca: a field was added to the CA, and the password is gone."""
    old: Store = bosh_store()
    new = copy.deepcopy(old)
    new["credhub_ca"]["credhub_cli_user_password"] = new.pop("credhub_cli_user_password")
    run = compare(cli, write_store, old, new)
    assert run.code == 1
    assert [(f["rule"], f["variable"], f["severity"]) for f in run.json["findings"]] == [
        ("renewed-ca", "credhub_ca", "info"),
        ("removed-password", "credhub_cli_user_password", "error"),
    ]
    assert message(run, "renewed-ca", "credhub_ca") == (
        f"credhub_ca (CA) kept its certificate ({label(old, 'credhub_ca')}), and a field named like the removed "
        "variable credhub_cli_user_password (indented under it by mistake?) was added: existing signatures stay valid."
    )
    assert old["credhub_cli_user_password"] not in run.out


def test_unknown_field_is_named_by_its_fingerprint(cli: RunCli, write_store: WriteStore) -> None:
    from creds_lint.model import fingerprint

    old: Store = bosh_store()
    new = copy.deepcopy(old)
    new["director_ssl"]["s3cretpastedhere"] = "x"
    run = compare(cli, write_store, old, new)
    assert (run.code, errors(run)) == (0, [])
    assert message(run, "rotated-certificate", "director_ssl") == (
        f"director_ssl (certificate) kept its certificate ({label(old, 'director_ssl')}); an unknown field (its "
        f"name's fingerprint is {fingerprint('s3cretpastedhere')}) was added: signed by default_ca, which is unchanged."
    )
    assert "s3cretpastedhere" not in run.out


def test_formatting_is_said_only_of_a_field_whose_pem_was_rewrapped(cli: RunCli, write_store: WriteStore) -> None:
    old: Store = bosh_store()
    new = copy.deepcopy(old)
    pem = new["nats_ca"]["certificate"].splitlines()
    new["nats_ca"]["certificate"] = "\n".join([pem[0], "".join(pem[1:-1]), pem[-1]]) + "\n"
    new["nats_ca"]["public_key"] = old["uaa_jwt_signing_key"]["public_key"]
    run = compare(cli, write_store, old, new)
    assert message(run, "renewed-ca", "nats_ca") == (
        f"nats_ca (CA) kept its certificate ({label(old, 'nats_ca')}), and the formatting of its 'certificate' "
        "changed, its 'public_key' was added: existing signatures stay valid."
    )


def test_renewed_ca_names_the_fields_added(cli: RunCli, write_store: WriteStore) -> None:
    from creds_lint.model import fingerprint
    from factory import renew

    old: Store = bosh_store()
    new = copy.deepcopy(old)
    new["default_ca"] = {**renew(cert_from_value(old["default_ca"])).as_value(), "note": "x"}
    run = compare(cli, write_store, old, new)
    assert message(run, "renewed-ca", "default_ca").endswith(
        f"existing signatures stay valid. Also, an unknown field (its name's fingerprint is {fingerprint('note')}) "
        "was added."
    )
