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
from factory import bosh_store, cert_from_value, make_ssh

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
