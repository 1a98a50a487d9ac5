from __future__ import annotations

# Signer and trust are judged by keys, never by names or text; a re-issued certificate keeps what makes it work.
# Every case is a real bosh-shaped store (tests/factory.py) changed the way an attacker or a careless renewal would.
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from conftest import Run, RunCli, WriteStore
from factory import Cert, bosh_store, cert_from_value, make_ca, make_leaf, renew

NATS_CN = "default.nats-ca.bosh-internal"
SERVER_CN = "default.nats.bosh-internal"
SERVER_SANS = ("192.168.56.6", "10.254.50.4")
NATS_LEAVES = ("nats_server_tls", "nats_clients_director_tls", "nats_clients_health_monitor_tls")


def cert_of(store: Mapping[str, object], name: str) -> Cert:
    value = store[name]
    assert isinstance(value, Mapping)
    return cert_from_value(value)


def value_of(store: Mapping[str, object], name: str) -> dict[str, Any]:
    value = store[name]
    assert isinstance(value, dict)
    return value


def compare(cli: RunCli, write_store: WriteStore, old: Mapping[str, object], new: Mapping[str, object]) -> Run:
    run = cli(write_store("old.yml", old), write_store("new.yml", new), "--no-config", "--format", "json")
    assert "BEGIN" not in run.out + run.err
    return run


def errors(run: Run) -> set[tuple[str, str | None]]:
    return {(f["rule"], f["variable"]) for f in run.json["findings"] if f["severity"] == "error"}


def message(run: Run, rule: str, variable: str) -> str:
    (found,) = [f["message"] for f in run.json["findings"] if f["rule"] == rule and f["variable"] == variable]
    assert isinstance(found, str)
    return found


# --- class 1: the signer -------------------------------------------------------------------------------------


def test_a_leaf_re_issued_by_another_ca_of_the_store_is_an_error_even_when_both_are_trusted(
    cli: RunCli, write_store: WriteStore
) -> None:
    store = bosh_store()
    default_ca, nats_ca = cert_of(store, "default_ca"), cert_of(store, "nats_ca")
    moved = make_leaf(SERVER_CN, default_ca, key_slot=50, sans=SERVER_SANS)
    for trust in (nats_ca.certificate + default_ca.certificate, default_ca.certificate + nats_ca.certificate):
        new = {**store, "nats_server_tls": {**moved.as_value(), "ca": trust}}
        run = compare(cli, write_store, store, new)
        assert run.code == 1
        assert errors(run) == {("signer-changed", "nats_server_tls")}
        shown = message(run, "signer-changed", "nats_server_tls")
        assert "was signed by nats_ca and is now signed by default_ca, another CA (key sha256:" in shown
        assert ", was key sha256:" in shown


def test_a_leaf_re_issued_by_a_ca_added_in_the_same_change_is_an_error(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    nats_ca = cert_of(store, "nats_ca")
    extra = make_ca("extra-ca", key_slot=51)
    for name in ("extra_ca", "nats_ca_2"):  # an unrelated name, or the documented name of the next CA
        reissued = make_leaf(SERVER_CN, extra, key_slot=50, sans=SERVER_SANS)
        new = {
            **store,
            name: extra.as_value(),
            "nats_server_tls": {**reissued.as_value(), "ca": nats_ca.certificate + extra.certificate},
        }
        run = compare(cli, write_store, store, new)
        assert run.code == 1, name
        assert errors(run) == {("signer-changed", "nats_server_tls")}, name


def test_a_signer_is_the_same_ca_when_it_has_the_same_key(cli: RunCli, write_store: WriteStore) -> None:
    """A renewed copy of nats_ca under another name (same key and subject) signs the re-issued leaf: same CA."""
    store = bosh_store()
    copy = renew(cert_of(store, "nats_ca"))
    reissued = make_leaf(SERVER_CN, copy, key_slot=50, sans=SERVER_SANS)
    new = {**store, "nats_ca_copy": copy.as_value(), "nats_server_tls": reissued.as_value()}
    run = compare(cli, write_store, store, new)
    assert (run.code, errors(run)) == (0, set())


# --- class 1: trust fields -----------------------------------------------------------------------------------


def test_a_look_alike_ca_in_a_trust_field_is_changed_trust(cli: RunCli, write_store: WriteStore) -> None:
    """Another key under nats_ca's subject appended to the leaves' 'ca' fields: never the trust step."""
    store = bosh_store()
    look_alike = make_ca(NATS_CN, key_slot=52)
    new = dict(store)
    for name in ("nats_server_tls", "nats_clients_director_tls"):
        value = value_of(store, name)
        new[name] = {**value, "ca": value["ca"] + look_alike.certificate}
    run = compare(cli, write_store, store, new)
    assert run.code == 1
    assert errors(run) == {("changed-trust", "nats_server_tls"), ("changed-trust", "nats_clients_director_tls")}
    assert "documented-rotation" not in {f["rule"] for f in run.json["findings"]}


def test_a_look_alike_of_name_2_or_a_name_2_without_its_own_key_is_changed_trust(
    cli: RunCli, write_store: WriteStore
) -> None:
    store = bosh_store()
    following = make_ca("default.nats-ca-2.bosh-internal", key_slot=53)
    look_alike = make_ca("default.nats-ca-2.bosh-internal", key_slot=54)
    server = value_of(store, "nats_server_tls")
    # the trust step done right: nats_ca_2's certificate with its own key
    right = {**store, "nats_ca_2": following.as_value()}
    right["nats_server_tls"] = {**server, "ca": server["ca"] + following.certificate}
    run = compare(cli, write_store, store, right)
    assert (run.code, errors(run)) == (0, set())
    assert ("documented-rotation", "nats_server_tls") in run.rules
    # a certificate with nats_ca_2's subject and another key
    wrong = {**right, "nats_server_tls": {**server, "ca": server["ca"] + look_alike.certificate}}
    run = compare(cli, write_store, store, wrong)
    assert errors(run) == {("changed-trust", "nats_server_tls")}
    # nats_ca_2 whose private key is not its certificate's: the CA in the trust field is nobody's own
    keyless = {**right, "nats_ca_2": {**following.as_value(), "private_key": look_alike.private_key}}
    run = compare(cli, write_store, store, keyless)
    assert errors(run) == {("changed-trust", "nats_server_tls"), ("key-mismatch", "nats_ca_2")}


def test_a_renewed_ca_added_to_a_trust_field_is_a_version_of_it(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    renewed = renew(cert_of(store, "nats_ca"))
    new: dict[str, object] = {**store, "nats_ca": renewed.as_value()}
    for name in NATS_LEAVES:
        value = value_of(store, name)
        new[name] = {**value, "ca": value["ca"] + renewed.certificate}
    run = compare(cli, write_store, store, new)
    assert (run.code, errors(run)) == (0, set())


def test_a_leaf_that_holds_a_ca_key_is_an_error(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    nats_ca = cert_of(store, "nats_ca")
    # re-issued by its own CA with nats_ca's key: the chain, the key pair and the names are all fine
    leaf = make_leaf(SERVER_CN, nats_ca, key_slot=1, sans=SERVER_SANS)
    assert leaf.key_obj.public_key() == nats_ca.key_obj.public_key()
    new = {**store, "nats_server_tls": leaf.as_value()}
    run = compare(cli, write_store, store, new)
    assert run.code == 1
    assert errors(run) == {("ca-key-in-leaf", "nats_server_tls")}
    assert "its private key is the key of the CA nats_ca" in message(run, "ca-key-in-leaf", "nats_server_tls")
    assert "its private key is a CA's (see ca-key-in-leaf)" in message(run, "rotated-certificate", "nats_server_tls")
    audit = cli("check", write_store("new.yml", new), "--no-config", "--format", "json")
    assert ("ca-key-in-leaf", "nats_server_tls") in errors(audit)


# --- class 2: what makes a re-issued certificate work ----------------------------------------------------------


def _ca_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def test_a_leaf_re_issued_as_a_ca_is_an_error(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    leaf = cert_of(store, "nats_server_tls")
    promoted = renew(
        leaf,
        cert_of(store, "nats_ca"),
        replace=(x509.BasicConstraints(ca=True, path_length=None), _ca_usage(ca=True)),
    )
    run = compare(cli, write_store, store, {**store, "nats_server_tls": promoted.as_value()})
    assert run.code == 1
    assert ("became-ca", "nats_server_tls") in errors(run)
    assert "re-issued as a CA (BasicConstraints CA=true)" in message(run, "became-ca", "nats_server_tls")


def test_a_ca_re_issued_without_ca_true_or_key_cert_sign_is_an_error(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    nats_ca = cert_of(store, "nats_ca")
    not_a_ca = renew(nats_ca, replace=(x509.BasicConstraints(ca=False, path_length=None),))
    cannot_sign = renew(nats_ca, replace=(_ca_usage(ca=False),))
    for renewed, lost in ((not_a_ca, "CA=true (BasicConstraints)"), (cannot_sign, "keyCertSign (KeyUsage)")):
        leaves = {name: {**value_of(store, name), "ca": renewed.certificate} for name in NATS_LEAVES}
        run = compare(cli, write_store, store, {**store, "nats_ca": renewed.as_value(), **leaves})
        assert run.code == 1, lost
        assert ("no-longer-ca", "nats_ca") in errors(run)
        assert f"was re-issued without {lost}" in message(run, "no-longer-ca", "nats_ca")


def test_a_certificate_valid_only_in_the_future_is_an_error(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    now = datetime.now(UTC).replace(microsecond=0)
    nats_ca = cert_of(store, "nats_ca")
    leaf = cert_of(store, "nats_server_tls")
    later = renew(leaf, nats_ca, not_before=now + timedelta(days=3))
    run = compare(cli, write_store, store, {**store, "nats_server_tls": later.as_value()})
    assert run.code == 1
    assert errors(run) == {("not-yet-valid", "nats_server_tls")}
    start = later.cert_obj.not_valid_before_utc
    expected = f"is not valid before {start:%Y-%m-%d %H:%M} UTC (in 2 days"
    assert expected in message(run, "not-yet-valid", "nats_server_tls")
    # within the clock skew of a few minutes: fine
    skewed = renew(leaf, nats_ca, not_before=now + timedelta(minutes=2))
    run = compare(cli, write_store, store, {**store, "nats_server_tls": skewed.as_value()})
    assert (run.code, errors(run)) == (0, set())


def test_a_re_issued_certificate_that_lost_an_extended_key_usage_is_a_warning(
    cli: RunCli, write_store: WriteStore
) -> None:
    store = bosh_store()
    leaf = cert_of(store, "nats_server_tls")
    client_only = renew(
        leaf, cert_of(store, "nats_ca"), replace=(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),)
    )
    run = compare(cli, write_store, store, {**store, "nats_server_tls": client_only.as_value()})
    found = [(f["rule"], f["severity"]) for f in run.json["findings"] if f["variable"] == "nats_server_tls"]
    assert ("lost-key-usage", "warning") in found
    assert "without the extended key usage server_auth" in message(run, "lost-key-usage", "nats_server_tls")
    # the same usages again: nothing lost
    same = renew(leaf, cert_of(store, "nats_ca"))
    run = compare(cli, write_store, store, {**store, "nats_server_tls": same.as_value()})
    assert "lost-key-usage" not in {f["rule"] for f in run.json["findings"]}
