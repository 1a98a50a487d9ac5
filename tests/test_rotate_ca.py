from __future__ import annotations

# `creds-lint rotate ca` and `rotate password` with the real bosh CLI: the NATS procedure end to end (the docs' add
# ops file applied with `bosh int -o ... --vars-store`, then --stage remove, then --stage cleanup), each step's
# diff the expected one, the end state chaining every leaf to the new CA (`openssl verify`); a CA built from a
# manifest's variables with every option copied; the documented password renames; refusals write nothing.
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import RunCli, _bosh_cli
from creds_lint import rotate
from creds_lint.loader import parse_store

pytestmark = pytest.mark.slow  # real bosh CLI, many CAs and leaves to build

NATS: dict[str, dict[str, Any]] = {
    "nats_ca": {"is_ca": True, "common_name": "default.nats-ca.bosh-internal"},
    "nats_server_tls": {
        "ca": "nats_ca",
        "common_name": "default.nats.bosh-internal",
        "alternative_names": ["192.168.56.6", "10.254.50.4"],
        "extended_key_usage": ["server_auth"],
    },
    "nats_clients_director_tls": {
        "ca": "nats_ca",
        "common_name": "default.director.bosh-internal",
        "extended_key_usage": ["client_auth"],
    },
    "nats_clients_health_monitor_tls": {
        "ca": "nats_ca",
        "common_name": "default.hm.bosh-internal",
        "extended_key_usage": ["client_auth"],
    },
    "my_ca": {"is_ca": True, "common_name": "my-ca", "duration": 730},
    "my_server": {"ca": "my_ca", "common_name": "my.internal", "alternative_names": ["my.internal", "10.0.0.9"]},
}
LEAVES = ("nats_server_tls", "nats_clients_director_tls", "nats_clients_health_monitor_tls")
SECONDS = tuple(f"{name}_2" for name in ("nats_ca", *LEAVES))


def manifest_text() -> str:
    variables: list[dict[str, Any]] = [{"name": "credhub_encryption_password", "type": "password"}]
    variables += [{"name": "blobstore_agent_password", "type": "password"}]
    variables += [{"name": "admin_password", "type": "password"}]
    variables += [{"name": name, "type": "certificate", "options": options} for name, options in NATS.items()]
    manifest = {
        "name": "bosh",
        "instance_groups": [{"name": "bosh", "properties": {"nats": {"tls": {}}}}],
        "variables": variables,
    }
    return yaml.safe_dump(manifest, sort_keys=False)


class Bosh:
    def __init__(self, tmp_path: Path) -> None:
        found = _bosh_cli()
        if found is None:
            pytest.skip("the real bosh CLI is not available (set CREDS_LINT_BOSH or put bosh on PATH)")
        self.bosh = found
        self.tmp_path = tmp_path
        self.manifest = tmp_path / "manifest.yml"
        self.manifest.write_text(manifest_text(), encoding="utf-8")
        self.store = tmp_path / "creds.yml"

    def int(self, *ops: Path) -> None:
        args = [str(self.bosh), "int", str(self.manifest)]
        for op in ops:
            args += ["-o", str(op)]
        args += ["-v", "internal_ip=10.0.0.6", "--vars-store", str(self.store)]
        result = subprocess.run(args, capture_output=True, text=True, check=False, cwd=self.tmp_path)
        assert result.returncode == 0, f"bosh int failed: {result.stderr[-500:]}"


@pytest.fixture
def bosh(tmp_path: Path) -> Bosh:
    made = Bosh(tmp_path)
    made.int()
    made.store.chmod(0o600)
    return made


def values(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def openssl_verify(tmp_path: Path, ca_pem: str, leaf_pem: str) -> bool:
    (tmp_path / "ca.pem").write_text(ca_pem, encoding="utf-8")
    (tmp_path / "leaf.pem").write_text(leaf_pem, encoding="utf-8")
    result = subprocess.run(
        ["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "leaf.pem")],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0


def engine_diff(before: dict[str, object], after: Path, expected: rotate.Expected) -> rotate.Proof:
    old = parse_store(yaml.safe_dump(before).encode(), source="before")
    new = parse_store(after.read_bytes(), source=str(after))
    return rotate.prove(old, new, expected, now=datetime.now(tz=UTC))


def test_nats_ca_rotation_end_to_end(bosh: Bosh, cli: RunCli, tmp_path: Path) -> None:
    store = bosh.store
    original = values(store)
    run = cli("rotate", "ca", "nats_ca", store, "--stage", "add")
    assert run.code == 0, run.out + run.err
    add = tmp_path / "add-new-ca.yml"
    assert add.is_file()
    assert "nats_server_tls_2: the docs' ops file generates it with ((internal_ip))" in run.out
    assert "192.168.56.6, 10.254.50.4" in run.out
    assert values(store) == original  # add writes the ops file, never the store
    bosh.int(add)
    added = engine_diff(original, store, rotate.Expected(added=frozenset(SECONDS)))
    assert added.holds, added.problems
    run = cli("rotate", "ca", "nats_ca", store, "--stage", "remove", "--format", "json")
    assert run.code == 0, run.out
    assert run.json["proof"]["holds"] is True
    assert sorted(run.json["proof"]["added"]) == sorted(SECONDS)
    remove = tmp_path / "remove-old-ca.yml"
    assert run.json["ops_files"] == [str(remove)]
    before_remove = store.read_bytes()
    bosh.int(remove)
    assert store.read_bytes() == before_remove  # the remove stage generates nothing
    staged = values(store)
    run = cli("rotate", "ca", "nats_ca", store, "--stage", "cleanup", "--format", "json")
    assert run.code == 0, run.out
    proof = run.json["proof"]
    assert proof["holds"] is True
    assert sorted(proof["removed"]) == sorted(SECONDS)
    assert sorted(proof["changed"]) == sorted(("nats_ca", *LEAVES))
    assert Path(run.json["backup"]).read_bytes() == before_remove
    final = values(store)
    assert set(final) == set(original)
    for name in ("nats_ca", *LEAVES):
        assert final[name] == staged[f"{name}_2"]
        assert final[name] != original[name]
    assert {n for n in final if final[n] != original[n]} == {"nats_ca", *LEAVES}
    new_ca = final["nats_ca"]["certificate"]
    for leaf in LEAVES:
        assert openssl_verify(tmp_path, new_ca, final[leaf]["certificate"]), leaf
        assert not openssl_verify(tmp_path, original["nats_ca"]["certificate"], final[leaf]["certificate"]), leaf
        assert final[leaf]["ca"] == new_ca
    cleaned = store.read_bytes()
    bosh.int()
    assert store.read_bytes() == cleaned  # create-env without the ops files generates nothing
    check = cli(Path(run.json["backup"]), store)
    assert check.code == 0, check.out


def test_remove_refuses_a_store_that_moved_since_add(bosh: Bosh, cli: RunCli, tmp_path: Path) -> None:
    store = bosh.store
    assert cli("rotate", "ca", "nats_ca", store, "--stage", "add").code == 0
    kept = {name: value for name, value in values(store).items() if name != "nats_server_tls"}
    store.write_text(yaml.safe_dump(kept), encoding="utf-8")
    bosh.int(tmp_path / "add-new-ca.yml")  # regenerates nats_server_tls too: the original changed
    data = store.read_bytes()
    run = cli("rotate", "ca", "nats_ca", store, "--stage", "remove")
    assert run.code == 1
    assert "nats_server_tls: changed since --stage add" in run.out
    assert not (tmp_path / "remove-old-ca.yml").exists()
    run = cli("rotate", "ca", "nats_ca", store, "--stage", "cleanup")
    assert run.code == 1
    assert store.read_bytes() == data
    assert list(tmp_path.glob("creds.yml.*.bak")) == []


def test_stages_out_of_order_are_refused(bosh: Bosh, cli: RunCli, tmp_path: Path) -> None:
    store = bosh.store
    data = store.read_bytes()
    run = cli("rotate", "ca", "nats_ca", store, "--stage", "cleanup")
    assert run.code == 1
    assert "nats_ca_2: not in the var-store" in run.out
    assert cli("rotate", "ca", "nats_ca", store, "--stage", "add").code == 0
    bosh.int(tmp_path / "add-new-ca.yml")
    run = cli("rotate", "ca", "nats_ca", store, "--stage", "add")
    assert run.code == 1
    assert "already in the var-store" in run.out
    assert cli("rotate", "ca", "nats_server_tls", store, "--stage", "add").code == 2  # no procedure, no manifest
    del data


def test_a_ca_from_the_manifest_copies_every_option(bosh: Bosh, cli: RunCli, tmp_path: Path) -> None:
    store = bosh.store
    manifest = bosh.manifest
    original = values(store)
    run = cli("rotate", "ca", "my_ca", store, "--stage", "add", "--manifest", manifest)
    assert run.code == 0, run.out
    add = tmp_path / "add-new-my_ca.yml"
    operations = yaml.safe_load(add.read_text(encoding="utf-8"))
    declared = {op["value"]["name"]: op["value"]["options"] for op in operations}
    assert declared == {
        "my_ca_2": NATS["my_ca"],
        "my_server_2": {**NATS["my_server"], "ca": "my_ca_2"},
    }
    bosh.int(add)
    assert cli("rotate", "ca", "my_ca", store, "--stage", "remove", "--manifest", manifest).code == 0
    run = cli("rotate", "ca", "my_ca", store, "--stage", "cleanup", "--manifest", manifest)
    assert run.code == 0, run.out
    final = values(store)
    assert set(final) == set(original)
    assert openssl_verify(tmp_path, final["my_ca"]["certificate"], final["my_server"]["certificate"])
    assert final["my_ca"] != original["my_ca"]


@pytest.mark.parametrize(
    ("name", "old"),
    [
        ("credhub_encryption_password", "credhub_encryption_password_old"),
        ("blobstore_agent_password", "blobstore_agent_old_password"),
    ],
)
def test_password_renamed_to_the_documented_old_name(bosh: Bosh, cli: RunCli, name: str, old: str) -> None:
    store = bosh.store
    original = values(store)
    run = cli("rotate", "password", name, store)
    assert run.code == 0, run.out
    assert "exactly what the step expects" in run.out
    assert f"(({old}))" in run.out  # the ops file that reads it, printed
    renamed = values(store)
    assert name not in renamed
    assert renamed[old] == original[name]
    assert {n for n in renamed if n != old} == {n for n in original if n != name}
    assert str(original[name]) not in run.out + run.err
    bosh.int()  # create-env generates a new one; the old one stays
    after = values(store)
    assert after[old] == original[name]
    assert after[name] != original[name]


@pytest.mark.parametrize("name", ["admin_password", "hm_password", "nats_ca"])
def test_other_passwords_are_refused(bosh: Bosh, cli: RunCli, name: str) -> None:
    store = bosh.store
    data = store.read_bytes()
    run = cli("rotate", "password", name, store)
    assert run.code == 1
    assert "refused, nothing written" in run.out
    assert store.read_bytes() == data
