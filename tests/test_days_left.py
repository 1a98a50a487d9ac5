"""Days left have one rounding everywhere: the floor of (not_after - now) / 1 day, negative once expired
(:meth:`creds_lint.x509.CertInfo.days_left`). A certificate 35.5 days from expiry has 35 days left; one that
expired 35.5 days ago has -36, and its message says "36 days ago": the rule messages, the text table, JSON and
``rotate plan`` (text and JSON) all agree, at the half day where truncation and floor differ. A window of N days
(``--expiry-days``, ``renew --expiring``, ``rotate plan --within``, ``rotate leaf --expiring``) holds what is shown
with N days left or fewer (:mod:`creds_lint.expiry`). The clock is fixed with ``--now``, as a user plans ahead."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import RunCli, WriteStore
from factory import make_ca, make_leaf

HALF = timedelta(hours=12)
NOW = datetime(2071, 3, 1, 12, 0, tzinfo=UTC)  # decades ahead: the real clock is always before it
AT = ("--now", NOW.isoformat())


@pytest.fixture
def aged(write_store: WriteStore) -> Path:
    now = NOW
    ca = make_ca("days-ca", key_slot=41, not_before=now - timedelta(days=10), days=3650)
    return write_store(
        "creds.yml",
        {
            "days_ca": ca.as_value(),
            # not_after = now + 35.5 days, and now - 35.5 days
            "soon_tls": make_leaf(
                "soon.internal", ca, not_before=now - timedelta(days=100) + HALF, days=135
            ).as_value(),
            "gone_tls": make_leaf(
                "gone.internal", ca, not_before=now - timedelta(days=400) - HALF, days=365
            ).as_value(),
        },
    )


def test_message_table_and_json_agree_at_the_half_day(cli: RunCli, aged: Path) -> None:
    as_json = cli("check", aged, *AT, "--no-config", "--expiry-days", "40", "--format", "json")
    assert as_json.code == 1
    days = {c["variable"]: c["days_left"] for c in as_json.json["certificates"]}
    assert (days["soon_tls"], days["gone_tls"]) == (35, -36)
    messages = {f["variable"]: f["message"] for f in as_json.json["findings"]}
    assert "(36 days ago)" in messages["gone_tls"]
    assert ", in 35 days (--expiry-days 40)" in messages["soon_tls"]

    text = cli("check", aged, *AT, "--no-config", "--expiry-days", "40", "--color", "never")
    table = {line.split()[0]: line.split()[-1] for line in text.out.splitlines() if line.startswith("  ")}
    assert (table["soon_tls"], table["gone_tls"]) == ("35", "-36")
    assert "(36 days ago)" in text.out
    assert ", in 35 days (--expiry-days 40)" in text.out


def test_rotate_plan_rounds_as_the_audit(cli: RunCli, aged: Path) -> None:
    planned = cli("rotate", "plan", aged, *AT, "--no-config", "--format", "json")
    assert planned.code == 0, planned.err
    rows = {r["variable"]: r["days_left"] for r in json.loads(planned.out)["variables"]}
    assert (rows["soon_tls"], rows["gone_tls"]) == (35, -36)
    text = cli("rotate", "plan", aged, *AT, "--no-config")
    cells = {line.split()[1]: line.split()[4] for line in text.out.splitlines() if line.startswith("  * ")}
    assert (cells["soon_tls"], cells["gone_tls"]) == ("35", "-36")


def test_now_sets_the_clock_of_an_audit_and_a_comparison(cli: RunCli, aged: Path) -> None:
    today = cli("check", aged, "--no-config", "--format", "json")  # the clock: decades before NOW
    assert {f["rule"] for f in today.json["findings"]} == {"not-yet-valid"}
    expected = {("expired-certificate", "gone_tls")}  # soon_tls: 35 days left, beyond --expiry-days 30
    audit = cli("check", aged, *AT, "--no-config", "--format", "json")
    assert {(f["rule"], f["variable"]) for f in audit.json["findings"]} == expected
    comparison = cli(aged, aged, "--all", *AT, "--no-config", "--format", "json")
    assert {(f["rule"], f["variable"]) for f in comparison.json["findings"]} == expected


@pytest.fixture
def edge(write_store: WriteStore) -> Path:
    """Leaves 30.5 days (shown as 30) and exactly 31 days from expiry, and nats_ca, which every agent holds (warned
    60 days ahead), 60.5 days from it."""
    start = NOW - timedelta(days=100)
    ca = make_ca("nats-ca", key_slot=42, not_before=start + HALF, days=160)
    return write_store(
        "creds.yml",
        {
            "nats_ca": ca.as_value(),
            "edge_tls": make_leaf("edge.internal", ca, not_before=start + HALF, days=130).as_value(),
            "later_tls": make_leaf("later.internal", ca, not_before=start, days=131).as_value(),
        },
    )


def test_the_window_holds_what_is_shown_within_it(cli: RunCli, edge: Path) -> None:
    """30 days shown is within 30 days, for the rule, the table, renew and rotate alike; 31 is not."""
    audit = cli("check", edge, *AT, "--no-config", "--format", "json")
    days = {c["variable"]: c["days_left"] for c in audit.json["certificates"]}
    assert days == {"nats_ca": 60, "edge_tls": 30, "later_tls": 31}
    warned = {f["variable"]: f["message"] for f in audit.json["findings"] if f["rule"] == "expiring-certificate"}
    assert set(warned) == {"nats_ca", "edge_tls"}
    assert ", in 30 days (--expiry-days 30)." in warned["edge_tls"]
    assert ", in 60 days (60 days ahead for a CA that every agent holds)." in warned["nats_ca"]
    wider = cli("check", edge, *AT, "--no-config", "--expiry-days", "31", "--format", "json")
    assert {f["variable"] for f in wider.json["findings"] if f["rule"] == "expiring-certificate"} == {
        "nats_ca",
        "edge_tls",
        "later_tls",
    }

    renewed = cli("renew", edge, "--expiring", "30", *AT, "--no-config", "--dry-run", "--format", "json")
    assert renewed.code == 0, renewed.err
    assert sorted(r["variable"] for r in renewed.json["renewed"]) == ["edge_tls"]

    planned = cli("rotate", "plan", edge, *AT, "--no-config", "--within", "30", "--format", "json")
    assert planned.code == 0, planned.err
    due = {r["variable"]: r["due"] for r in json.loads(planned.out)["variables"]}
    assert due == {"nats_ca": False, "edge_tls": True, "later_tls": False}

    leaves = cli("rotate", "leaf", edge, "--expiring", "30", *AT, "--no-config", "--dry-run", "--format", "json")
    assert leaves.code == 0, leaves.err
    assert [leaf["variable"] for leaf in leaves.json["leaves"]] == ["edge_tls"]
