"""Allowances: a deliberate change is shown, marked allowed with its reason, and never fails the run."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from conftest import RunCli, WriteStore
from creds_lint.allowances import Allowance
from creds_lint.engine import Options, check, lint
from creds_lint.findings import Severity
from creds_lint.loader import parse_store
from creds_lint.model import VarStore
from creds_lint.sources import Source, Target
from factory import BOSH_CAS, BOSH_LEAVES, bosh_store, dump_store, make_ca, make_leaf

NATS_LEAVES = [name for name, (ca, *_) in BOSH_LEAVES.items() if ca == "nats_ca"]


def rotate_nats_ca(store: Mapping[str, object], slot: int) -> dict[str, object]:
    """``nats_ca`` regenerated with the key of pool slot ``slot``, its leaves re-issued by the new CA."""
    out = dict(store)
    ca = make_ca(BOSH_CAS["nats_ca"], key_slot=slot)
    out["nats_ca"] = ca.as_value()
    for name in NATS_LEAVES:
        _, cn, sans, eku = BOSH_LEAVES[name]
        out[name] = make_leaf(cn, ca, key_slot=slot + 1, sans=sans, extended_key_usage=eku).as_value()
    return out


def config(tmp_path: Path, allow: str, name: str = "conf.yml") -> Path:
    path = tmp_path / name
    path.write_text("allow:\n" + allow, encoding="utf-8")
    return path


def rows(findings: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(f["rule"], f["variable"], f["severity"], f["allowed"], f["reason"]) for f in findings]


ROTATED = [
    ("regenerated-ca", "nats_ca", "error", True, "planned nats_ca rotation (OPS-1)"),
    *(("rotated-certificate", name, "info", False, None) for name in sorted(NATS_LEAVES)),
]


def test_an_allowance_marks_the_finding_allowed_and_the_run_passes(
    cli: RunCli, write_store: WriteStore, tmp_path: Path
) -> None:
    old = write_store("old.yml", bosh_store())
    new = write_store("new.yml", rotate_nats_ca(bosh_store(), 60))
    conf = config(
        tmp_path, "  - rule: regenerated-ca\n    variable: nats_ca\n    reason: planned nats_ca rotation (OPS-1)\n"
    )
    run = cli(old, new, "--no-config", "--format", "json")
    assert run.code == 1
    run = cli(old, new, "--config", conf, "--format", "json")
    assert run.code == 0
    assert sorted(rows(run.json["findings"])) == sorted(ROTATED)
    assert run.json["summary"] == {"files": 1, "error": 0, "warning": 0, "info": 3, "allowed": 1}
    text = cli(old, new, "--config", conf)
    assert text.code == 0
    [line] = [line for line in text.out.splitlines() if "CL204" in line]
    assert line.startswith(f"  {new}:")
    assert line.startswith(f"  {new}:575: allowed CL204 regenerated-ca: ")  # the status first
    assert line.endswith("(allowed: planned nats_ca rotation (OPS-1))")
    assert text.out.splitlines()[-1] == "0 errors, 0 warnings, 3 info in 1 file (1 allowed)"


def test_a_fingerprint_limits_the_allowance_to_that_value(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    old = write_store("old.yml", bosh_store())
    new = write_store("new.yml", rotate_nats_ca(bosh_store(), 60))
    first = cli(old, new, "--no-config", "--format", "json")
    [regenerated] = [f for f in first.json["findings"] if f["rule"] == "regenerated-ca"]
    fingerprint = regenerated["details"]["new_fingerprint"]
    assert fingerprint == parse_store(new.read_bytes(), source="new.yml").entries["nats_ca"].fingerprint
    conf = config(
        tmp_path,
        f"  - rule: regenerated-ca\n    variable: nats_ca\n    reason: planned nats_ca rotation (OPS-1)\n"
        f"    fingerprint: {fingerprint}\n",
    )
    run = cli(old, new, "--config", conf, "--format", "json")
    assert run.code == 0
    assert sorted(rows(run.json["findings"])) == sorted(ROTATED)

    later = write_store("later.yml", rotate_nats_ca(bosh_store(), 70))
    run = cli(old, later, "--config", conf, "--format", "json")
    assert run.code == 1
    later_fingerprint = parse_store(later.read_bytes(), source="later.yml").entries["nats_ca"].fingerprint
    by_rule = {f["rule"]: f for f in run.json["findings"]}
    assert (by_rule["regenerated-ca"]["allowed"], by_rule["regenerated-ca"]["severity"]) == (False, "error")
    unused = by_rule["unused-allowance"]
    assert (unused["file"], unused["line"], unused["variable"], unused["severity"]) == (
        str(conf),
        2,
        "nats_ca",
        "warning",
    )
    assert unused["message"] == (
        f"allowance for regenerated-ca:nats_ca ({fingerprint}) matched no finding: nats_ca now has fingerprint "
        f"{later_fingerprint}, not {fingerprint}: the allowance was written for another value. Review this change "
        "before allowing it."
    )


def test_an_expired_allowance_no_longer_applies_and_says_so(
    cli: RunCli, write_store: WriteStore, tmp_path: Path
) -> None:
    old = write_store("old.yml", bosh_store())
    new = write_store("new.yml", rotate_nats_ca(bosh_store(), 60))
    today = datetime.now(UTC).date()
    allow = "  - rule: regenerated-ca\n    variable: nats_ca\n    reason: planned\n    expires: {}\n"
    still = config(tmp_path, allow.format(today.isoformat()), "today.yml")
    run = cli(old, new, "--config", still, "--format", "json")
    assert run.code == 0  # the expiry date is the last day it applies
    yesterday = (today - timedelta(days=1)).isoformat()
    expired = config(tmp_path, allow.format(yesterday), "yesterday.yml")
    run = cli(old, new, "--config", expired, "--format", "json")
    assert run.code == 1
    findings = {f["rule"]: f for f in run.json["findings"]}
    assert (findings["regenerated-ca"]["allowed"], findings["regenerated-ca"]["reason"]) == (False, None)
    assert "unused-allowance" not in findings
    note = findings["expired-allowance"]
    assert (note["file"], note["line"], note["severity"]) == (str(expired), 2, "warning")
    assert note["message"] == (
        f"allowance for regenerated-ca:nats_ca expired on {yesterday} and no longer applies: regenerated-ca on "
        "nats_ca is reported again."
    )


def test_an_allowance_that_matches_nothing_is_reported(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    store = bosh_store()
    old = write_store("old.yml", store)
    new = write_store("new.yml", {**store, "extra_password": "abc"})
    conf = config(
        tmp_path,
        "  - rule: added-variable\n    variable: extra_password\n    reason: new job\n"
        "  - rule: removed-encryption-key\n    variable: credhub_encryption_password\n    reason: rotation done\n",
    )
    run = cli(old, new, "--config", conf, "--format", "json")
    assert run.code == 0
    assert rows(run.json["findings"]) == [
        ("unused-allowance", "credhub_encryption_password", "warning", False, None),
        ("added-variable", "extra_password", "info", True, "new job"),
    ]
    assert run.json["findings"][0]["message"] == (
        "allowance for removed-encryption-key:credhub_encryption_password matched no finding: remove it once the "
        "change it was written for is committed."
    )
    assert run.json["findings"][0]["line"] == 5
    assert cli(old, new, "--config", conf, "--fail-on", "warning").code == 1


def test_allow_on_the_command_line(cli: RunCli, write_store: WriteStore) -> None:
    store = bosh_store()
    old = write_store("old.yml", store)
    new = write_store("new.yml", {k: v for k, v in store.items() if k != "hm_password"})
    run = cli(old, new, "--no-config", "--format", "json", "--allow", "removed-password:hm_password")
    assert run.code == 0
    assert rows(run.json["findings"]) == [
        ("removed-password", "hm_password", "error", True, "allowed on the command line")
    ]
    run = cli(old, new, "--no-config", "--format", "json", "--allow", "CL104:hm_password", "--allow", "CL104:nats")
    assert run.code == 0
    assert [(f["rule"], f["variable"], f["file"], f["allowed"]) for f in run.json["findings"]] == [
        ("removed-password", "hm_password", str(new), True),
        ("unused-allowance", "nats", "command line", False),
    ]


def _store(source: str, data: Mapping[str, object]) -> VarStore:
    return parse_store(dump_store(data).encode(), source=source)


def test_an_allowance_used_by_one_of_several_files_is_not_unused(tmp_path: Path) -> None:
    files = {}
    for name, data in {
        "a-old.yml": {"x": "1"},
        "a-new.yml": {"x": "2"},
        "b-old.yml": {"y": "1"},
        "b-new.yml": {"y": "1"},
    }.items():
        files[name] = tmp_path / name
        files[name].write_text(dump_store(data), encoding="utf-8")
    allowance = Allowance(rule="regenerated-password", variable="x", reason="rotated", source="c.yml", line=2)
    options = Options(allowances=(allowance,))
    targets = [
        Target(old=Source.file(files[f"{t}-old.yml"]), new=Source.file(files[f"{t}-new.yml"])) for t in ("a", "b")
    ]
    report = check(targets, options)
    assert [(f.rule, f.variable, f.allowed) for f in report.findings] == [("regenerated-password", "x", True)]
    assert report.exit_code(Severity.INFO) == 0
    # one file that cannot be read: the allowances are not judged
    broken = Target(old=Source.file(tmp_path / "missing.yml"), new=Source.file(tmp_path / "missing.yml"))
    report = check([targets[1], broken], options)
    assert [f.rule for f in report.findings] == []
    assert report.exit_code(Severity.ERROR) == 2


def test_lint_reports_allowances_for_its_one_pair() -> None:
    old, new = _store("o.yml", {"x": "1"}), _store("n.yml", {"x": "2"})
    now = datetime(2030, 6, 1, tzinfo=UTC)
    allowances = (
        Allowance(rule="regenerated-password", variable="x", reason="r", expires=date(2030, 6, 1), source="c.yml"),
        Allowance(rule="removed-ca", variable="x", reason="old", expires=date(2030, 5, 31), source="c.yml", line=9),
    )
    findings = lint(old, new, Options(allowances=allowances, now=now))
    assert [(f.rule, str(f.file), f.line, f.allowed, f.reason) for f in findings] == [
        ("expired-allowance", "c.yml", 9, False, None),
        ("regenerated-password", "n.yml", 1, True, "r"),
    ]
    assert findings[0].message == (
        "allowance for removed-ca:x expired on 2030-05-31 and no longer applies: remove it from the configuration."
    )
    turned_off = lint(old, new, Options(allowances=allowances, now=now, severities={"expired-allowance": None}))
    assert [f.rule for f in turned_off] == ["regenerated-password"]


def test_an_allowance_limited_to_files(tmp_path: Path) -> None:
    files = {}
    for name, data in {"a-old.yml": {"x": "1"}, "a-creds.yml": {"x": "2"}, "b-old.yml": {"x": "1"}}.items():
        files[name] = tmp_path / name
        files[name].write_text(dump_store(data), encoding="utf-8")
    (tmp_path / "b-creds.yml").write_text(dump_store({"x": "3"}), encoding="utf-8")
    allowance = Allowance(rule="regenerated-password", variable="x", file="a-*.yml", reason="rotated in a")
    targets = [
        Target(old=Source.file(tmp_path / f"{t}-old.yml"), new=Source.file(tmp_path / f"{t}-creds.yml"))
        for t in ("a", "b")
    ]
    report = check(targets, Options(allowances=(allowance,)))
    assert [(Path(f.file.path).name, f.rule, f.allowed) for f in report.findings] == [
        ("a-creds.yml", "regenerated-password", True),
        ("b-creds.yml", "regenerated-password", False),
    ]


def test_a_deleted_var_store_allowed_by_file() -> None:
    old = _store("HEAD:envs/old/creds.yml", {"credhub_encryption_password": "p", "hm_password": "h"})
    gone = _store("envs/old/creds.yml", {})
    allowance = Allowance(
        rule="removed-file", variable=None, file="envs/old/*.yml", reason="environment decommissioned", source="c.yml"
    )
    [finding] = lint(old, gone, Options(allowances=(allowance,)), deleted=True)
    assert (finding.rule, finding.variable, finding.allowed, finding.reason) == (
        "removed-file",
        None,
        True,
        "environment decommissioned",
    )
    elsewhere = dataclasses.replace(allowance, file="envs/prod/*.yml", line=3)
    findings = lint(old, gone, Options(allowances=(elsewhere,)), deleted=True)
    assert [(f.rule, f.allowed) for f in findings] == [("unused-allowance", False), ("removed-file", False)]
    assert findings[0].message == (
        "allowance for removed-file in envs/prod/*.yml matched no finding: remove it once the change it was written "
        "for is committed."
    )


def test_the_text_output_suggests_the_allowance_for_a_deleted_file() -> None:
    from creds_lint.findings import Report
    from creds_lint.reporters.style import Style
    from creds_lint.reporters.text import render
    from creds_lint.rules import CATALOGUE

    old = _store("HEAD:envs/old/creds.yml", {"a": "p"})
    report = Report(rules=CATALOGUE, findings=lint(old, _store("envs/old/creds.yml", {}), deleted=True), files=1)
    entry = '    - {rule: removed-file, file: "envs/old/creds.yml", reason: "..."}'
    assert entry in render(report, Style(suggest_allow=True)).splitlines()
    default = render(report).splitlines()  # a deleted var-store is destructive: how to restore it, no entry
    assert entry not in default
    assert (
        "  git checkout HEAD -- envs/old/creds.yml   (at the top of the repository; it discards every change to "
        "the file)"
    ) in default
