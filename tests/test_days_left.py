"""Days left have one rounding everywhere: the floor of (not_after - now) / 1 day, negative once expired
(:meth:`creds_lint.x509.CertInfo.days_left`). A certificate 35.5 days from expiry has 35 days left; one that
expired 35.5 days ago has -36, and its message says "36 days ago": the rule messages, the text table, JSON and
``rotate plan`` (text and JSON) all agree, at the half day where truncation and floor differ. The clock is fixed
with ``--now``, as a user plans ahead."""

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
