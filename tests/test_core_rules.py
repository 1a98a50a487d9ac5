"""Every core rule against real certificates and keys: what is flagged, on which variable, at which line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import RunCli, WriteStore
from creds_lint.diff import Change, ChangeKind, Changes
from creds_lint.engine import Options, lint
from creds_lint.findings import Finding, Severity
from creds_lint.loader import parse_store
from creds_lint.model import VarStore
from creds_lint.rules.verdicts import unclaimed
from factory import bosh_store, cert_from_value, dump_store, incident, leaf_rotation, make_ca, make_rsa, renew

Store = dict[str, object]


def load(store: Store, name: str) -> VarStore:
    return parse_store(dump_store(store).encode(), source=name)


def findings(old: Store, new: Store, options: Options | None = None) -> tuple[Finding, ...]:
    return lint(load(old, "old.yml"), load(new, "new.yml"), options or Options())


def summary(found: tuple[Finding, ...]) -> set[tuple[str, str | None, Severity]]:
    return {(f.rule, f.variable, f.severity) for f in found}


def without(store: Store, *names: str) -> Store:
    return {k: v for k, v in store.items() if k not in names}


def with_(store: Store, **values: object) -> Store:
    return {**store, **values}


def field_removed(store: Store, name: str, field: str) -> Store:
    value = store[name]
    assert isinstance(value, dict)
    return with_(store, **{name: {k: v for k, v in value.items() if k != field}})


def regenerated_ca(store: Store, name: str) -> Store:
    value = store[name]
    assert isinstance(value, dict)
    old = cert_from_value(value)
    cn = old.cert_obj.subject.rfc4514_string().split(",")[0].removeprefix("CN=")
    return with_(store, **{name: make_ca(cn, key_slot=90).as_value()})


def renewed_ca(store: Store, name: str) -> Store:
    value = store[name]
    assert isinstance(value, dict)
    return with_(store, **{name: renew(cert_from_value(value), days=730).as_value()})


DEFAULT_CA_LEAVES = ("director_ssl", "mbus_bootstrap_ssl", "uaa_service_provider_ssl", "uaa_ssl")


def renewed_ca_and_leaves(store: Store, name: str) -> Store:
    """The CA renewed with its key, and its new certificate copied into the 'ca' field of the leaves it signed."""
    renewed = renewed_ca(store, name)
    new_ca = renewed[name]
    old_ca = store[name]
    assert isinstance(new_ca, dict)
    assert isinstance(old_ca, dict)
    leaves = {
        n: {**v, "ca": new_ca["certificate"]}
        for n, v in store.items()
        if n != name and isinstance(v, dict) and v.get("ca") == old_ca["certificate"]
    }
    return with_(renewed, **leaves)


def rotated_leaf(store: Store, name: str) -> Store:
    return with_(store, **{name: leaf_rotation(store)[name]})


Mutation = Callable[[Store], Store]

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

CASES: list[tuple[str, Mutation, set[tuple[str, str | None, Severity]]]] = [
    ("identical", lambda s: s, set()),
    (
        "remove encryption password",
        lambda s: without(s, "credhub_encryption_password"),
        {("removed-encryption-key", "credhub_encryption_password", E)},
    ),
    (
        "remove uaa encryption key",
        lambda s: without(s, "uaa_encryption_key_1"),
        {("removed-encryption-key", "uaa_encryption_key_1", E)},
    ),
    ("remove CA", lambda s: without(s, "nats_ca"), {("removed-ca", "nats_ca", E)}),
    ("remove ssh key pair", lambda s: without(s, "jumpbox_ssh"), {("removed-keypair", "jumpbox_ssh", E)}),
    (
        "remove rsa key pair",
        lambda s: without(s, "uaa_jwt_signing_key"),
        {("removed-keypair", "uaa_jwt_signing_key", E)},
    ),
    ("remove password", lambda s: without(s, "nats_password"), {("removed-password", "nats_password", E)}),
    ("remove leaf", lambda s: without(s, "director_ssl"), {("removed-certificate", "director_ssl", W)}),
    (
        "remove private_key of a leaf",
        lambda s: field_removed(s, "director_ssl", "private_key"),
        {("removed-field", "director_ssl", E)},
    ),
    (
        "change encryption password",
        lambda s: with_(s, credhub_encryption_password="n3wpassw0rdn3wpassw0"),
        {("regenerated-encryption-key", "credhub_encryption_password", E)},
    ),
    (
        "change password",
        lambda s: with_(s, admin_password="n3wpassw0rdn3wpassw0"),
        {("regenerated-password", "admin_password", E)},
    ),
    (
        "change rsa key",
        lambda s: with_(s, uaa_jwt_signing_key=make_rsa(91)),
        {("regenerated-keypair", "uaa_jwt_signing_key", E)},
    ),
    (
        "regenerate CA (its leaves are left behind)",
        lambda s: regenerated_ca(s, "default_ca"),
        {("regenerated-ca", "default_ca", E), *((("stale-ca-reference", n, E)) for n in DEFAULT_CA_LEAVES)},
    ),
    (
        "renew CA with the same key, leaves keep the old copy in their ca field",
        lambda s: renewed_ca(s, "default_ca"),
        {("renewed-ca", "default_ca", INFO), *((("stale-ca-reference", n, E)) for n in DEFAULT_CA_LEAVES)},
    ),
    (
        "renew CA with the same key and update its leaves' ca field",
        lambda s: renewed_ca_and_leaves(s, "default_ca"),
        {("renewed-ca", "default_ca", INFO), *((("documented-rotation", n, INFO)) for n in DEFAULT_CA_LEAVES)},
    ),
    ("rotate leaf", lambda s: rotated_leaf(s, "director_ssl"), {("rotated-certificate", "director_ssl", INFO)}),
    (
        "password becomes a map",
        lambda s: with_(s, admin_password={"value": "x"}),
        {("changed-type", "admin_password", E)},
    ),
    (
        "certificate becomes an rsa key",
        lambda s: with_(s, director_ssl=make_rsa(20)),
        {("changed-type", "director_ssl", E)},
    ),
    ("password emptied", lambda s: with_(s, admin_password=None), {("empty-value", "admin_password", E)}),
    ("password blanked", lambda s: with_(s, admin_password=""), {("empty-value", "admin_password", E)}),
    (
        "variable added",
        lambda s: with_(s, new_password="abcdefabcdefabcdef12"),
        {("added-variable", "new_password", INFO)},
    ),
    (
        "agent password changed",
        lambda s: with_(s, nats_sync_password="x" * 20),
        {("regenerated-password", "nats_sync_password", E)},
    ),
]


@pytest.mark.parametrize(("mutate", "expected"), [pytest.param(m, e, id=i) for i, m, e in CASES])
def test_rule_table(mutate: Mutation, expected: set[tuple[str, str | None, Severity]]) -> None:
    store = bosh_store()
    assert summary(findings(store, mutate(bosh_store()))) == expected


def test_unknown_shapes_are_still_protected() -> None:
    old = with_(bosh_store(), custom={"token": "one-secret-token"})
    new = with_(bosh_store(), custom={"token": "another-secret-token"})
    assert summary(findings(old, new)) == {("regenerated-password", "custom", E)}
    assert summary(findings(old, bosh_store())) == {("removed-password", "custom", E)}


def test_lines_point_at_the_variable_in_the_right_file() -> None:
    old = bosh_store()
    new = with_(without(old, "credhub_encryption_password"), admin_password="n3wpassw0rdn3wpassw0")
    old_text = dump_store(old).splitlines()
    new_text = dump_store(new).splitlines()
    by_rule = {f.rule: f for f in findings(old, new)}

    removed = by_rule["removed-encryption-key"]
    assert removed.line is None
    assert str(removed.old_file) == "old.yml"
    assert old_text[removed.old_line - 1 if removed.old_line else 0].startswith("credhub_encryption_password:")

    changed = by_rule["regenerated-password"]
    assert str(changed.file) == "new.yml"
    assert changed.line is not None
    assert new_text[changed.line - 1].startswith("admin_password:")


def test_removed_field_names_the_field_and_its_old_line() -> None:
    old = bosh_store()
    (finding,) = findings(old, field_removed(old, "director_ssl", "private_key"))
    assert finding.field == "private_key"
    assert finding.old_line is not None
    assert dump_store(old).splitlines()[finding.old_line - 1].strip() == "private_key: |"


def test_duplicate_key_names_both_lines(cli: RunCli, tmp_path: Path) -> None:
    old = tmp_path / "old.yml"
    old.write_text("admin_password: aaaaaaaaaaaaaaaaaaaa\nhm_password: bbbbbbbbbbbbbbbbbbbb\n")
    new = tmp_path / "new.yml"
    new.write_text(
        "admin_password: aaaaaaaaaaaaaaaaaaaa\n"
        "hm_password: bbbbbbbbbbbbbbbbbbbb\n"
        "admin_password: cccccccccccccccccccc\n"
    )
    result = cli(old, new, "--format", "json")
    assert result.code == 1
    duplicate = next(f for f in result.json["findings"] if f["rule"] == "duplicate-key")
    assert (duplicate["variable"], duplicate["line"]) == ("admin_password", 3)
    assert "lines 1, 3" in duplicate["message"]
    # bosh keeps the last value, so the password really changed too
    assert ("regenerated-password", "admin_password") in result.rules


def test_reordering_and_requoting_is_no_change(tmp_path: Path) -> None:
    store = bosh_store()
    text = dump_store(store)
    reordered = dump_store(dict(reversed(list(store.items()))))
    requoted = text.replace("admin_password: ", "admin_password: '", 1).replace("\n", "'\n", 1)
    assert requoted != text
    for variant in (reordered, requoted, text.replace("|\n", "|-\n")):
        assert lint(parse_store(text.encode(), source="a"), parse_store(variant.encode(), source="b")) == ()


def test_pkcs8_reencoding_of_the_same_key_is_not_a_regeneration() -> None:
    from cryptography.hazmat.primitives import serialization

    store = bosh_store()
    rsa = store["uaa_jwt_signing_key"]
    assert isinstance(rsa, dict)
    key = serialization.load_pem_private_key(rsa["private_key"].encode(), password=None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    found = findings(store, with_(store, uaa_jwt_signing_key={**rsa, "private_key": pkcs8}))
    assert "regenerated-keypair" not in {f.rule for f in found}


def test_the_incident_is_caught_and_the_rotation_passes() -> None:
    store = bosh_store()
    caught = summary(findings(store, incident(store)))
    errors = {(rule, var) for rule, var, severity in caught if severity is E}
    assert errors == {
        ("regenerated-encryption-key", "credhub_encryption_password"),
        ("regenerated-ca", "default_ca"),
        ("regenerated-ca", "nats_ca"),
        ("regenerated-ca", "blobstore_ca"),
        ("regenerated-ca", "credhub_ca"),
    }
    rotation = findings(store, leaf_rotation(store))
    assert {f.rule for f in rotation} == {"rotated-certificate"}
    assert len(rotation) == 9


def test_severity_override_and_off() -> None:
    store = bosh_store()
    new = without(store, "director_ssl", "hm_password")
    options = Options(severities={"removed-certificate": Severity.ERROR, "removed-password": None})
    assert summary(findings(store, new, options)) == {("removed-certificate", "director_ssl", E)}


def test_unexplained_change_flags_what_no_rule_reported() -> None:
    odd = "k3Jq9ZmX2pLw7RtV4nYs"  # a key no bosh value has, long enough to be fingerprinted
    store = load({"a": {odd: "1"}, "b": "x"}, "old.yml")
    new = load({"a": {odd: "2"}, "b": "y"}, "new.yml")
    change_a = Change(name="a", kind=ChangeKind.MODIFIED, old=store.get("a"), new=new.get("a"), changed_fields=(odd,))
    change_b = Change(name="b", kind=ChangeKind.MODIFIED, old=store.get("b"), new=new.get("b"))
    (hit,) = unclaimed(Changes(items=(change_a, change_b)), claimed={"b"})
    assert hit.variable == "a"
    assert "(field sha256:" in hit.message  # an unknown key is named by its fingerprint: it could be a secret
    assert "odd" not in hit.message
    assert hit.line == 1


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        pytest.param(lambda s: without(s, "credhub_encryption_password"), 1, id="error"),
        pytest.param(lambda s: without(s, "director_ssl"), 0, id="warning"),
        pytest.param(lambda s: s, 0, id="clean"),
    ],
)
def test_exit_codes(cli: RunCli, write_store: WriteStore, mutate: Mutation, code: int) -> None:
    store = bosh_store()
    assert cli(write_store("old.yml", store), write_store("new.yml", mutate(bosh_store()))).code == code


def test_fail_on_warning(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    old, new = write_store("old.yml", store), write_store("new.yml", without(store, "director_ssl"))
    assert cli(old, new, "--fail-on", "warning").code == 1
    assert cli(old, new, "--fail-on", "info").code == 1
    assert cli(old, new, "--fail-on", "error").code == 0


def test_bad_fail_on_is_a_usage_error(cli: RunCli, write_store: WriteStore) -> None:
    path = write_store("a.yml", {"a": "b"})
    run = cli(path, path, "--fail-on", "fatal")
    assert run.code == 2
    assert "unknown severity 'fatal'" in run.err


# Secrets are long random strings that nothing else in an output can contain by chance (not even a word that
# hypothesis harvests from the source); names come from a fixed list so that a name never equals a secret.
secret_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=20, max_size=24).filter(
    lambda s: len(set(s)) > 6
)
names = st.sampled_from(
    ["admin_password", "nats_ca", "credhub_encryption_password", "jumpbox_ssh", "director_ssl", "custom", "x_y"]
)
values: st.SearchStrategy[object] = st.one_of(
    secret_text,
    st.none(),
    st.dictionaries(st.sampled_from(["ca", "certificate", "private_key", "public_key", "x"]), secret_text, max_size=3),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(store=st.dictionaries(names, values, max_size=12))
def test_a_store_compared_with_itself_has_no_change_findings(store: Store) -> None:
    loaded = load(store, "x.yml")
    found = lint(loaded, load(store, "x.yml"))
    # only the state of the new file can be reported (nothing changed): never a removal or regeneration
    assert {f.rule for f in found} <= {"empty-value", "duplicate-key"}
    assert [f for f in found if f.rule == "empty-value"] == []  # nothing changed, nothing to check


@settings(max_examples=100, deadline=None)
@given(old=st.dictionaries(names, secret_text, max_size=8), new=st.dictionaries(names, secret_text, max_size=8))
def test_no_value_of_either_file_appears_in_any_output(old: dict[str, str], new: dict[str, str]) -> None:
    from creds_lint.findings import Report
    from creds_lint.reporters import REPORTERS

    found = lint(load(dict(old), "old.yml"), load(dict(new), "new.yml"))
    report = Report(findings=found, files=1)
    secrets = set(old.values()) | set(new.values())
    for render in REPORTERS.values():
        out = render(report)
        # Words the format prints whatever the files hold (keys, the rule catalogue) are not leaks.
        fixed = render(Report(files=1))
        leaked = [s for s in secrets if s in out and s not in fixed]
        assert leaked == [], f"{render.__module__} printed a secret"


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_a_password_that_gained_a_line_ending_changed(ending: str) -> None:
    old = bosh_store()
    new = with_(old, admin_password=f"{old['admin_password']}{ending}")
    assert summary(findings(old, new)) == {("regenerated-password", "admin_password", E)}


def test_a_block_password_keeps_its_final_newline() -> None:
    plain = parse_store(b"admin_password: abcdefghij0123456789\n", source="a")
    block = parse_store(b"admin_password: |\n  abcdefghij0123456789\n", source="b")
    assert summary(lint(plain, block)) == {("regenerated-password", "admin_password", E)}


def test_a_secret_that_became_a_key_is_never_printed(cli: RunCli, tmp_path: Path) -> None:
    secret = "b3045ot1t5cbawcrq750"
    old = tmp_path / "old.yml"
    old.write_text(f"admin_password: {secret}\n")
    new = tmp_path / "new.yml"
    new.write_text(f"admin_password: {{{secret}}}\n")  # an editing slip: the password became a key
    for args in ((old, new), (old, new, "--format", "json"), (old, new, "--all"), ("check", new), ("diff", old, new)):
        result = cli(*args)
        assert secret not in result.out + result.err, args
    result = cli(old, new, "--format", "json")
    assert result.code == 1
    assert {(f["rule"], f["field"]) for f in result.json["findings"]} >= {("changed-type", None)}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param(("--expiry-days", "99999999999"), "must be from 0 to 36500", id="huge-days"),
        pytest.param(("--expiry-days", "-5"), "must be from 0 to 36500", id="negative-days"),
        pytest.param(("--expiry-days", "soon"), "'soon' is not a whole number of days", id="not-a-number"),
        pytest.param(("--fail-on", "bogus"), "unknown severity 'bogus'", id="bad-severity"),
    ],
)
def test_bad_option_values_are_usage_errors(
    write_store: WriteStore, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    from creds_lint.cli import main

    path = write_store("a.yml", {"a": "b"})
    for command in ([str(path), str(path)], ["check", str(path)]):
        assert main([*command, *args]) == 2
        err = capsys.readouterr().err
        assert expected in err
        assert "Traceback" not in err
