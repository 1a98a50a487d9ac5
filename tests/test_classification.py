from __future__ import annotations

# Classification is one stage: every command names a variable the same way under the same configuration.
# `creds-lint OLD NEW` (each variable removed), `creds-lint diff OLD NEW` (the same change) and `creds-lint
# check` (each variable present but with an empty field) are run on the same variables with the same
# .creds-lint.yml, and every variable must carry the same "NAME (what it is)" in all three.
import re
from pathlib import Path

import pytest

from conftest import RunCli, WriteStore
from creds_lint.classify import classify, identify
from creds_lint.loader import parse_store
from creds_lint.model import DEFAULT_CLASSIFIER, Category, Role
from factory import dump_store, make_ca, make_leaf, make_rsa, make_ssh

CONFIG = """\
classify:
  encryption-keys:
    names: [my_secret_blob]
  disposable:
    names: [hm_password]
  logins:
    names: [ops_token]
"""

#: What every command must call each variable under CONFIG.
EXPECTED = {
    "my_secret_blob": "encryption key",  # a password, by the configuration
    "credhub_encryption_password": "encryption key",
    "admin_password": "login",
    "ops_token": "login",
    "nats_password": "agent credential",
    "hm_password": "disposable",
    "blobstore_secret": "password",
    "default_ca": "CA",
    "director_ssl": "certificate",
    "backup_encryption_key": "rsa key pair",  # a key pair whatever its name says
    "jumpbox_ssh": "ssh key pair",
}


def store() -> dict[str, object]:
    ca = make_ca("ca", key_slot=0)
    values: dict[str, object] = {
        name: f"{name}-0123456789abcdef"
        for name in ("my_secret_blob", "credhub_encryption_password", "admin_password", "ops_token")
    }
    values |= {n: f"{n}-0123456789abcdef" for n in ("nats_password", "hm_password", "blobstore_secret")}
    values |= {
        "default_ca": ca.as_value(),
        "director_ssl": make_leaf("director", ca, key_slot=1).as_value(),
        "backup_encryption_key": make_rsa(2),
        "jumpbox_ssh": make_ssh(3),
    }
    return values


def emptied(values: dict[str, object]) -> dict[str, object]:
    """Every variable still there, with an empty value (passwords) or an empty last field (the others)."""
    out: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            out[name] = {**value, sorted(value)[-1]: ""}
        else:
            out[name] = ""
    return out


_NAMED = re.compile(r"(?:^|[-~+] )(?P<name>[a-z_]+) \((?P<label>[^)]+)\)")


def names(texts: list[str]) -> dict[str, str]:
    """``NAME -> label`` of every ``NAME (label)`` at the start of a text, each variable once and consistently."""
    found: dict[str, str] = {}
    for text in texts:
        match = _NAMED.search(text)
        if match is None:
            continue
        name, label = match["name"], match["label"]
        assert found.setdefault(name, label) == label, (name, found[name], label)
    return found


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".creds-lint.yml").write_text(CONFIG, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_lint_check_and_diff_name_every_variable_the_same(
    configured: Path, cli: RunCli, write_store: WriteStore
) -> None:
    values = store()
    old = write_store("old.yml", values)
    gone = write_store("new.yml", {"unrelated": "x-0123456789abcdef"})
    broken = write_store("broken.yml", emptied(values))

    lint = cli(old, gone, "--format", "json")
    assert lint.code == 1
    by_lint = names([f["message"] for f in lint.json["findings"] if f["variable"] in EXPECTED])

    check = cli("check", broken, "--format", "json")
    assert check.code == 1
    by_check = names([f["message"] for f in check.json["findings"] if f["rule"] == "empty-value"])

    diff = cli("diff", old, gone)
    assert diff.code == 0
    by_diff = names([line for line in diff.out.splitlines() if line.startswith("- ")])

    textconv = cli("diff", "--textconv", old)
    by_view = names([line for line in textconv.out.splitlines() if not line.startswith(" ")])

    assert by_lint == EXPECTED
    assert by_check == EXPECTED
    assert by_diff == EXPECTED
    assert by_view == EXPECTED


def test_without_the_configuration_the_names_change_in_every_command(
    configured: Path, cli: RunCli, write_store: WriteStore
) -> None:
    old = write_store("old.yml", {"my_secret_blob": "blob-0123456789abcdef"})
    new = write_store("new.yml", {"my_secret_blob": "other-0123456789abcdef"})
    lint = cli(old, new, "--format", "json", "--no-config")
    assert lint.json["findings"][0]["message"].startswith("my_secret_blob (password) has a new value")
    assert "~ my_secret_blob (password), changed at line 1" in cli("diff", old, new, "--no-config").out


def test_one_decision_gives_role_category_and_words() -> None:
    """Kind first, then the name: an rsa pair named like an encryption key is a key pair (the key-pair rules speak
    for it) whose consequence is a key pair's, not CredHub's."""
    pair = parse_store(dump_store({"backup_encryption_key": make_rsa(2)}).encode(), source="s.yml")
    identity = identify(pair.entries["backup_encryption_key"], DEFAULT_CLASSIFIER)
    assert (identity.category, identity.role, identity.label) == (Category.KEYPAIR, Role.ENCRYPTION_KEY, "rsa key pair")
    assert identity.consequence == "data encrypted with its public key can no longer be decrypted"
    assert "CredHub" not in identity.consequence


def test_an_old_version_of_another_kind_or_ca_status_is_classified_on_its_own() -> None:
    ca = make_ca("default_ca")
    old_values = {"admin": "x" * 20, "nats": make_leaf("nats", ca).as_value(), "blobstore": ca.as_value()}
    new_values = {"admin": make_rsa(3), "nats": make_ca("nats").as_value(), "blobstore": ca.as_value()}
    old = parse_store(dump_store(old_values).encode(), source="old.yml")
    new = parse_store(dump_store(new_values).encode(), source="new.yml")
    classes = classify(new)
    old_classes = classify(old, other=classes)
    for entry in old:
        assert old_classes.of(entry) == identify(entry), entry.name
    assert old_classes.of(old.entries["blobstore"]) is classes.of(new.entries["blobstore"])  # the same: not again
    assert old_classes.of(old.entries["nats"]).category is Category.CERTIFICATE
    assert classes.of(new.entries["nats"]).category is Category.CA
