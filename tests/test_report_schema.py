"""Every ``--format json`` report is valid by the versioned schema it names in ``$schema``
(src/creds_lint/schemas/report-v1.schema.json): real runs, with errors, clean, ``check``, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import Run, RunCli, WriteStore
from creds_lint import __version__, schema
from factory import bosh_store, password

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = schema.load("report-v1.schema.json")
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def valid(run: Run) -> Any:  # noqa: ANN401 - the parsed report
    document = run.json
    assert [e.message for e in VALIDATOR.iter_errors(document)] == []
    return document


def test_the_schema_is_a_schema_and_reports_name_it() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$id"] == schema.REPORT_ID
    assert SCHEMA["$id"].endswith("/report-v1.schema.json")
    golden = json.loads((ROOT / "tests" / "golden" / "report.json").read_text(encoding="utf-8"))
    assert (golden["$schema"], golden["version"]) == (schema.REPORT_ID, "VERSION")  # the golden test's stand-in
    golden["version"] = __version__
    assert [e.message for e in VALIDATOR.iter_errors(golden)] == []


def test_a_run_with_errors_warnings_and_an_allowed_finding(
    cli: RunCli, write_store: WriteStore, tmp_path: Path
) -> None:
    store = bosh_store()
    old = write_store("old.yml", store)
    changed = {k: v for k, v in store.items() if k != "credhub_encryption_password"}
    changed["hm_password"] = password("new")
    new = write_store("creds.yml", changed)
    (tmp_path / "conf.yml").write_text(
        "rules:\n  removed-certificate: off\n  regenerated-ca: warning\nallow:\n"
        "  - {rule: regenerated-password, variable: hm_password, reason: documented as safe}\n"
        "  - {rule: removed-ca, variable: no_such_ca, reason: stale}\n",
        encoding="utf-8",
    )

    run = cli(old, new, "--config", tmp_path / "conf.yml", "--format", "json")

    assert run.code == 1
    document = valid(run)
    severities = {(f["rule"], f["severity"], f["allowed"]) for f in document["findings"]}
    assert ("removed-encryption-key", "error", False) in severities
    assert ("regenerated-password", "error", True) in severities
    assert ("unused-allowance", "warning", False) in severities
    assert document["configuration"]["off"] == ["removed-certificate"]


def test_a_clean_run(cli: RunCli, write_store: WriteStore) -> None:
    store = write_store("creds.yml", bosh_store())
    run = cli(store, store, "--format", "json")
    assert run.code == 0
    document = valid(run)
    assert (document["findings"], document["errors"], document["certificates"]) == ([], [], [])


def test_check_lists_the_certificates(cli: RunCli, write_store: WriteStore) -> None:
    store = write_store("creds.yml", bosh_store())
    run = cli("check", store, "--format", "json")
    document = valid(run)
    assert document["certificates"]
    assert {c["is_ca"] for c in document["certificates"]} == {True, False}


@pytest.mark.parametrize(
    "case",
    ["missing file", "invalid YAML", "bad configuration"],
)
def test_bad_input_is_a_report_too(cli: RunCli, write_store: WriteStore, tmp_path: Path, case: str) -> None:
    store = write_store("creds.yml", {"a_password": password("a")})
    args: list[str | Path] = [store, store]
    if case == "missing file":
        args = [store, tmp_path / "missing.yml"]
    elif case == "invalid YAML":
        broken = tmp_path / "broken.yml"
        broken.write_text(f"a_password: {password('a')}\n  b: [\n", encoding="utf-8")
        args = [store, broken]
    else:
        (tmp_path / "conf.yml").write_text("var-stores: ['!']\n", encoding="utf-8")
        args += ["--config", tmp_path / "conf.yml"]

    run = cli(*args, "--format", "json")

    assert run.code == 2
    document = valid(run)
    assert len(document["errors"]) == 1
