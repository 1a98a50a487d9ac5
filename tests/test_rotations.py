"""Documented rotations: NAME_old keeps the old value, NAME_2 is promoted, CA certificates are concatenated."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from conftest import RunCli, WriteStore
from factory import BOSH_CAS, BOSH_LEAVES, Cert, bosh_store, cert_from_value, make_ca, make_leaf, password

NATS_LEAVES = sorted(name for name, (ca, *_) in BOSH_LEAVES.items() if ca == "nats_ca")
NATS_CN = BOSH_CAS["nats_ca"]
NEXT_CN = "default.nats-ca-2.bosh-internal"


def findings(run_json: Mapping[str, object]) -> list[tuple[object, ...]]:
    items = run_json["findings"]
    assert isinstance(items, list)
    return sorted((f["rule"], f["variable"], f["field"], f["severity"]) for f in items)


def reading(path: Path, *names: str) -> Path:
    """A full manifest, as `bosh int` prints it without a vars store, whose job properties read ``names``."""
    reads = "".join(f"        - ((({name})))\n".replace("(((", "((").replace(")))", "))") for name in names)
    path.write_text(
        "name: bosh\ninstance_groups:\n- name: bosh\n  jobs:\n  - name: credhub\n    properties:\n"
        f"      keys:\n{reads}variables: []\n",
        encoding="utf-8",
    )
    return path


def test_encryption_password_rotated_with_name_old(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    before = {"credhub_encryption_password": password("one"), "admin_password": password("a")}
    after = {
        **before,
        "credhub_encryption_password": password("two"),
        "credhub_encryption_password_old": password("one"),
    }
    old, new = write_store("old.yml", before), write_store("new.yml", after)
    manifest = reading(tmp_path / "manifest.yml", "credhub_encryption_password", "credhub_encryption_password_old")
    unread = cli(old, new, "--no-config", "--format", "json")
    assert unread.code == 1
    assert ("regenerated-encryption-key", "credhub_encryption_password", None, "error") in findings(unread.json)
    run = cli(old, new, "--no-config", "--format", "json", "--manifest", manifest)
    assert run.code == 0
    assert findings(run.json) == [
        ("added-variable", "credhub_encryption_password_old", None, "info"),
        ("documented-rotation", "credhub_encryption_password", None, "info"),
        ("orphaned-variable", "credhub_encryption_password", None, "info"),
        ("orphaned-variable", "credhub_encryption_password_old", None, "info"),
    ]
    [rotation] = [f for f in run.json["findings"] if f["rule"] == "documented-rotation"]
    assert run.json["summary"]["error"] == 0
    # the fingerprints, as the same change reports them when NAME_old holds something else
    bare = cli(
        old,
        write_store("bare.yml", {**after, "credhub_encryption_password_old": "else"}),
        "--format",
        "json",
        "--manifest",
        manifest,
    )
    [regenerated] = [f for f in bare.json["findings"] if f["rule"] == "regenerated-encryption-key"]
    old_fp, new_fp = regenerated["details"]["old_fingerprint"], regenerated["details"]["new_fingerprint"]
    assert rotation["message"] == (
        f"credhub_encryption_password (encryption key) has a new value ({old_fp} -> {new_fp}) and its old value is "
        f"kept under credhub_encryption_password_old, which {manifest} references ((credhub_encryption_password_old)): "
        "the documented rotation. Keep credhub_encryption_password_old where the old value is still needed (an "
        "inactive key, an additional user) until the rotation is complete."
    )
    assert rotation["details"] == {"step": "old value kept", "partner": "credhub_encryption_password_old"}
    assert rotation["line"] == 2


def test_name_old_with_another_value_is_no_rotation(cli: RunCli, write_store: WriteStore) -> None:
    before = {"credhub_encryption_password": password("one")}
    after = {"credhub_encryption_password": password("two"), "credhub_encryption_password_old": password("three")}
    run = cli(write_store("old.yml", before), write_store("new.yml", after), "--no-config", "--format", "json")
    assert run.code == 1
    assert findings(run.json) == [
        ("added-variable", "credhub_encryption_password_old", None, "info"),
        ("regenerated-encryption-key", "credhub_encryption_password", None, "error"),
    ]


def test_name_removed_and_its_value_kept_under_name_old(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    before = {"credhub_encryption_password": password("one")}
    after = {"credhub_encryption_password_old": password("one")}
    manifest = reading(tmp_path / "manifest.yml", "credhub_encryption_password_old")
    old, new = write_store("old.yml", before), write_store("new.yml", after)
    run = cli(old, new, "--no-config", "--format", "json", "--manifest", manifest)
    assert run.code == 0
    assert findings(run.json) == [
        ("added-variable", "credhub_encryption_password_old", None, "info"),
        ("documented-rotation", "credhub_encryption_password", None, "info"),
        ("orphaned-variable", "credhub_encryption_password_old", None, "info"),
    ]
    [rotation] = [f for f in run.json["findings"] if f["rule"] == "documented-rotation"]
    assert rotation["message"].startswith(
        "credhub_encryption_password (encryption key) was removed and its old value is kept under "
        f"credhub_encryption_password_old, which {manifest} references ((credhub_encryption_password_old)): the "
        "documented rotation. BOSH generates a new credhub_encryption_password"
    )
    assert (rotation["line"], rotation["old_line"]) == (None, 1)


def _nats(store: Mapping[str, object], ca: Cert, trust: str, signer: Cert | None = None, slot: int = 41) -> None:
    """Put the nats leaves in ``store``: re-issued by ``signer`` when given (else kept), ``ca`` field ``trust``."""
    assert isinstance(store, dict)
    for name in NATS_LEAVES:
        if signer is not None:
            _, cn, sans, eku = BOSH_LEAVES[name]
            value = make_leaf(cn, signer, key_slot=slot, sans=sans, extended_key_usage=eku).as_value()
        else:
            current = store[name]
            assert isinstance(current, dict)
            value = dict(current)
        value["ca"] = trust
        store[name] = value


def test_ca_rotation_with_concatenated_trust_fields(cli: RunCli, write_store: WriteStore) -> None:
    """The documented CA rotation, step by step: every step passes and says what it is."""
    start = bosh_store()
    nats_ca = cert_from_value(start["nats_ca"])  # type: ignore[arg-type]
    nats_ca_2 = make_ca(NEXT_CN, key_slot=40)
    both = nats_ca.certificate + nats_ca_2.certificate

    # 1. add nats_ca_2 and trust both CAs
    step1 = dict(start)
    step1["nats_ca_2"] = nats_ca_2.as_value()
    _nats(step1, nats_ca, both)
    run = cli(write_store("s0.yml", start), write_store("s1.yml", step1), "--no-config", "--format", "json")
    assert run.code == 0
    assert findings(run.json) == sorted(
        [("added-variable", "nats_ca_2", None, "info")]
        + [("documented-rotation", name, "ca", "info") for name in NATS_LEAVES]
    )
    [server] = [f for f in run.json["findings"] if f["variable"] == "nats_server_tls"]
    assert server["message"] == (
        f"nats_server_tls (certificate): only its trusted CAs ('ca' field) changed (added CN={NEXT_CN}), and it is "
        "still signed by one of them: the trust step of a documented CA rotation."
    )

    # 2. bosh generates the next leaves, NAME_2 of each, from nats_ca_2 (docs-bosh: the ops file declares them)
    step2 = dict(step1)
    for name in NATS_LEAVES:
        _, cn, sans, eku = BOSH_LEAVES[name]
        step2[f"{name}_2"] = make_leaf(cn, nats_ca_2, key_slot=41, sans=sans, extended_key_usage=eku).as_value()
    run = cli(write_store("s1b.yml", step1), write_store("s2.yml", step2), "--no-config", "--format", "json")
    assert run.code == 0
    # audited alone, each intermediate state is sound
    for state in ("s1b.yml", "s2.yml"):
        audit = cli(
            "check", write_store(state, step1 if state == "s1b.yml" else step2), "--no-config", "--format", "json"
        )
        assert (audit.code, [f for f in audit.json["findings"] if f["severity"] != "info"]) == (0, [])
    assert findings(run.json) == sorted(("added-variable", f"{name}_2", None, "info") for name in NATS_LEAVES)

    # 3. the clean-up: each NAME_2 promoted over NAME and removed (`bosh int creds.yml -o update_nats_var_values.yml`)
    step3 = {k: v for k, v in step2.items() if not k.endswith("_2")}
    step3["nats_ca"] = nats_ca_2.as_value()
    for name in NATS_LEAVES:
        step3[name] = step2[f"{name}_2"]
    run = cli(write_store("s2b.yml", step2), write_store("s3.yml", step3), "--no-config", "--format", "json")
    assert run.code == 0, run.out
    promoted = ("nats_ca", *NATS_LEAVES)
    assert findings(run.json) == sorted(
        [("documented-rotation", name, None, "info") for name in promoted]
        + [("documented-rotation", f"{name}_2", None, "info") for name in promoted]
    )
    messages = {f["variable"]: f["message"] for f in run.json["findings"]}
    assert messages["nats_ca_2"] == (
        "nats_ca_2 (CA) was removed after its value moved to nats_ca: the last step of the documented rotation."
    )
    assert messages["nats_ca"].startswith("nats_ca (CA) now holds the value of nats_ca_2 (sha256:")


def test_dropping_the_signer_from_the_trust_field_is_no_rotation(cli: RunCli, write_store: WriteStore) -> None:
    start = bosh_store()
    stranger = make_ca("stranger", key_slot=42)
    after = dict(start)
    _nats(after, stranger, stranger.certificate)  # the leaves are still signed by the old nats_ca
    run = cli(write_store("old.yml", start), write_store("new.yml", after), "--no-config", "--format", "json")
    assert "documented-rotation" not in {f["rule"] for f in run.json["findings"]}


def test_a_regenerated_ca_next_to_an_unrelated_name_2_is_still_an_error(cli: RunCli, write_store: WriteStore) -> None:
    start = bosh_store()
    start["nats_ca_2"] = make_ca(NEXT_CN, key_slot=40).as_value()
    after = {**start, "nats_ca": make_ca(NATS_CN, key_slot=43).as_value()}
    run = cli(write_store("old.yml", start), write_store("new.yml", after), "--no-config", "--format", "json")
    assert run.code == 1
    assert ("regenerated-ca", "nats_ca", "certificate", "error") in findings(run.json)
    assert "documented-rotation" not in {f["rule"] for f in run.json["findings"]}


def test_a_ca_or_a_login_moved_to_name_old_is_no_rotation(cli: RunCli, write_store: WriteStore) -> None:
    start = bosh_store()
    after = {k: v for k, v in start.items() if k not in ("nats_ca", "admin_password")}
    after["nats_ca_old"] = start["nats_ca"]
    after["admin_password_old"] = start["admin_password"]
    after["admin_password"] = password("new admin")
    run = cli(write_store("old.yml", start), write_store("new.yml", after), "--no-config", "--format", "json")
    assert run.code == 1
    assert [(f[0], f[1]) for f in findings(run.json) if f[3] == "error"] == [
        ("regenerated-password", "admin_password"),
        ("removed-ca", "nats_ca"),
    ]
    assert "documented-rotation" not in {f["rule"] for f in run.json["findings"]}


def test_signing_key_rotated_with_name_old(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    from factory import make_rsa

    before = {"uaa_jwt_signing_key": make_rsa(30)}
    after = {"uaa_jwt_signing_key": make_rsa(31), "uaa_jwt_signing_key_old": make_rsa(30)}
    old, new = write_store("old.yml", before), write_store("new.yml", after)
    unread = cli(old, new, "--no-config", "--format", "json")
    assert (unread.code, [f[:2] for f in findings(unread.json) if f[3] == "error"]) == (
        1,
        [("regenerated-keypair", "uaa_jwt_signing_key")],
    )
    manifest = reading(
        tmp_path / "manifest.yml", "uaa_jwt_signing_key.private_key", "uaa_jwt_signing_key_old.public_key"
    )
    run = cli(old, new, "--no-config", "--format", "json", "--manifest", manifest)
    assert run.code == 0
    assert findings(run.json) == [
        ("added-variable", "uaa_jwt_signing_key_old", None, "info"),
        ("documented-rotation", "uaa_jwt_signing_key", None, "info"),
        ("orphaned-variable", "uaa_jwt_signing_key", None, "info"),
        ("orphaned-variable", "uaa_jwt_signing_key_old", None, "info"),
    ]


def test_an_encryption_key_promoted_from_name_2_is_still_regenerated(cli: RunCli, write_store: WriteStore) -> None:
    """Promotion is a step of the CA rotation: the old encryption key is nowhere in the new file."""
    before = {
        "credhub_encryption_password": password("aaa"),
        "credhub_encryption_password_2": password("zzz"),
    }
    after = {"credhub_encryption_password": password("zzz")}
    run = cli(write_store("old.yml", before), write_store("new.yml", after), "--no-config", "--format", "json")
    assert run.code == 1
    assert findings(run.json) == [
        ("regenerated-encryption-key", "credhub_encryption_password", None, "error"),
        ("removed-encryption-key", "credhub_encryption_password_2", None, "error"),
    ]


def test_a_password_promoted_from_name_2_is_still_regenerated(cli: RunCli, write_store: WriteStore) -> None:
    before = {"admin_password": password("old admin"), "admin_password_2": password("new admin")}
    after = {"admin_password": password("new admin")}
    run = cli(write_store("old.yml", before), write_store("new.yml", after), "--no-config", "--format", "json")
    assert run.code == 1
    assert findings(run.json) == [
        ("regenerated-password", "admin_password", None, "error"),
        ("removed-password", "admin_password_2", None, "error"),
    ]
    allowed = cli(
        write_store("old2.yml", before),
        write_store("new2.yml", after),
        "--no-config",
        "--allow",
        "regenerated-password:admin_password",
        "--allow",
        "removed-password:admin_password_2",
        "--format",
        "json",
    )
    assert allowed.code == 0


def test_a_leaf_promoted_from_name_new_is_a_rotation(cli: RunCli, write_store: WriteStore) -> None:
    """Promotion counts for certificates, leaves as well as CAs."""
    start = bosh_store()
    nats_ca = cert_from_value(start["nats_ca"])  # type: ignore[arg-type]
    _, cn, sans, eku = BOSH_LEAVES["nats_server_tls"]
    successor = make_leaf(cn, nats_ca, key_slot=44, sans=sans, extended_key_usage=eku).as_value()
    before = {**start, "nats_server_tls_new": successor}
    after = {**start, "nats_server_tls": successor}
    run = cli(write_store("old.yml", before), write_store("new.yml", after), "--no-config", "--format", "json")
    assert run.code == 0
    assert findings(run.json) == [
        ("documented-rotation", "nats_server_tls", None, "info"),
        ("documented-rotation", "nats_server_tls_new", None, "info"),
    ]
