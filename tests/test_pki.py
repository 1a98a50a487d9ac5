from __future__ import annotations

# PKI checks on real CA hierarchies (root, intermediate, leaves) built with `cryptography` by tests/factory.py.
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from conftest import Run, RunCli, WriteStore
from creds_lint import pki
from creds_lint.engine import Options, lint
from creds_lint.loader import parse_store
from factory import (
    Cert,
    bosh_store,
    cert_from_value,
    dump_store,
    leaf_rotation,
    make_ca,
    make_leaf,
    make_rsa,
    make_ssh,
    renew,
    rsa_key,
)

DEFAULT_CA_LEAVES = ("director_ssl", "mbus_bootstrap_ssl", "uaa_service_provider_ssl", "uaa_ssl")
SECRET_MARKERS = ("-----BEGIN", "PRIVATE KEY", "ssh-rsa AAAA")


def cert_of(store: Mapping[str, object], name: str) -> Cert:
    value = store[name]
    assert isinstance(value, Mapping)
    return cert_from_value(value)


def value_of(store: Mapping[str, object], name: str) -> dict[str, Any]:
    value = store[name]
    assert isinstance(value, dict)
    return value


def line_of(path: Path, variable: str, field: str | None = None) -> int:
    """The 1-based line of `variable` (or of its `field`) in a file written by dump_store, found by reading it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, text in enumerate(lines) if text == f"{variable}:" or text.startswith(f"{variable}: "))
    if field is None:
        return start + 1
    for i in range(start + 1, len(lines)):
        if not lines[i].startswith(" "):
            break
        if lines[i].startswith(f"  {field}:"):
            return i + 1
    raise AssertionError(f"{variable}.{field} not found")


def findings(run: Run) -> list[tuple[str, str | None, str | None, int | None]]:
    """(rule, variable, field, line) of every finding except the info ones."""
    return [(f["rule"], f["variable"], f["field"], f["line"]) for f in run.json["findings"] if f["severity"] != "info"]


def message(run: Run, rule: str, variable: str) -> str:
    """The message of the one finding of `rule` about `variable`."""
    (found,) = [f["message"] for f in run.json["findings"] if f["rule"] == rule and f["variable"] == variable]
    assert isinstance(found, str)
    return found


def assert_no_secret(run: Run) -> None:
    for marker in SECRET_MARKERS:
        assert marker not in run.out
        assert marker not in run.err


def compare(cli: RunCli, write_store: WriteStore, old: Mapping[str, object], new: Mapping[str, object]) -> Run:
    run = cli(write_store("old.yml", old), write_store("new.yml", new), "--format", "json")
    assert_no_secret(run)
    return run


# --------------------------------------------------------------------------------------------- rotations


def test_leaf_rotated_properly_is_info_only(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    run = compare(cli, write_store, store, leaf_rotation(store))
    assert run.code == 0
    assert findings(run) == []
    rotated = {f["variable"]: f for f in run.json["findings"]}
    assert sorted(rotated) == sorted(n for n in store if isinstance(store[n], dict) and n.endswith(("_ssl", "_tls")))
    assert {f["rule"] for f in rotated.values()} == {"rotated-certificate"}
    assert rotated["director_ssl"]["details"]["signer"] == "default_ca"
    assert rotated["director_ssl"]["message"].endswith("signed by default_ca, which is unchanged.")


def test_ca_renewed_with_same_key_and_leaves_updated_is_clean(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    new = dict(store)
    renewed = renew(cert_of(store, "default_ca"), days=730)
    new["default_ca"] = renewed.as_value()
    for name in DEFAULT_CA_LEAVES:
        new[name] = {**value_of(store, name), "ca": renewed.certificate}
    run = compare(cli, write_store, store, new)
    assert run.code == 0
    assert findings(run) == []
    by_variable = {f["variable"]: f["rule"] for f in run.json["findings"]}
    # Only the leaves' ca fields changed, and they still verify: the trust step of a documented rotation.
    assert by_variable == {"default_ca": "renewed-ca", **dict.fromkeys(DEFAULT_CA_LEAVES, "documented-rotation")}
    assert message(run, "renewed-ca", "default_ca").startswith(
        "default_ca (CA) was renewed with the same key and subject (CN=ca, serial "
    )


def test_leaf_whose_private_key_was_re_encoded_keeps_its_certificate(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    leaf = cert_of(store, "director_ssl")
    pkcs8 = leaf.key_obj.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    new = {**store, "director_ssl": {**value_of(store, "director_ssl"), "private_key": pkcs8}}
    run = compare(cli, write_store, store, new)
    assert run.code == 0
    assert findings(run) == []
    assert message(run, "rotated-certificate", "director_ssl").startswith(
        "director_ssl (certificate) kept its certificate (CN=192.168.56.6, serial "
    )
    assert message(run, "rotated-certificate", "director_ssl").endswith(
        "its 'private_key' changed: signed by default_ca, which is unchanged."
    )


def test_ca_renewed_but_leaves_keep_the_old_copy(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    new = dict(store)
    new["default_ca"] = renew(cert_of(store, "default_ca"), days=730).as_value()
    run = compare(cli, write_store, store, new)
    path = Path(write_store("new.yml", new))
    assert run.code == 1
    assert findings(run) == [
        ("stale-ca-reference", name, "ca", line_of(path, name, "ca")) for name in sorted(DEFAULT_CA_LEAVES)
    ]
    message = next(f["message"] for f in run.json["findings"] if f["variable"] == "director_ssl")
    assert "the previous default_ca (CN=ca, serial" in message
    assert "still verifies against the current default_ca, which kept its key" in message


def test_ca_regenerated_with_leaves_left_behind(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    new = dict(store)
    new["default_ca"] = make_ca("ca", key_slot=40).as_value()
    run = compare(cli, write_store, store, new)
    path = Path(write_store("new.yml", new))
    assert run.code == 1
    expected = [("regenerated-ca", "default_ca", "certificate", line_of(path, "default_ca", "certificate"))]
    expected += [("stale-ca-reference", n, "ca", line_of(path, n, "ca")) for n in DEFAULT_CA_LEAVES]
    assert sorted(findings(run), key=lambda f: f[3] or 0) == sorted(expected, key=lambda f: f[3] or 0)
    message = next(f["message"] for f in run.json["findings"] if f["variable"] == "uaa_ssl")
    assert message.startswith("uaa_ssl (certificate) [CN=192.168.56.6, serial ")
    assert "is still signed by the previous default_ca (CN=ca, serial " in message
    assert "Delete uaa_ssl so that bosh re-issues it from the current CA" in message


def test_leaf_reissued_by_a_regenerated_ca_says_so(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    new = dict(store)
    ca = make_ca("default.nats-ca.bosh-internal", key_slot=40)
    new["nats_ca"] = ca.as_value()
    new["nats_server_tls"] = make_leaf(
        "default.nats.bosh-internal", ca, sans=("192.168.56.6", "10.254.50.4")
    ).as_value()
    run = compare(cli, write_store, store, new)
    assert run.code == 1
    rules = {(f["rule"], f["variable"]) for f in run.json["findings"]}
    assert ("regenerated-ca", "nats_ca") in rules
    assert ("rotated-certificate", "nats_server_tls") in rules
    assert ("stale-ca-reference", "nats_clients_director_tls") in rules
    assert ("stale-ca-reference", "nats_server_tls") not in rules
    rotated = next(f for f in run.json["findings"] if f["variable"] == "nats_server_tls")
    assert "but its CA nats_ca was regenerated in this change" in rotated["message"]


def test_ca_rotation_with_concatenated_trust_fields(cli: RunCli, write_store: WriteStore) -> None:
    """The trust step of a CA rotation: nats_ca_2 is added and both CAs go into the trust fields. A leaf re-issued
    under its own name by nats_ca_2 is no step of it: a change of signer, whatever its trust field holds."""
    store = bosh_store()
    new = dict(store)
    old_ca = cert_of(store, "nats_ca")
    ca_2 = make_ca("default.nats-ca-2.bosh-internal", key_slot=40)
    new["nats_ca_2"] = ca_2.as_value()
    both = old_ca.certificate + ca_2.certificate
    new["nats_server_tls"] = {**value_of(store, "nats_server_tls"), "ca": both}
    reissued = make_leaf("default.director.bosh-internal", ca_2, key_slot=41, extended_key_usage=("client_auth",))
    new["nats_clients_director_tls"] = {**reissued.as_value(), "ca": ca_2.certificate + old_ca.certificate}
    run = compare(cli, write_store, store, new)
    assert run.code == 1
    path = write_store("new.yml", new)
    assert findings(run) == [
        (
            "signer-changed",
            "nats_clients_director_tls",
            "certificate",
            line_of(path, "nats_clients_director_tls", "certificate"),
        )
    ]
    assert set(run.rules) == {
        ("added-variable", "nats_ca_2"),
        ("documented-rotation", "nats_server_tls"),
        ("rotated-certificate", "nats_clients_director_tls"),
        ("signer-changed", "nats_clients_director_tls"),
    }
    assert message(run, "rotated-certificate", "nats_clients_director_tls").endswith(
        "but it is signed by nats_ca_2, another CA than before (nats_ca; see signer-changed)."
    )
    assert "and is now signed by nats_ca_2, another CA (key sha256:" in message(
        run, "signer-changed", "nats_clients_director_tls"
    )


# ------------------------------------------------------------------------------------------ broken chains


def test_leaf_signed_by_a_foreign_ca(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    foreign = make_ca("ca", key_slot=40)  # same name as default_ca, another key: another environment's CA
    pasted = make_leaf("192.168.56.6", foreign, sans=("192.168.56.6",))
    new = dict(store)
    new["director_ssl"] = {**pasted.as_value(), "ca": cert_of(store, "default_ca").certificate}
    new["uaa_ssl"] = pasted.as_value()  # its ca field holds the foreign CA
    run = compare(cli, write_store, store, new)
    path = Path(write_store("new.yml", new))
    assert run.code == 1
    assert findings(run) == [
        ("certificate-not-signed-by-ca", "director_ssl", "ca", line_of(path, "director_ssl", "ca")),
        ("stale-ca-reference", "uaa_ssl", "ca", line_of(path, "uaa_ssl", "ca")),
        # the foreign CA copies default_ca's subject with another key: a change of trust, whatever its name
        ("changed-trust", "uaa_ssl", "ca", line_of(path, "uaa_ssl", "ca")),
    ]
    director, uaa, _ = (f["message"] for f in run.json["findings"] if f["severity"] == "error")
    assert "does not verify against the CA in its 'ca' field (default_ca): no CA in the store signed it" in director
    assert "is still signed by the previous default_ca" not in uaa
    assert "an older version of default_ca (CN=ca, serial" in uaa


def test_leaf_signed_by_another_ca_of_the_store(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    new = dict(store)
    wrong = make_leaf("192.168.56.6", cert_of(store, "nats_ca"), key_slot=11, sans=("192.168.56.6",))
    new["director_ssl"] = {**wrong.as_value(), "ca": cert_of(store, "default_ca").certificate}
    run = compare(cli, write_store, store, new)
    path = write_store("new.yml", new)
    assert findings(run) == [
        ("certificate-not-signed-by-ca", "director_ssl", "ca", line_of(path, "director_ssl", "ca")),
        ("signer-changed", "director_ssl", "certificate", line_of(path, "director_ssl", "certificate")),
    ]
    message = run.json["findings"][0]["message"]
    assert "(default_ca): it is signed by nats_ca." in message
    assert run.json["findings"][0]["details"]["signer"] == "nats_ca"


def test_intermediate_hierarchy(cli: RunCli, write_store: WriteStore) -> None:
    root = make_ca("root", key_slot=40)
    intermediate = make_ca("intermediate", key_slot=41, signer=root)
    leaf = make_leaf("leaf.internal", intermediate, key_slot=42, sans=("leaf.internal",))
    store = {"root_ca": root.as_value(), "intermediate_ca": intermediate.as_value(), "leaf_tls": leaf.as_value()}
    path = write_store("creds.yml", store)
    run = cli("check", path, "--format", "json")
    assert run.code == 0
    assert run.json["findings"] == []
    signers = {c["variable"]: c["signer"] for c in run.json["certificates"]}
    assert signers == {"root_ca": "root_ca", "intermediate_ca": "root_ca", "leaf_tls": "intermediate_ca"}

    # The intermediate regenerated under the same root: the leaf is left behind.
    new = {**store, "intermediate_ca": make_ca("intermediate", key_slot=43, signer=root).as_value()}
    run = compare(cli, write_store, store, new)
    new_path = write_store("new.yml", new)
    assert findings(run) == [
        ("regenerated-ca", "intermediate_ca", "certificate", line_of(new_path, "intermediate_ca", "certificate")),
        ("stale-ca-reference", "leaf_tls", "ca", line_of(new_path, "leaf_tls", "ca")),
    ]


def test_signer_found_by_signature_when_the_ca_field_is_missing(write_store: WriteStore) -> None:
    store = bosh_store()
    director = value_of(store, "director_ssl")
    del director["ca"]
    parsed = parse_store(dump_store(store).encode(), source="creds.yml")
    graph = pki.Graph(parsed)
    entry = parsed.get("director_ssl")
    assert entry is not None
    chain = graph.chain(entry)
    assert chain.trust is pki.Trust.VALID
    assert chain.signer == "default_ca"
    assert chain.link is pki.Link.SIGNATURE
    found = lint(None, parsed)
    assert [f.rule for f in found] == []


def test_chain_of_a_bosh_store() -> None:
    store = parse_store(dump_store(bosh_store()).encode(), source="creds.yml")
    graph = pki.Graph(store)
    chains = {e.name: graph.chain(e) for e in store if e.kind.value == "certificate"}
    assert {n: (c.signer, c.link) for n, c in chains.items()} == {
        "blobstore_ca": ("blobstore_ca", pki.Link.SELF),
        "credhub_ca": ("credhub_ca", pki.Link.SELF),
        "default_ca": ("default_ca", pki.Link.SELF),
        "nats_ca": ("nats_ca", pki.Link.SELF),
        **dict.fromkeys(DEFAULT_CA_LEAVES, ("default_ca", pki.Link.CA_FIELD)),
        "nats_server_tls": ("nats_ca", pki.Link.CA_FIELD),
        "nats_clients_director_tls": ("nats_ca", pki.Link.CA_FIELD),
        "nats_clients_health_monitor_tls": ("nats_ca", pki.Link.CA_FIELD),
        "blobstore_server_tls": ("blobstore_ca", pki.Link.CA_FIELD),
        "credhub_tls": ("credhub_ca", pki.Link.CA_FIELD),
    }
    assert all(c.trust is pki.Trust.VALID for c in chains.values())


# ------------------------------------------------------------------------------------------------- keys


def test_key_swapped(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    new = dict(store)
    other = make_leaf("192.168.56.6", cert_of(store, "default_ca"), key_slot=40)
    new["director_ssl"] = {**value_of(store, "director_ssl"), "private_key": other.private_key}
    run = compare(cli, write_store, store, new)
    path = write_store("new.yml", new)
    assert run.code == 1
    assert findings(run) == [
        ("key-mismatch", "director_ssl", "private_key", line_of(path, "director_ssl", "private_key"))
    ]
    text = message(run, "key-mismatch", "director_ssl")
    assert text.startswith("director_ssl (certificate): the private key (sha256:")
    assert "is not the certificate's (sha256:" in text


def test_rsa_and_ssh_pairs_that_do_not_match(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    new = dict(store)
    new["uaa_jwt_signing_key"] = {**value_of(store, "uaa_jwt_signing_key"), "public_key": make_rsa(40)["public_key"]}
    new["jumpbox_ssh"] = {
        **value_of(store, "jumpbox_ssh"),
        "public_key_fingerprint": make_ssh(41)["public_key_fingerprint"],
    }
    path = write_store("creds.yml", new)
    run = cli("check", path, "--format", "json")
    assert run.code == 1
    assert findings(run) == [
        (
            "key-mismatch",
            "jumpbox_ssh",
            "public_key_fingerprint",
            line_of(path, "jumpbox_ssh", "public_key_fingerprint"),
        ),
        ("key-mismatch", "uaa_jwt_signing_key", "public_key", line_of(path, "uaa_jwt_signing_key", "public_key")),
    ]
    assert_no_secret(run)


def test_ssh_public_key_of_another_key(write_store: WriteStore) -> None:
    other = make_ssh(40)
    value = {**make_ssh(21), "public_key": other["public_key"]}
    store = parse_store(dump_store({"jumpbox_ssh": value}).encode(), source="creds.yml")
    entry = store.get("jumpbox_ssh")
    assert entry is not None
    # The fingerprint still belongs to the private key: only the public key is reported.
    assert [d.field for d in pki.mismatches(entry)] == ["public_key"]
    wrong_print = {**make_ssh(21), "public_key_fingerprint": other["public_key_fingerprint"].upper()}
    store = parse_store(dump_store({"jumpbox_ssh": wrong_print}).encode(), source="creds.yml")
    assert [d.field for d in pki.mismatches(store.entries["jumpbox_ssh"])] == ["public_key_fingerprint"]
    assert pki.mismatches(parse_store(dump_store({"k": make_ssh(21)}).encode(), source="x").entries["k"]) == ()


def test_pkcs8_and_ec_keys_are_understood(cli: RunCli, write_store: WriteStore) -> None:
    ca = make_ca("hand-made", key_slot=40)
    rsa_leaf = make_leaf("rsa.internal", ca, key_slot=41)
    pkcs8 = rsa_leaf.key_obj.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    ec_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    ec_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "ec.internal")]))
        .issuer_name(ca.cert_obj.subject)
        .public_key(ec_key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=365))
        .sign(ca.key_obj, hashes.SHA256())
    )
    ec_value = {
        "ca": ca.certificate,
        "certificate": ec_cert.public_bytes(serialization.Encoding.PEM).decode(),
        "private_key": ec_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode(),
    }
    store = {"hand_ca": ca.as_value(), "rsa_tls": {**rsa_leaf.as_value(), "private_key": pkcs8}, "ec_tls": ec_value}
    run = cli("check", write_store("creds.yml", store), "--format", "json")
    assert run.code == 0
    assert run.json["findings"] == []
    assert {c["variable"]: c["signer"] for c in run.json["certificates"]} == {
        "hand_ca": "hand_ca",
        "rsa_tls": "hand_ca",
        "ec_tls": "hand_ca",
    }
    # The EC leaf with another EC key: a mismatch, whatever the algorithm.
    store["ec_tls"] = {
        **ec_value,
        "private_key": ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode(),
    }
    run = cli("check", write_store("creds.yml", store), "--format", "json")
    assert [(f["rule"], f["variable"], f["field"]) for f in run.json["findings"]] == [
        ("key-mismatch", "ec_tls", "private_key")
    ]


# ------------------------------------------------------------------------------------------------ expiry


def _aged_store() -> dict[str, object]:
    now = datetime.now(UTC).replace(microsecond=0)
    ca = make_ca("aged-ca", key_slot=40, not_before=now - timedelta(days=10), days=3650)
    return {
        "aged_ca": ca.as_value(),
        "expired_tls": make_leaf("expired.internal", ca, not_before=now - timedelta(days=400), days=365).as_value(),
        "expiring_tls": make_leaf("expiring.internal", ca, not_before=now - timedelta(days=350), days=365).as_value(),
        "fresh_tls": make_leaf("fresh.internal", ca, not_before=now - timedelta(days=1), days=365).as_value(),
    }


def test_expired_and_soon_expiring(cli: RunCli, write_store: WriteStore) -> None:
    store = _aged_store()
    path = write_store("creds.yml", store)
    run = cli("check", path, "--format", "json")
    assert run.code == 1
    assert findings(run) == [
        ("expired-certificate", "expired_tls", "certificate", line_of(path, "expired_tls", "certificate")),
        ("expiring-certificate", "expiring_tls", "certificate", line_of(path, "expiring_tls", "certificate")),
    ]
    expired, expiring = (f["message"] for f in run.json["findings"])
    assert expired.startswith("expired_tls (certificate) [CN=expired.internal, serial ")
    assert "expired on " in expired
    assert "(36 days ago)" in expired  # 35 days and the seconds since: -36 days left, as the table
    not_after = cert_of(store, "expiring_tls").cert_obj.not_valid_after_utc
    assert expiring.endswith(
        f"expires on {not_after:%Y-%m-%d}, in 14 days (--expiry-days 30). Renew it with the same key (nothing "
        f"that trusts it breaks): `creds-lint renew {path} expiring_tls`."
    )
    assert [c["variable"] for c in run.json["certificates"]] == ["expired_tls", "expiring_tls", "fresh_tls", "aged_ca"]
    assert [c["days_left"] < 0 for c in run.json["certificates"]] == [True, False, False, False]

    shorter = cli("check", path, "--format", "json", "--expiry-days", "7")
    assert [f[0] for f in findings(shorter)] == ["expired-certificate"]
    longer = cli("check", path, "--format", "json", "--expiry-days", "400")
    assert [(f[0], f[1]) for f in findings(longer)] == [
        ("expired-certificate", "expired_tls"),
        ("expiring-certificate", "expiring_tls"),
        ("expiring-certificate", "fresh_tls"),
    ]


def test_expiry_follows_options_now() -> None:
    store = parse_store(dump_store(bosh_store()).encode(), source="creds.yml")
    later = datetime.now(UTC) + timedelta(days=366)
    found = lint(None, store, Options(now=later))
    assert {f.rule for f in found} == {"expired-certificate"}
    assert len({f.variable for f in found}) == 13
    soon = lint(None, store, Options(now=later - timedelta(days=20)))
    assert {f.rule for f in soon} == {"expiring-certificate"}


def test_expiry_of_unchanged_entries_needs_all(cli: RunCli, write_store: WriteStore) -> None:
    store = _aged_store()
    new = {**store, "extra_password": "abc"}
    run = compare(cli, write_store, store, new)
    assert findings(run) == []
    old_path, new_path = write_store("old.yml", store), write_store("new.yml", new)
    run = cli(old_path, new_path, "--all", "--format", "json")
    assert [(f[0], f[1]) for f in findings(run)] == [
        ("expired-certificate", "expired_tls"),
        ("expiring-certificate", "expiring_tls"),
    ]


# ---------------------------------------------------------------------------------------------- malformed


def test_truncated_pem(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    new = dict(store)
    director = value_of(store, "director_ssl")
    new["director_ssl"] = {**director, "certificate": director["certificate"][: len(director["certificate"]) // 2]}
    uaa = value_of(store, "uaa_ssl")
    new["uaa_ssl"] = {**uaa, "private_key": uaa["private_key"][:400]}
    jwt = value_of(store, "uaa_jwt_signing_key")
    new["uaa_jwt_signing_key"] = {**jwt, "public_key": jwt["public_key"].replace("-----END PUBLIC KEY-----\n", "")}
    run = compare(cli, write_store, store, new)
    path = write_store("new.yml", new)
    assert run.code == 1
    assert findings(run) == [
        ("malformed-certificate", "director_ssl", "certificate", line_of(path, "director_ssl", "certificate")),
        (
            "malformed-certificate",
            "uaa_jwt_signing_key",
            "public_key",
            line_of(path, "uaa_jwt_signing_key", "public_key"),
        ),
        ("malformed-certificate", "uaa_ssl", "private_key", line_of(path, "uaa_ssl", "private_key")),
    ]
    director_finding = next(
        f for f in run.json["findings"] if f["variable"] == "director_ssl" and f["severity"] == "error"
    )
    assert director_finding["message"] == (
        "director_ssl (certificate): 'certificate' does not parse as a PEM certificate (truncated?): "
        "bosh deploys it as it is."
    )
    rotated = next(f for f in run.json["findings"] if f["variable"] == "uaa_ssl" and f["rule"] == "rotated-certificate")
    assert "but its key material does not match or does not parse" in rotated["message"]


def test_corrupted_rsa_private_key_is_malformed() -> None:
    key = rsa_key(40)
    numbers = key.private_numbers()
    from cryptography.hazmat.primitives.asymmetric import rsa

    broken = rsa.RSAPrivateNumbers(
        p=numbers.p,
        q=numbers.q,
        d=numbers.d + 2,
        dmp1=numbers.dmp1,
        dmq1=numbers.dmq1,
        iqmp=numbers.iqmp,
        public_numbers=numbers.public_numbers,
    ).private_key(unsafe_skip_rsa_key_validation=True)
    pem = broken.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    store = parse_store(dump_store({"k": {**make_rsa(40), "private_key": pem}}).encode(), source="x")
    assert [(d.field, d.message) for d in pki.defects(store.entries["k"])] == [
        ("private_key", "'private_key' does not parse as an unencrypted PEM key (truncated?)")
    ]


# ---------------------------------------------------------------------------------------- names and keys


def test_san_dropped_and_common_name_changed(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    new = dict(store)
    default_ca = cert_of(store, "default_ca")
    new["director_ssl"] = make_leaf("192.168.56.6", default_ca, key_slot=11).as_value()
    new["uaa_ssl"] = make_leaf("uaa.internal", default_ca, key_slot=12, sans=("192.168.56.6",)).as_value()
    run = compare(cli, write_store, store, new)
    path = write_store("new.yml", new)
    assert run.code == 0  # a warning: the default --fail-on is error
    assert findings(run) == [
        ("subject-changed", "director_ssl", "certificate", line_of(path, "director_ssl", "certificate")),
        ("subject-changed", "uaa_ssl", "certificate", line_of(path, "uaa_ssl", "certificate")),
    ]
    director, uaa = (f["message"] for f in run.json["findings"] if f["severity"] == "warning")
    assert "was re-issued but it lost 192.168.56.6: clients that connect by the old name reject it." in director
    assert "its common name changed to uaa.internal" in uaa
    strict = cli(write_store("old.yml", store), path, "--fail-on", "warning")
    assert strict.code == 1


def test_weaker_key(cli: RunCli, write_store: WriteStore) -> None:
    ca = make_ca("weak-ca", key_slot=40)
    store = {
        "weak_ca": ca.as_value(),
        "strong_tls": make_leaf("strong", ca, key_slot=41, bits=3072).as_value(),
        "signing_key": make_rsa(42),
    }
    new = {
        **store,
        "strong_tls": make_leaf("strong", ca, key_slot=43, bits=2048).as_value(),
        "signing_key": make_rsa(42, bits=1024),
    }
    run = compare(cli, write_store, store, new)
    path = write_store("new.yml", new)
    assert findings(run) == [
        ("regenerated-keypair", "signing_key", "private_key", line_of(path, "signing_key", "private_key")),
        ("weaker-key", "signing_key", "private_key", line_of(path, "signing_key", "private_key")),
        ("weaker-key", "strong_tls", "private_key", line_of(path, "strong_tls", "private_key")),
    ]
    assert message(run, "weaker-key", "signing_key") == (
        "signing_key (rsa key pair): its RSA key is shorter than before (2048 -> 1024 bits) "
        "and its RSA key has only 1024 bits (less than 2048)."
    )
    assert message(run, "weaker-key", "strong_tls") == (
        "strong_tls (certificate): its RSA key is shorter than before (3072 -> 2048 bits)."
    )
    # Audited alone, only the absolute length counts.
    audit = cli("check", path, "--format", "json")
    assert findings(audit) == [
        ("weaker-key", "signing_key", "private_key", line_of(path, "signing_key", "private_key")),
    ]


def _key_pair(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> dict[str, str]:
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _NO_PASSWORD)
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"private_key": private.decode("ascii"), "public_key": public.decode("ascii")}


_NO_PASSWORD = serialization.NoEncryption()


def test_weaker_key_reads_the_algorithm_and_size_of_any_private_key(cli: RunCli, write_store: WriteStore) -> None:
    """Sizes are compared within one algorithm, read from the private key: an EC key rotated to a smaller curve is
    weaker; an Ed25519 key has no size to compare."""
    store = {
        "ec_key": _key_pair(ec.generate_private_key(ec.SECP384R1())),
        "ed_key": _key_pair(ed25519.Ed25519PrivateKey.generate()),
    }
    new = {
        "ec_key": _key_pair(ec.generate_private_key(ec.SECP256R1())),
        "ed_key": _key_pair(ed25519.Ed25519PrivateKey.generate()),
    }
    run = compare(cli, write_store, store, new)
    path = write_store("new.yml", new)
    assert [f for f in findings(run) if f[0] == "weaker-key"] == [
        ("weaker-key", "ec_key", "private_key", line_of(path, "ec_key", "private_key")),
    ]
    assert (
        message(run, "weaker-key", "ec_key")
        == "ec_key (rsa key pair): its EC key is shorter than before (384 -> 256 bits)."
    )


# ----------------------------------------------------------------------------------------------- audit


def test_check_prints_the_expiry_table(cli: RunCli, write_store: WriteStore) -> None:
    path = write_store("creds.yml", _aged_store())
    run = cli("check", path)
    assert run.code == 1
    table = run.out.split(f"Certificates in {path}, soonest expiry first:\n")[1].splitlines()
    assert table[0].split() == ["VARIABLE", "COMMON", "NAME", "SIGNER", "NOT", "AFTER", "DAYS", "LEFT"]
    rows = [row.split() for row in table[1:5]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("expired_tls", "expired.internal", "aged_ca"),
        ("expiring_tls", "expiring.internal", "aged_ca"),
        ("fresh_tls", "fresh.internal", "aged_ca"),
        ("aged_ca", "aged-ca", "(self-signed)"),
    ]
    assert rows[0][4] == "-36"
    assert table[5:] == ["configuration: none (built-in defaults)", "1 error, 1 warning, 0 info in 1 file"]
    assert_no_secret(run)


def test_check_several_files_and_a_missing_one(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    first = write_store("a.yml", bosh_store())
    second = write_store("b.yml", _aged_store())
    run = cli("check", first, second, tmp_path / "missing.yml", "--format", "json")
    assert run.code == 2
    assert run.json["errors"] == [{"file": str(tmp_path / "missing.yml"), "message": "no such file"}]
    assert {c["file"] for c in run.json["certificates"]} == {str(first), str(second)}
    assert run.json["certificates"][0]["variable"] == "expired_tls"


def test_old_new_form_still_works_and_lists_no_certificates(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    run = compare(cli, write_store, store, store)
    assert run.code == 0
    assert run.json["certificates"] == []
    assert run.json["findings"] == []


# -------------------------------------------------------------------------- var-stores written by the bosh CLI

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples" / "bosh-deployment"
needs_examples = pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason=f"{EXAMPLES} is not there (../shared beside the repo)"
)
CAS = ("blobstore_ca", "credhub_ca", "default_ca", "nats_ca")
BOSH_LEAVES = (
    "blobstore_server_tls",
    "credhub_tls",
    "director_ssl",
    "mbus_bootstrap_ssl",
    "nats_clients_director_tls",
    "nats_clients_health_monitor_tls",
    "nats_server_tls",
    "uaa_service_provider_ssl",
    "uaa_ssl",
)


@needs_examples
def test_bosh_leaf_rotation_is_nine_rotated_certificates(cli: RunCli) -> None:
    run = cli(EXAMPLES / "creds.yml", EXAMPLES / "creds-after-leaf-rotation.yml", "--format", "json")
    assert run.code == 0
    assert run.rules == [("rotated-certificate", name) for name in BOSH_LEAVES]
    assert all(f["message"].endswith("which is unchanged.") for f in run.json["findings"])
    assert_no_secret(run)


@needs_examples
def test_bosh_incident_fails(cli: RunCli) -> None:
    run = cli(EXAMPLES / "creds.yml", EXAMPLES / "creds-after-incident.yml", "--format", "json")
    assert run.code == 1
    errors = sorted((f["rule"], f["variable"]) for f in run.json["findings"] if f["severity"] == "error")
    assert errors == [
        ("regenerated-ca", "blobstore_ca"),
        ("regenerated-ca", "credhub_ca"),
        ("regenerated-ca", "default_ca"),
        ("regenerated-ca", "nats_ca"),
        ("regenerated-encryption-key", "credhub_encryption_password"),
    ]
    rotated = [f for f in run.json["findings"] if f["rule"] == "rotated-certificate"]
    assert [f["variable"] for f in rotated] == list(BOSH_LEAVES)
    assert all("was regenerated in this change" in f["message"] for f in rotated)
    assert_no_secret(run)


@needs_examples
def test_check_a_bosh_written_store(cli: RunCli) -> None:
    text = cli("check", EXAMPLES / "creds.yml")
    assert text.code == 0
    assert f"Certificates in {EXAMPLES / 'creds.yml'}, soonest expiry first:" in text.out
    assert text.out.endswith("0 errors, 0 warnings, 0 info in 1 file\n")
    run = cli("check", EXAMPLES / "creds.yml", "--format", "json")
    certificates = run.json["certificates"]
    assert sorted(c["variable"] for c in certificates) == sorted([*BOSH_LEAVES, *CAS])
    by_name = {c["variable"]: c for c in certificates}
    assert {n: c["signer"] for n, c in by_name.items()} == {
        **{ca: ca for ca in CAS},
        "blobstore_server_tls": "blobstore_ca",
        "credhub_tls": "credhub_ca",
        **dict.fromkeys(DEFAULT_CA_LEAVES, "default_ca"),
        "nats_clients_director_tls": "nats_ca",
        "nats_clients_health_monitor_tls": "nats_ca",
        "nats_server_tls": "nats_ca",
    }
    assert by_name["nats_ca"]["common_name"] == "default.nats-ca.bosh-internal"
    assert [c["not_after"] for c in certificates] == sorted(c["not_after"] for c in certificates)
    assert_no_secret(text)
    assert_no_secret(run)


# ------------------------------------------------------------------------------- regenerated versus renewed CA


def test_ca_with_the_same_key_but_another_subject_is_regenerated(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    renamed = make_ca("another-name", key_slot=0)  # default_ca's key slot: same key pair, new subject
    assert renamed.private_key == value_of(store, "default_ca")["private_key"]
    new = {**store, "default_ca": renamed.as_value()}
    run = compare(cli, write_store, store, new)
    path = write_store("new.yml", new)
    assert ("regenerated-ca", "default_ca", "certificate", line_of(path, "default_ca", "certificate")) in findings(run)
    assert message(run, "regenerated-ca", "default_ca").startswith(
        "default_ca (CA) changed its subject (CN=ca,O=Cloud Foundry,C=US -> CN=another-name,O=Cloud Foundry,C=US)"
    )


def test_ca_whose_private_key_was_swapped(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    swapped = {**value_of(store, "nats_ca"), "private_key": make_rsa(40)["private_key"]}
    new = {**store, "nats_ca": swapped}
    run = compare(cli, write_store, store, new)
    path = write_store("new.yml", new)
    assert run.code == 1
    assert findings(run) == [
        ("regenerated-ca", "nats_ca", "certificate", line_of(path, "nats_ca", "certificate")),
        ("key-mismatch", "nats_ca", "private_key", line_of(path, "nats_ca", "private_key")),
    ]
    assert "has a private key that no longer matches its certificate" in message(run, "regenerated-ca", "nats_ca")


# ------------------------------------------------------------------------------------ the rest of an audit


def test_check_reports_duplicates_and_empty_values(cli: RunCli, tmp_path: Path) -> None:
    text = dump_store({"admin_password": "a" * 20, "nats_password": "", **{"default_ca": bosh_store()["default_ca"]}})
    path = tmp_path / "creds.yml"
    path.write_text(text + "admin_password: " + "b" * 20 + "\n", encoding="utf-8")
    run = cli("check", path, "--format", "json")
    assert run.code == 1
    last = len(path.read_text(encoding="utf-8").splitlines())
    assert findings(run) == [
        ("empty-value", "nats_password", None, line_of(path, "nats_password")),
        ("duplicate-key", "admin_password", None, last),
    ]
    assert [c["variable"] for c in run.json["certificates"]] == ["default_ca"]
    assert_no_secret(run)


def test_check_usage_errors(cli: RunCli) -> None:
    run = cli("check")
    assert run.code == 2
    assert "the following arguments are required: FILE" in run.err


def test_leaf_without_ca_field_signed_by_a_ca_not_in_the_store(cli: RunCli, write_store: WriteStore) -> None:
    elsewhere = make_ca("elsewhere", key_slot=40)
    leaf = make_leaf("orphan.internal", elsewhere, key_slot=41)
    store = {"default_ca": bosh_store()["default_ca"], "orphan_tls": {**leaf.as_value()}}
    value_of(store, "orphan_tls").pop("ca")
    path = write_store("creds.yml", store)
    run = cli("check", path, "--format", "json")
    assert findings(run) == [
        ("stale-ca-reference", "orphan_tls", "certificate", line_of(path, "orphan_tls", "certificate"))
    ]
    assert "is signed by a CA that is not in the store (issuer CN=elsewhere,O=Cloud Foundry,C=US)" in message(
        run, "stale-ca-reference", "orphan_tls"
    )
    assert {c["variable"]: c["signer"] for c in run.json["certificates"]} == {
        "default_ca": "default_ca",
        "orphan_tls": None,
    }
    assert "(no CA in the store)" in cli("check", path).out


def test_root_whose_ca_field_holds_another_ca(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    store["credhub_ca"] = {**value_of(store, "credhub_ca"), "ca": value_of(store, "default_ca")["certificate"]}
    path = write_store("creds.yml", store)
    run = cli("check", path, "--format", "json")
    assert findings(run) == [("certificate-not-signed-by-ca", "credhub_ca", "ca", line_of(path, "credhub_ca", "ca"))]
    assert "(default_ca): no CA in the store signed it" in message(run, "certificate-not-signed-by-ca", "credhub_ca")


def test_leaf_served_with_its_intermediate_and_trusting_the_root(cli: RunCli, write_store: WriteStore) -> None:
    root = make_ca("root", key_slot=40)
    intermediate = make_ca("intermediate", key_slot=41, signer=root)
    leaf = make_leaf("leaf.internal", intermediate, key_slot=42)
    chained = {**leaf.as_value(), "certificate": leaf.certificate + intermediate.certificate, "ca": root.certificate}
    store = {"root_ca": root.as_value(), "intermediate_ca": intermediate.as_value(), "leaf_tls": chained}
    path = write_store("creds.yml", store)
    run = cli("check", path, "--format", "json")
    assert run.json["findings"] == []
    assert {c["variable"]: c["signer"] for c in run.json["certificates"]}["leaf_tls"] == "intermediate_ca"
    # Without the intermediate in the certificate field, the root in 'ca' cannot verify it.
    store["leaf_tls"] = {**chained, "certificate": leaf.certificate}
    run = cli("check", write_store("creds.yml", store), "--format", "json")
    assert findings(run) == [("certificate-not-signed-by-ca", "leaf_tls", "ca", line_of(path, "leaf_tls", "ca"))]
    assert "(root_ca): it is signed by intermediate_ca." in message(run, "certificate-not-signed-by-ca", "leaf_tls")
