"""A finding's details and fingerprint are worked out when an output reads them: the text output reads neither
(on a large incident they were a tenth of the run), JSON reads both, and what they say is what an eager
computation would have said."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from creds_lint import engine
from creds_lint.findings import Details, Report
from creds_lint.loader import parse_store
from creds_lint.reporters import REPORTERS
from creds_lint.reporters.style import Style
from factory import dump_store, make_ca, make_leaf
from reports import FINDINGS, REPORT

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def test_details_are_worked_out_once_when_first_read() -> None:
    calls: list[int] = []

    def work() -> dict[str, str]:
        calls.append(1)
        return {"old_fingerprint": "sha256:0badf00d", "signer": "nats_ca"}

    details = Details(work)
    assert calls == []
    assert list(details) == ["old_fingerprint", "signer"]
    assert details["signer"] == "nats_ca"
    assert dict(details) == {"old_fingerprint": "sha256:0badf00d", "signer": "nats_ca"}
    assert len(details) == 2
    assert calls == [1]


def _report_with_deferred_details(calls: list[int]) -> Report:
    first = FINDINGS[0]
    facts = dict(first.details)

    def work() -> dict[str, str]:
        calls.append(1)
        return facts

    def fingerprinted() -> str:
        calls.append(2)
        return "sha256:f7547caf"

    deferred = dataclasses.replace(first, details=Details(work), fingerprinted=fingerprinted)
    return dataclasses.replace(REPORT, findings=(deferred, *REPORT.findings[1:]))


def test_text_reads_no_details_and_json_reads_them() -> None:
    calls: list[int] = []
    report = _report_with_deferred_details(calls)
    assert REPORTERS["text"](report, Style()) == REPORTERS["text"](REPORT, Style())
    assert calls == []
    document = REPORTERS["json"](report, Style())
    assert '"old_fingerprint": "sha256:f7547caf"' in document
    assert sorted(calls) == [1, 2]


def test_a_reissued_leaf_has_the_details_of_both_versions() -> None:
    ca = make_ca("default_ca")
    before, after = make_leaf("nats", ca, key_slot=9), make_leaf("nats", ca, key_slot=10)
    old = parse_store(dump_store({"default_ca": ca.as_value(), "nats": before.as_value()}).encode(), source="old.yml")
    new = parse_store(dump_store({"default_ca": ca.as_value(), "nats": after.as_value()}).encode(), source="new.yml")
    (finding,) = (f for f in engine.lint(old, new, engine.Options(now=NOW)) if f.rule == "rotated-certificate")
    old_entry, new_entry = old.entries["nats"], new.entries["nats"]
    assert dict(finding.details) == {
        "old_fingerprint": old_entry.fingerprint,
        "old_subject": "CN=nats,O=Cloud Foundry,C=US",
        "old_serial": format(before.cert_obj.serial_number, "x"),
        "old_not_after": before.cert_obj.not_valid_after_utc.isoformat(),
        "new_fingerprint": new_entry.fingerprint,
        "new_subject": "CN=nats,O=Cloud Foundry,C=US",
        "new_serial": format(after.cert_obj.serial_number, "x"),
        "new_not_after": after.cert_obj.not_valid_after_utc.isoformat(),
        "signer": "default_ca",
    }
    assert finding.fingerprint == new_entry.fingerprint != old_entry.fingerprint
