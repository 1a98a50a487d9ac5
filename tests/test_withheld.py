"""A value short or plain enough to be recovered from its fingerprint gets none: "fingerprint withheld" in every
output, and allowances for it match by rule and variable (issue: a 6-digit password was recovered from its
8-hex-digit fingerprint in a second)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from conftest import RunCli, WriteStore
from creds_lint.findings import WITHHELD
from creds_lint.model import Typed, YamlType, digest, fingerprint, guessable
from factory import bosh_store, make_ca, password

SHORT = ["123456", "00000000000000000000", "changeme", "Password", "hunter2", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ""]


@pytest.mark.parametrize("value", SHORT)
def test_short_digit_and_hand_set_values_are_guessable(value: str) -> None:
    assert guessable(value)
    assert fingerprint(value) == WITHHELD
    assert digest(value).startswith("sha256:")  # comparisons still tell two of them apart


def test_numbers_and_booleans_are_guessable() -> None:
    assert fingerprint(Typed(type=YamlType.INT, canonical="83")) == WITHHELD
    assert fingerprint(Typed(type=YamlType.BOOL, canonical="true")) == WITHHELD


def test_generated_values_keep_their_fingerprint() -> None:
    assert not guessable(password("x"))  # 20 characters of [a-z0-9], as bosh generates
    assert not guessable(make_ca("ca").as_value())
    assert fingerprint(password("x")) == digest(password("x"))


def _hash_prefix(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:8]


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "markdown"])
def test_a_regenerated_pin_shows_no_fingerprint(cli: RunCli, write_store: WriteStore, fmt: str) -> None:
    old_store, new_store = bosh_store(), bosh_store()
    old_store["admin_password"], new_store["admin_password"] = "482913", "771204"
    old, new = write_store("old.yml", old_store), write_store("new.yml", new_store)
    run = cli(old, new, "--no-config", "--format", fmt, "--suggest-allow")
    assert run.code == 1
    out = run.out + run.err
    for value in ("482913", "771204"):
        assert value not in out
        assert _hash_prefix(value) not in out
    if fmt in ("text", "json"):
        assert WITHHELD in out


def test_diff_shows_no_fingerprint_of_a_pin(cli: RunCli, write_store: WriteStore) -> None:
    old = write_store("old.yml", {"pin": "482913", "other": password("o")})
    new = write_store("new.yml", {"pin": "771204", "other": password("o")})
    assert cli("diff", old, new).code == 0
    for path, value in ((old, "482913"), (new, "771204")):
        run = cli("diff", "--textconv", path)  # what `git diff` shows through textconv
        assert run.code == 0
        assert WITHHELD in run.out
        assert "sha256:" in run.out  # the generated password keeps its fingerprint
        assert _hash_prefix(value) not in run.out


def test_suggested_allowance_for_a_pin_has_no_fingerprint(cli: RunCli, write_store: WriteStore) -> None:
    old = write_store("old.yml", {"admin_password": "482913"})
    new = write_store("new.yml", {"admin_password": "771204"})
    run = cli(old, new, "--no-config", "--format", "text", "--suggest-allow")
    (entry,) = [line for line in run.out.splitlines() if "rule: regenerated-password" in line]
    assert "fingerprint:" not in entry
    assert entry.endswith("# fingerprint withheld")


def test_an_allowance_with_a_fingerprint_never_covers_a_withheld_value(
    cli: RunCli, write_store: WriteStore, tmp_path: Path
) -> None:
    old = write_store("old.yml", {"admin_password": "482913"})
    new = write_store("new.yml", {"admin_password": "771204"})
    conf = tmp_path / "conf.yml"
    guess = "sha256:" + _hash_prefix("771204")
    conf.write_text(
        "allow:\n  - rule: regenerated-password\n    variable: admin_password\n"
        f"    fingerprint: '{guess}'\n    reason: new admin PIN\n",
        encoding="utf-8",
    )
    run = cli(old, new, "--config", conf, "--format", "json")
    assert run.code == 1
    unused = [f for f in run.json["findings"] if f["rule"] == "unused-allowance"]
    assert unused
    assert "remove `fingerprint:`" in unused[0]["message"]
    conf.write_text(
        "allow:\n  - rule: regenerated-password\n    variable: admin_password\n    reason: new admin PIN\n",
        encoding="utf-8",
    )
    assert cli(old, new, "--config", conf).code == 0  # by rule and variable alone


def test_a_secret_pasted_into_a_configuration_is_never_echoed(
    cli: RunCli, write_store: WriteStore, tmp_path: Path
) -> None:
    store = write_store("creds.yml", {"admin_password": password("a")})
    conf = tmp_path / "conf.yml"
    conf.write_text(
        f"allow:\n  - rule: regenerated-password\n    variable: admin_password\n    fingerprint: {password('a')}\n"
        f"    expires: {password('b')}\n    reason: r\n",
        encoding="utf-8",
    )
    run = cli(store, store, "--config", conf, "--format", "json")
    assert run.code == 2
    out = run.out + run.err
    assert password("a") not in out
    assert password("b") not in out
    assert json.loads(run.out)["errors"]
