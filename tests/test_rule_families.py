"""The rule families that are one body over a table (``removed-*``, ``regenerated-*``, ``missing-*``), one test row
per member; and the engine's invariant that every change is claimed by some rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization

from creds_lint import manifest
from creds_lint.allowances import Allowance, Use
from creds_lint.diff import Change, ChangeKind, Changes
from creds_lint.engine import Options, claimed, lint
from creds_lint.findings import Finding, Severity
from creds_lint.loader import parse_store
from creds_lint.model import VarStore
from creds_lint.rules import BY_NAME, CATALOGUE, RULES, VERDICTS, Context, Hit, Rule, find, verdicts
from creds_lint.rules.describe import RESTORE
from creds_lint.rules.manifest import MISSING_FAMILY
from creds_lint.rules.presence import REMOVED_FAMILY
from creds_lint.rules.secrets import REGENERATED_FAMILY
from factory import bosh_store, dump_store, make_rsa, password

Store = dict[str, object]
Edit = Callable[[Store], Store]


def load(store: Store, name: str) -> VarStore:
    return parse_store(dump_store(store).encode(), source=name)


def run(new: Store, options: Options | None = None, *, old: Store | None = None) -> tuple[Finding, ...]:
    return lint(load(old if old is not None else bosh_store(), "old.yml"), load(new, "new.yml"), options or Options())


def without(name: str) -> Edit:
    return lambda store: {k: v for k, v in store.items() if k != name}


def with_(name: str, value: object) -> Edit:
    return lambda store: {**store, name: value}


@dataclass(frozen=True, kw_only=True)
class Case:
    """One member of a family at work: the rule, the variable, how the store changes, how the message starts."""

    rule: str
    variable: str
    edit: Edit
    starts: str
    restore: bool = True


REMOVED = [
    Case(
        rule="removed-encryption-key",
        variable="credhub_encryption_password",
        edit=without("credhub_encryption_password"),
        starts="credhub_encryption_password (encryption key) was removed: BOSH will generate a new one on the next "
        "deploy and CredHub can no longer decrypt its data",
    ),
    Case(
        rule="removed-ca",
        variable="nats_ca",
        edit=without("nats_ca"),
        starts="nats_ca (CA) was removed: BOSH will generate a new CA with a new key on the next deploy: every "
        "certificate it signed stops verifying, and the director signs",
    ),
    Case(
        rule="removed-keypair",
        variable="jumpbox_ssh",
        edit=without("jumpbox_ssh"),
        starts="jumpbox_ssh (ssh key pair) was removed: BOSH will generate a new key pair on the next deploy and the "
        "jumpbox user can no longer log in with the old key.",
    ),
    Case(
        rule="removed-password",
        variable="admin_password",
        edit=without("admin_password"),
        starts="admin_password (login) was removed: BOSH will generate a new value on the next deploy and people and "
        "pipelines that log in as admin are locked out.",
    ),
    Case(
        rule="removed-certificate",
        variable="director_ssl",
        edit=without("director_ssl"),
        starts="director_ssl (certificate) was removed: BOSH will re-issue it from its CA on the next deploy. That is "
        "safe for a rotation while the CA stays unchanged.",
        restore=False,
    ),
]

REGENERATED = [
    Case(
        rule="regenerated-encryption-key",
        variable="credhub_encryption_password",
        edit=with_("credhub_encryption_password", password("another key")),
        starts="credhub_encryption_password (encryption key) has a new value (sha256:",
    ),
    Case(
        rule="regenerated-password",
        variable="admin_password",
        edit=with_("admin_password", password("another admin")),
        starts="admin_password (login) has a new value (sha256:",
    ),
    Case(
        rule="regenerated-keypair",
        variable="uaa_jwt_signing_key",
        edit=with_("uaa_jwt_signing_key", make_rsa(77)),
        starts="uaa_jwt_signing_key (rsa key pair) has a new private key (sha256:",
    ),
]


def test_each_family_member_has_its_test_row() -> None:
    """Adding a rule to a family is one table row there and one row here: this fails until both exist."""
    assert [r.name for r in REMOVED_FAMILY] == [c.rule for c in REMOVED]
    assert [r.name for r in REGENERATED_FAMILY] == [c.rule for c in REGENERATED]
    assert [r.name for r in MISSING_FAMILY] == [c.rule for c in MISSING]


@pytest.mark.parametrize("case", REMOVED + REGENERATED, ids=lambda c: c.rule)
def test_a_family_member_speaks_for_its_change(case: Case) -> None:
    found = run(case.edit(bosh_store()))
    (finding,) = found  # that rule alone: the change is claimed, so no unexplained-change
    assert (finding.rule, finding.code, finding.variable) == (case.rule, BY_NAME[case.rule].code, case.variable)
    assert finding.severity is BY_NAME[case.rule].severity
    assert finding.message.startswith(case.starts)
    assert finding.message.endswith(f"{RESTORE}.") is case.restore


def test_a_regenerated_key_pair_points_at_its_private_key() -> None:
    (finding,) = run(REGENERATED[2].edit(bosh_store()))
    assert finding.field == "private_key"
    assert finding.line is not None
    (password_finding,) = run(REGENERATED[1].edit(bosh_store()))
    assert password_finding.field is None


def test_a_value_of_no_known_shape_has_a_changed_value() -> None:
    odd = "k3Jq9ZmX2pLw7RtV4nYs"
    (finding,) = run({"blob": {odd: password("two")}}, old={"blob": {odd: password("one")}})
    assert finding.rule == "regenerated-password"
    assert finding.message.startswith("blob (unknown value) has a changed value (sha256:")


# --- missing-*: declared in the manifest, absent from the var-store ------------------------------------------

MISSING = [
    Case(
        rule="missing-encryption-key",
        variable="credhub_encryption_password",
        edit=without("credhub_encryption_password"),
        starts="credhub_encryption_password (encryption key) is declared in ",
    ),
    Case(rule="missing-ca", variable="nats_ca", edit=without("nats_ca"), starts="nats_ca (CA) is declared in "),
    Case(
        rule="missing-keypair",
        variable="jumpbox_ssh",
        edit=without("jumpbox_ssh"),
        starts="jumpbox_ssh (ssh key pair) is declared in ",
    ),
    Case(
        rule="missing-password",
        variable="hm_password",
        edit=without("hm_password"),
        starts="hm_password (password) is declared in ",
    ),
    Case(
        rule="missing-certificate",
        variable="director_ssl",
        edit=without("director_ssl"),
        starts="director_ssl (certificate) is declared in ",
        restore=False,
    ),
]

DECLARED = [
    {"name": "credhub_encryption_password", "type": "password"},
    {"name": "nats_ca", "type": "certificate", "options": {"is_ca": True, "common_name": "nats"}},
    {"name": "jumpbox_ssh", "type": "ssh"},
    {"name": "hm_password", "type": "password"},
    {"name": "director_ssl", "type": "certificate", "options": {"ca": "default_ca", "common_name": "d"}},
]


@pytest.mark.parametrize("case", MISSING, ids=lambda c: c.rule)
def test_a_missing_member_speaks_for_a_declared_variable(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "manifest.yml"
    path.write_text(yaml.safe_dump({"name": "bosh", "variables": DECLARED}), encoding="utf-8")
    loaded = manifest.load([path])
    store = case.edit(bosh_store())
    found = [f for f in run(store, Options(manifest=loaded), old=store) if f.variable == case.variable]
    (finding,) = found
    assert (finding.rule, finding.severity) == (case.rule, BY_NAME[case.rule].severity)
    assert finding.message.startswith(case.starts)
    will = "but missing from the var-store: BOSH will generate a new one on the next deploy"
    if case.restore:
        assert f"{will}. If a value of it was ever deployed, " in finding.message
        assert finding.message.endswith("if bosh never deployed it, allow it.")
    else:
        assert finding.message.endswith(f"{will} from default_ca, which is safe while that CA stays unchanged.")


# --- every change is claimed by some rule ----------------------------------------------------------------------


def reencoded_key(store: Store) -> Store:
    """The rsa pair's private key written as PKCS#8 instead of PKCS#1: the same key, another text."""
    value = store["uaa_jwt_signing_key"]
    assert isinstance(value, dict)
    key = serialization.load_pem_private_key(value["private_key"].encode(), password=None)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert pkcs8 != value["private_key"]
    return {**store, "uaa_jwt_signing_key": {**value, "private_key": pkcs8}}


def test_a_change_no_rule_claims_is_an_unexplained_change() -> None:
    """No rule of the family speaks for a re-encoded key (it is no regeneration), and no other rule claims it: the
    engine reports it rather than pass it in silence."""
    (finding,) = run(reencoded_key(bosh_store()))
    assert (finding.rule, finding.code, finding.variable, finding.severity) == (
        "unexplained-change",
        "CL399",
        "uaa_jwt_signing_key",
        Severity.ERROR,
    )
    assert finding.message.startswith("uaa_jwt_signing_key modified (private_key) (sha256:")
    assert finding.line is not None
    assert finding.old_line is not None


def test_unexplained_change_keeps_its_configuration() -> None:
    new = reencoded_key(bosh_store())
    assert run(new, Options(severities={"unexplained-change": None})) == ()
    (lowered,) = run(new, Options(severities={"unexplained-change": Severity.WARNING}))
    assert lowered.severity is Severity.WARNING
    allow = Allowance(rule="unexplained-change", variable="uaa_jwt_signing_key", reason="re-encoded as PKCS#8")
    (allowed,) = run(new, Options(allowances=(allow,)))
    assert (allowed.rule, allowed.allowed, allowed.reason) == ("unexplained-change", True, "re-encoded as PKCS#8")


@pytest.mark.parametrize("case", REMOVED + REGENERATED, ids=lambda c: c.rule)
def test_a_rule_turned_off_still_claims_its_changes(case: Case) -> None:
    """Turning a rule off drops its findings, not its claims: the change is not reported again as unexplained."""
    assert run(case.edit(bosh_store()), Options(severities={case.rule: None})) == ()


def test_only_the_declared_kinds_of_change_are_claimed() -> None:
    store = load(bosh_store(), "old.yml")
    new = load(REGENERATED[1].edit(bosh_store()), "new.yml")
    change = Change(
        name="admin_password", kind=ChangeKind.MODIFIED, old=store.get("admin_password"), new=new.get("admin_password")
    )
    context = Context(new=new, old=store, changes=Changes(items=(change,)))
    hit = Hit(variable="admin_password", message="m")

    def claims(rule: str) -> frozenset[str]:
        found = BY_NAME[rule]
        assert isinstance(found, Rule)
        return claimed([(found, hit)], context)

    assert claims("regenerated-password") == {"admin_password"}
    assert claims("removed-password") == frozenset()  # claims removals only
    assert claims("expiring-certificate") == frozenset()  # a state, whatever changed
    assert claims("orphaned-variable") == frozenset()
    assert claimed([(verdicts.UNEXPLAINED_CHANGE, hit)], context) == frozenset()


def test_every_rule_declares_what_it_claims() -> None:
    """The rules that speak for a change claim its kind; added-variable claims every addition."""
    claims = {r.name: r.claims for r in RULES}
    assert all(claims[r.name] == {ChangeKind.REMOVED} for r in REMOVED_FAMILY)
    assert all(claims[r.name] == {ChangeKind.MODIFIED} for r in REGENERATED_FAMILY)
    assert all(not claims[r.name] for r in MISSING_FAMILY)  # a declared variable that no version has: no change
    assert claims["added-variable"] == {ChangeKind.ADDED}
    assert claims["documented-rotation"] == {ChangeKind.REMOVED, ChangeKind.MODIFIED}


# --- allowances: a decision step, not a rule over a store -----------------------------------------------------


def test_allowance_verdicts_read_no_store() -> None:
    unused = Allowance(rule="removed-ca", variable="nats_ca", reason="r", source="conf.yml", line=3)
    expired = Allowance(rule="removed-ca", variable="default_ca", reason="r", expires=date(2020, 1, 1))
    said = list(verdicts.on_allowances([Use(allowance=unused), Use(allowance=expired)], (), today=date(2026, 1, 1)))
    assert [(d.name, h.variable, h.line) for d, h in said] == [
        ("unused-allowance", "nats_ca", 3),
        ("expired-allowance", "default_ca", None),
    ]
    assert said[0][1].message == (
        "allowance for removed-ca:nats_ca matched no finding: remove it once the change it was written for is "
        "committed."
    )
    assert list(verdicts.on_allowances([Use(allowance=unused, matched=1)], (), today=date(2026, 1, 1))) == []


def test_the_engines_verdicts_are_listed_like_rules_but_read_no_store() -> None:
    assert [v.name for v in VERDICTS] == [
        "unexplained-change",
        "unused-allowance",
        "expired-allowance",
        "unapplied-configuration",
    ]
    assert not any(isinstance(v, Rule) for v in VERDICTS)
    assert all(find(v.code) is v and find(v.name) is v for v in VERDICTS)
    about = {i.name for i in CATALOGUE if i.about_allowances}
    assert about == {"unused-allowance", "expired-allowance", "unapplied-configuration"}
    (unexplained,) = (i for i in CATALOGUE if i.code == "CL399")
    assert (unexplained.severity, unexplained.destructive) == (Severity.ERROR, True)
