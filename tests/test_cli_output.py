from __future__ import annotations

import io
import json
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import RunCli, WriteStore
from creds_lint.invocation import Color
from creds_lint.plan import use_color
from factory import bosh_store, make_ca, make_leaf


@pytest.fixture
def incident_pair(write_store: WriteStore) -> tuple[Path, Path]:
    """Step 1 of the incident: certificates and, by mistake, the encryption password deleted by hand."""
    store = bosh_store()
    edited = {k: v for k, v in store.items() if k not in ("credhub_encryption_password", "director_ssl")}
    return write_store("old.yml", store), write_store("new.yml", edited)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("choice", "tty", "environ", "expected"),
    [
        ("auto", True, {}, True),
        ("auto", False, {}, False),
        ("auto", True, {"NO_COLOR": "1"}, False),
        ("auto", True, {"NO_COLOR": ""}, True),
        ("always", False, {"NO_COLOR": "1"}, True),
        ("never", True, {}, False),
    ],
)
def test_use_color(choice: str, tty: bool, environ: dict[str, str], expected: bool) -> None:
    stream = _Tty() if tty else io.StringIO()
    assert use_color(Color(choice), stream, environ) is expected


def test_format_auto_is_github_in_actions(
    cli: RunCli, incident_pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = incident_pair
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    run = cli(old, new)
    assert run.code == 1
    lines = run.out.splitlines()
    assert lines[0] == (
        f"::error file={new},title=CL101 removed-encryption-key::credhub_encryption_password (encryption key) was "
        "removed: BOSH will generate a new one on the next deploy and CredHub can no longer decrypt its data: it fails "
        "to start, and every deployment that reads credentials from it fails to render its jobs. Restore the old "
        "value from version control before the next deploy. (line 229 of the old version)"
    )
    assert lines[1].startswith(f"::warning file={new},title=CL105 removed-certificate::director_ssl (certificate)")
    assert lines[2:] == ["configuration: none (built-in defaults)", "1 error, 1 warning, 0 info in 1 file"]
    monkeypatch.setenv("GITHUB_ACTIONS", "false")
    run = cli(old, new)
    assert "::error" not in run.out
    assert "error CL101 removed-encryption-key: credhub_encryption_password:" in run.out


def test_color_always_and_never(cli: RunCli, incident_pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    old, new = incident_pair
    assert "\x1b[31merror\x1b[0m" in cli(old, new, "--color", "always").out
    assert "\x1b[" not in cli(old, new, "--color", "never").out
    assert "\x1b[" not in cli(old, new).out  # captured output is not a terminal


def test_quiet_and_sarif_from_cli(
    cli: RunCli, incident_pair: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    old, new = incident_pair
    quiet = cli(old, new, "--quiet")
    assert quiet.code == 1
    assert "warning" not in quiet.out.splitlines()[1]
    assert all(" error " in line for line in quiet.out.splitlines() if line.startswith("  "))
    sarif = cli(old, new, "--format", "sarif")
    assert sarif.code == 1
    doc = json.loads(sarif.out)
    assert ("CL101", "error") in [(r["ruleId"], r["level"]) for r in doc["runs"][0]["results"]]


@pytest.mark.parametrize("key", ["CL201", "cl201", "regenerated-encryption-key"])
def test_explain(cli: RunCli, key: str) -> None:
    run = cli("--explain", key)
    assert run.code == 0
    assert run.out.startswith("CL201 regenerated-encryption-key (default severity: error)\n")
    assert "Why:" in run.out
    assert "How to fix:\n  Restore the old value from version control" in run.out


def test_explain_unknown_rule(cli: RunCli) -> None:
    run = cli("--explain", "no-such-rule")
    assert run.code == 2
    assert run.out == ""
    assert run.err.startswith("creds-lint: error: unknown rule 'no-such-rule' (rules: removed-encryption-key, ")


def test_missing_arguments_is_a_usage_error(cli: RunCli) -> None:
    run = cli()  # one path is a pre-flight against git (tests/test_git.py); none is nothing to do
    assert run.code == 2
    assert "give OLD NEW, a FILE to pre-flight, or a mode" in run.err


def test_help_names_the_diff_command(capsys: pytest.CaptureFixture[str]) -> None:
    from creds_lint.cli import main

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "creds-lint diff OLD NEW | --textconv FILE" in out
    assert "  diff OLD NEW     show what changed without a secret" in out


def test_no_paste_ready_allowance_for_a_destructive_change_by_default(
    cli: RunCli, incident_pair: tuple[Path, Path]
) -> None:
    """Right after the errors of an incident, the text output says how to restore, not what to paste to unblock."""
    old, new = incident_pair
    run = cli(old, new, "--no-config", "--format", "text")
    assert run.code == 1
    lines = run.out.splitlines()
    tail = lines[
        lines.index(
            "Restore the old values before the next deploy, or BOSH generates new ones (or keeps broken ones):"
        ) :
    ]
    assert tail == [
        "Restore the old values before the next deploy, or BOSH generates new ones (or keeps broken ones):",
        f"  restore the old values from {old} (or from version control)",
        f"  creds-lint restore {new} --from {old}   (puts back only these entries, with a backup: "
        "https://github.com/creds-lint/creds-lint/blob/main/docs/usage.md#restore)",
        "Only if a change is deliberate: read creds-lint --explain RULE (removed-encryption-key) and",
        "https://github.com/creds-lint/creds-lint/blob/main/docs/configuration.md#allow; --suggest-allow",
        "prints allow: entries that cover exactly these changes.",
        "If a change above is deliberate, allow exactly it in .creds-lint.yml with the reason "
        "(https://github.com/creds-lint/creds-lint/blob/main/docs/configuration.md):",
        "  allow:",
        '    - {rule: removed-certificate, variable: "director_ssl", fingerprint: "'
        + _fingerprint(run.out, "director_ssl")
        + '", reason: "..."}',
        "configuration: none (built-in defaults)",
        "1 error, 1 warning, 0 info in 1 file",
    ]
    assert "credhub_encryption_password" not in "\n".join(tail)


def _fingerprint(out: str, variable: str) -> str:
    [line] = [line for line in out.splitlines() if f'variable: "{variable}"' in line]
    return line.split('fingerprint: "')[1].split('"')[0]


def test_suggest_allow_prints_the_entries_for_destructive_changes(
    cli: RunCli, incident_pair: tuple[Path, Path]
) -> None:
    old, new = incident_pair
    findings = {
        f["variable"]: f["fingerprint"] for f in cli(old, new, "--no-config", "--format", "json").json["findings"]
    }
    run = cli(old, new, "--no-config", "--format", "text", "--suggest-allow")
    assert run.code == 1
    lines = run.out.splitlines()
    assert lines[lines.index("  allow:") + 1 :] == [
        '    - {rule: removed-encryption-key, variable: "credhub_encryption_password", '
        f'fingerprint: "{findings["credhub_encryption_password"]}", reason: "..."}}',
        f'    - {{rule: removed-certificate, variable: "director_ssl", fingerprint: "{findings["director_ssl"]}", '
        'reason: "..."}',
        "configuration: none (built-in defaults)",
        "1 error, 1 warning, 0 info in 1 file",
    ]
    assert "configuration.md#allow; the allow: entries\nbelow cover exactly these changes." in run.out


RENEW = (
    "Renew the certificates that expire soon with their own keys, then deploy "
    "(https://github.com/creds-lint/creds-lint/blob/main/docs/renew.md):"
)


def test_a_certificate_that_expires_soon_is_renewed_not_allowed(cli: RunCli, write_store: WriteStore) -> None:
    """An expiring certificate is no change to allow: the text output prints the renew command (which works) and
    an allowance only when asked for one."""
    now = datetime.now(UTC)
    ca = make_ca("soon-ca", key_slot=50, not_before=now - timedelta(days=355), days=3650)
    store = {
        "soon_ca": ca.as_value(),
        # bosh's 365 days, 10 of them left
        "soon_tls": make_leaf("soon.internal", ca, key_slot=52, not_before=now - timedelta(days=355)).as_value(),
        "later_tls": make_leaf("later.internal", ca, key_slot=51).as_value(),
    }
    path = write_store("creds.yml", store)
    run = cli("check", path, "--no-config")
    assert run.code == 0
    assert "allow:" not in run.out
    assert "If a change above is deliberate" not in run.out
    lines = run.out.splitlines()
    command = lines[lines.index(RENEW) + 1]
    assert command == f"  creds-lint renew {shlex.quote(str(path))} soon_tls   (--dry-run shows the renewal first)"
    asked = cli("check", path, "--no-config", "--suggest-allow").out
    assert '- {rule: expiring-certificate, variable: "soon_tls", fingerprint: "sha256:' in asked

    renewed = cli(*shlex.split(command.split("   (")[0])[1:])
    assert renewed.code == 0, renewed.out
    after = cli("check", path, "--no-config", "--format", "json")
    assert [f["rule"] for f in after.json["findings"]] == []
    assert RENEW not in cli("check", path, "--no-config").out
