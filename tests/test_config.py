"""Configuration: where it is found, how strictly it is read, and what each setting changes in a run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import RunCli, WriteStore
from creds_lint import config
from creds_lint.errors import CredsLintError
from creds_lint.findings import Severity
from creds_lint.model import DEFAULT_CLASSIFIER, Kind, Role
from creds_lint.rules import BY_NAME
from factory import password


@pytest.fixture
def in_tmp(tmp_path: Path) -> Iterator[Path]:
    """Run with the working directory in a fresh temporary directory."""
    before = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(before)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- discovery ------------------------------------------------------------------------------------------------


def test_discovery_walks_up_from_the_checked_file(tmp_path: Path) -> None:
    top = write(tmp_path / ".creds-lint.yml", "fail-on: warning\n")
    deep = tmp_path / "envs" / "prod"
    deep.mkdir(parents=True)
    assert config.discover(deep) == top
    near = write(tmp_path / "envs" / ".creds-lint.yml", "fail-on: info\n")
    assert config.discover(deep) == near


def test_discovery_prefers_creds_lint_yml_then_yaml_then_pyproject_in_one_directory(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "pyproject.toml", '[tool.creds-lint]\nfail-on = "info"\n')
    assert config.discover(tmp_path) == pyproject
    yaml_ = write(tmp_path / ".creds-lint.yaml", "fail-on: warning\n")
    assert config.discover(tmp_path) == yaml_
    yml = write(tmp_path / ".creds-lint.yml", "fail-on: error\n")
    assert config.discover(tmp_path) == yml


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    top = write(tmp_path / ".creds-lint.yml", "expiry-days: 10\n")
    write(tmp_path / "sub" / "pyproject.toml", '[project]\nname = "x"\n')
    assert config.discover(tmp_path / "sub") == top


def test_a_nearer_pyproject_table_wins_over_a_farther_yml(tmp_path: Path) -> None:
    write(tmp_path / ".creds-lint.yml", "expiry-days: 10\n")
    near = write(tmp_path / "sub" / "pyproject.toml", "[tool.creds-lint]\nexpiry-days = 5\n")
    assert config.discover(tmp_path / "sub") == near
    assert config.load(start=tmp_path / "sub").expiry_days == 5


def test_explicit_config_wins_and_no_config_ignores_files(tmp_path: Path) -> None:
    write(tmp_path / ".creds-lint.yml", "expiry-days: 10\n")
    other = write(tmp_path / "elsewhere.yml", "expiry-days: 20\n")
    assert config.load(start=tmp_path).expiry_days == 10
    assert config.load(explicit=other, start=tmp_path).expiry_days == 20
    assert config.load(start=tmp_path, disabled=True) == config.DEFAULT_CONFIG


def test_discovery_starts_at_the_checked_file_else_the_working_directory(in_tmp: Path) -> None:
    (in_tmp / "a").mkdir()
    assert config.start_directory(["a/creds.yml"]) == in_tmp / "a"
    assert config.start_directory(["a"]) == in_tmp / "a"
    assert config.start_directory([]) == in_tmp


def test_the_config_is_found_from_the_checked_files_directory(
    cli: RunCli, write_store: WriteStore, tmp_path: Path, in_tmp: Path
) -> None:
    old = write_store("old.yml", {"admin_password": password("a")})
    new = write_store("new.yml", {"admin_password": password("b")})
    write(tmp_path / ".creds-lint.yml", "rules:\n  regenerated-password: warning\n")
    run = cli(old, new, "--format", "json")
    assert run.code == 0
    assert [(f["rule"], f["severity"]) for f in run.json["findings"]] == [("regenerated-password", "warning")]
    run = cli(old, new, "--format", "json", "--no-config")
    assert run.code == 1
    assert [(f["rule"], f["severity"]) for f in run.json["findings"]] == [("regenerated-password", "error")]


def test_a_missing_explicit_config_is_exit_2(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    store = write_store("s.yml", {"a": password("a")})
    run = cli(store, store, "--config", tmp_path / "nope.yml")
    assert run.code == 2
    assert run.err == f"creds-lint: error: {tmp_path / 'nope.yml'}: no such file\n"


# --- strict validation ----------------------------------------------------------------------------------------

BAD_YAML = [
    ("fial-on: error\n", "line 1: fial-on: unknown key (did you mean fail-on?)"),
    ("fail-on: fatal\n", "line 1: fail-on: unknown severity 'fatal' (choose from error, warning, info, off)"),
    ("fail-on: off\n", "line 1: fail-on: 'off' is not a threshold (choose from error, warning, info)"),
    ("expiry-days: soon\n", "line 1: expiry-days: expected an integer, got a string"),
    ("expiry-days: -1\n", "line 1: expiry-days: must be from 0 to 36500"),
    ("var-stores: creds.yml\n", "line 1: var-stores: expected a list, got a string"),
    (
        "rules:\n  removed-ca: warning\n  removd-ca: off\n",
        "line 3: rules.removd-ca: unknown rule (did you mean removed-ca?)",
    ),
    (
        "rules:\n  removed-ca: fatal\n",
        "line 2: rules.removed-ca: unknown severity 'fatal' (choose from error, warning, info, off)",
    ),
    ("rules:\n  removed-ca: [error]\n", "line 2: rules.removed-ca: expected a string, got a list"),
    ("rules: [removed-ca]\n", "line 1: rules: expected a mapping, got a list"),
    (
        "classify:\n  passwords:\n    names: [x]\n",
        "line 2: classify.passwords: unknown key (expected one of: agent-credentials, cas, disposable, "
        "encryption-keys, logins, signing-keys)",
    ),
    (
        "classify:\n  disposable:\n    name: [x]\n",
        "line 3: classify.disposable.name: unknown key (did you mean names?)",
    ),
    (
        "classify:\n  disposable:\n    names: hm_password\n",
        "line 3: classify.disposable.names: expected a list, got a string",
    ),
    (
        "classify:\n  encryption-keys:\n    patterns: ['(_key']\n",
        "line 3: classify.encryption-keys.patterns[0]: invalid regular expression: missing ), unterminated "
        "subpattern at position 0",
    ),
    (
        "classify:\n  disposable:\n    names: [hm_password, credhub_encryption_password]\n",
        "line 3: classify.disposable.names[1]: 'credhub_encryption_password' is an encryption key by its name: an "
        "encryption key is never disposable",
    ),
    (
        "classify:\n  disposable:\n    names: [vault_dek]\n  encryption-keys:\n    patterns: ['_dek$']\n",
        "line 3: classify.disposable.names[0]: 'vault_dek' is an encryption key by its name: an encryption key is "
        "never disposable",
    ),
    (
        "classify:\n  disposable:\n    names: [x]\n  logins:\n    names: [x]\n",
        "line 5: classify.logins.names[0]: 'x' is already listed under classify.disposable.names[0]",
    ),
    ("allow:\n  rule: removed-ca\n", "line 1: allow: expected a list, got a mapping"),
    ("allow:\n  - rule: removed-ca\n    variable: nats_ca\n", "line 2: allow[0]: missing required key 'reason'"),
    (
        "allow:\n  - rule: removed-ca\n    variable: nats_ca\n    reason: ''\n",
        "line 4: allow[0].reason: must say why the change is deliberate",
    ),
    (
        "allow:\n  - rule: removed-cert\n    variable: x\n    reason: r\n",
        "line 2: allow[0].rule: unknown rule 'removed-cert' (did you mean removed-ca?)",
    ),
    (
        "allow:\n  - rule: removed-ca\n    variable: x\n    reason: r\n    expires: next week\n",
        "line 5: allow[0].expires: expected a date as YYYY-MM-DD, not 9 characters",
    ),
    (
        "allow:\n  - rule: removed-ca\n    variable: x\n    reason: r\n    fingerprint: 1a2b3c4d\n",
        "line 5: allow[0].fingerprint: expected a fingerprint as shown in findings (sha256: and 8 hex digits), "
        "not 8 characters",
    ),
    (
        "allow:\n  - rule: removed-ca\n    variable: x\n    reason: r\n    because: y\n",
        "line 5: allow[0].because: unknown key (expected one of: expires, file, fingerprint, reason, rule, variable)",
    ),
    (
        "allow:\n  - rule: removed-file\n    file: ''\n    reason: r\n",
        "line 3: allow[0].file: an empty glob matches nothing",
    ),
    ("fail-on: error\nfail-on: info\n", "line 2: fail-on: duplicate key (first on line 1)"),
    ("- fail-on\n", "line 1: expected a mapping, got a list"),
    (
        "fail-on: !!python/object:os.system x\n",
        "line 1: fail-on: YAML tag !!python/object is not allowed in a configuration file (nothing was constructed)",
    ),
    ("fail-on: [\n", "line 2, column 1: invalid YAML: did not find expected node content"),
]


BAD_TOML = [
    ('[tool.creds-lint]\nfial-on = "x"\n', "[tool.creds-lint] fial-on: unknown key (did you mean fail-on?)"),
    (
        "[tool.creds-lint.rules]\nregenerated-ca = 1\n",
        "[tool.creds-lint] rules.regenerated-ca: expected a string, got an integer",
    ),
    (
        '[[tool.creds-lint.allow]]\nrule = "regenerated-ca"\nvariable = "nats_ca"\n',
        "[tool.creds-lint] allow[0]: missing required key 'reason'",
    ),
    ("[tool.creds-lint\n", "invalid TOML: Expected ']' at the end of a table declaration (at line 1, column 17)"),
]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [(".creds-lint.yml", *case) for case in BAD_YAML] + [("pyproject.toml", *case) for case in BAD_TOML],
)
def test_a_bad_config_names_the_exact_place(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = write(tmp_path / name, text)
    with pytest.raises(CredsLintError) as caught:
        config.load_file(path)
    assert str(caught.value) == f"{path}: {message}"


def test_explicit_pyproject_without_the_table_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    with pytest.raises(CredsLintError) as caught:
        config.load_file(path)
    assert str(caught.value) == f"{path}: no [tool.creds-lint] table"


def test_a_bad_config_is_one_line_on_stderr_and_exit_2(
    cli: RunCli, write_store: WriteStore, tmp_path: Path, in_tmp: Path
) -> None:
    store = write_store("s.yml", {"a": password("a")})
    write(tmp_path / ".creds-lint.yml", "rules:\n  no-such-rule: off\n")
    run = cli(store, store)
    assert run.code == 2
    assert run.out == ""
    assert run.err == (
        "creds-lint: error: .creds-lint.yml: line 2: rules.no-such-rule: unknown rule "
        "(expected one of: " + ", ".join(sorted(BY_NAME)) + ")\n"
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--severity", "removed-ca"], "--severity removed-ca: expected RULE=LEVEL"),
        (
            ["--severity", "removed-ca=fatal"],
            "--severity removed-ca=fatal: unknown severity 'fatal' (choose from error, warning, info, off)",
        ),
        (["--allow", "nats_ca"], "--allow nats_ca: expected RULE:VARIABLE"),
        (
            ["--allow", "regenerated-cx:nats_ca"],
            "--allow regenerated-cx:nats_ca: unknown rule 'regenerated-cx' (did you mean regenerated-ca?)",
        ),
    ],
)
def test_bad_flags_are_exit_2(cli: RunCli, write_store: WriteStore, flags: list[str], message: str) -> None:
    store = write_store("s.yml", {"a": password("a")})
    run = cli(store, store, "--no-config", *flags)
    assert run.code == 2
    assert run.err == f"creds-lint: error: {message}\n"


# --- what the settings do -------------------------------------------------------------------------------------

FULL = """\
fail-on: warning
expiry-days: 45
var-stores: [creds.yml, 'state/*-creds.yml']
rules:
  removed-certificate: error
  CL107: off
classify:
  encryption-keys:
    names: [vault_unseal]
    patterns: ['_dek$']
  cas:
    patterns: ['_root$']
  agent-credentials:
    names: [agent_token]
  signing-keys:
    names: [token_secret]
  logins:
    patterns: ['^ops_']
  disposable:
    names: [hm_password]
allow:
  - rule: regenerated-ca
    variable: nats_ca
    reason: planned rotation, ticket OPS-12
    expires: 2031-01-31
    fingerprint: sha256:0a1b2c3d
"""


def test_every_setting_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / ".creds-lint.yml", FULL)
    settings = config.load_file(path)
    assert settings.fail_on is Severity.WARNING
    assert settings.expiry_days == 45
    assert settings.var_stores is not None
    assert settings.var_stores.patterns == ("creds.yml", "state/*-creds.yml")
    assert dict(settings.severities) == {"removed-certificate": Severity.ERROR, "added-variable": None}
    assert dict(settings.patterns) == {Role.ENCRYPTION_KEY: ("_dek$",), Role.CA: ("_root$",), Role.LOGIN: ("^ops_",)}
    assert dict(settings.names) == {
        "vault_unseal": Role.ENCRYPTION_KEY,
        "agent_token": Role.AGENT_CREDENTIAL,
        "token_secret": Role.SIGNING_KEY,
        "hm_password": Role.DISPOSABLE,
    }
    [allowance] = settings.allow
    assert (allowance.rule, allowance.variable, allowance.reason) == (
        "regenerated-ca",
        "nats_ca",
        "planned rotation, ticket OPS-12",
    )
    assert allowance.expires is not None
    assert allowance.expires.isoformat() == "2031-01-31"
    assert (allowance.fingerprint, allowance.source, allowance.line) == ("sha256:0a1b2c3d", str(path), 22)
    classifier = settings.classifier
    assert classifier.role("vault_unseal", Kind.PASSWORD, is_ca=False) is Role.ENCRYPTION_KEY
    assert classifier.role("app_dek", Kind.PASSWORD, is_ca=False) is Role.ENCRYPTION_KEY
    assert classifier.role("agent_token", Kind.PASSWORD, is_ca=False) is Role.AGENT_CREDENTIAL
    assert classifier.role("token_secret", Kind.PASSWORD, is_ca=False) is Role.SIGNING_KEY
    assert classifier.role("ops_password", Kind.PASSWORD, is_ca=False) is Role.LOGIN
    assert classifier.role("hm_password", Kind.PASSWORD, is_ca=False) is Role.DISPOSABLE
    assert classifier.matches("ca", "corp_root")
    # the built-in patterns still apply
    assert classifier.role("credhub_encryption_password", Kind.PASSWORD, is_ca=False) is Role.ENCRYPTION_KEY


def test_an_allowance_for_files_needs_no_variable(tmp_path: Path) -> None:
    path = write(
        tmp_path / ".creds-lint.yml",
        "allow:\n  - rule: removed-file\n    file: envs/old/*.yml\n    reason: decommissioned\n"
        "  - rule: regenerated-ca\n    variable: nats_ca\n    file: prod-creds.yml\n    reason: rotation\n",
    )
    first, second = config.load_file(path).allow
    assert (first.rule, first.variable, first.file, first.label) == (
        "removed-file",
        None,
        "envs/old/*.yml",
        "removed-file in envs/old/*.yml",
    )
    assert (second.variable, second.file, second.label) == (
        "nats_ca",
        "prod-creds.yml",
        "regenerated-ca:nats_ca in prod-creds.yml",
    )


def test_the_same_settings_in_pyproject(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        """\
[tool.creds-lint]
fail-on = "info"
expiry-days = 7

[tool.creds-lint.rules]
removed-certificate = "off"

[tool.creds-lint.classify.disposable]
names = ["hm_password"]

[[tool.creds-lint.allow]]
rule = "regenerated-password"
variable = "admin_password"
reason = "yearly rotation"
expires = 2031-01-31
""",
    )
    settings = config.load_file(path)
    assert (settings.fail_on, settings.expiry_days) == (Severity.INFO, 7)
    assert dict(settings.severities) == {"removed-certificate": None}
    assert dict(settings.names) == {"hm_password": Role.DISPOSABLE}
    [allowance] = settings.allow
    assert (allowance.rule, allowance.variable, allowance.line, allowance.source) == (
        "regenerated-password",
        "admin_password",
        None,
        str(path),
    )
    assert allowance.expires is not None
    assert allowance.expires.isoformat() == "2031-01-31"


def test_an_empty_config_file_changes_nothing(tmp_path: Path) -> None:
    path = write(tmp_path / ".creds-lint.yml", "# nothing yet\n")
    settings = config.load_file(path)
    assert settings == config.Config(source=str(path))
    assert settings.classifier is DEFAULT_CLASSIFIER


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / ".creds-lint.yml", FULL)
    flags = config.from_flags(
        fail_on=Severity.ERROR,
        expiry_days=3,
        severities=["removed-certificate=info", "regenerated-ca=warning"],
        allow=["removed-password:hm_password"],
    )
    merged = config.load_file(path).overridden_by(flags)
    assert merged.fail_on is Severity.ERROR
    assert merged.expiry_days == 3
    assert dict(merged.severities) == {
        "removed-certificate": Severity.INFO,
        "added-variable": None,
        "regenerated-ca": Severity.WARNING,
    }
    assert [(a.rule, a.variable, a.reason, a.source) for a in merged.allow] == [
        ("regenerated-ca", "nats_ca", "planned rotation, ticket OPS-12", str(path)),
        ("removed-password", "hm_password", "allowed on the command line", "command line"),
    ]
    unset = config.load_file(path).overridden_by(config.from_flags())
    assert (unset.fail_on, unset.expiry_days) == (Severity.WARNING, 45)


def test_severity_overrides_change_findings_and_the_exit_code(
    cli: RunCli, write_store: WriteStore, tmp_path: Path
) -> None:
    old = write_store("old.yml", {"admin_password": password("a"), "hm_password": password("h")})
    new = write_store("new.yml", {"admin_password": password("b"), "extra": password("x")})
    conf = write(tmp_path / "conf.yml", "rules:\n  removed-password: warning\n  added-variable: off\n")
    run = cli(old, new, "--config", conf, "--format", "json")
    assert (run.code, [(f["rule"], f["variable"], f["severity"]) for f in run.json["findings"]]) == (
        1,
        [("regenerated-password", "admin_password", "error"), ("removed-password", "hm_password", "warning")],
    )
    run = cli(old, new, "--config", conf, "--format", "json", "--severity", "regenerated-password=info")
    assert (run.code, [(f["rule"], f["variable"], f["severity"]) for f in run.json["findings"]]) == (
        0,
        [("regenerated-password", "admin_password", "info"), ("removed-password", "hm_password", "warning")],
    )
    fail_on = write(tmp_path / "strict.yml", "fail-on: warning\nrules:\n  regenerated-password: info\n")
    run = cli(old, new, "--config", fail_on)
    assert run.code == 1  # removed-password (error) reaches fail-on warning
    run = cli(old, new, "--config", fail_on, "--severity", "removed-password=info", "--severity", "added-variable=off")
    assert run.code == 0
    run = cli(old, new, "--config", fail_on, "--severity", "removed-password=info", "--fail-on", "info")
    assert run.code == 1


def test_classification_overrides_change_what_a_change_means(
    cli: RunCli, write_store: WriteStore, tmp_path: Path
) -> None:
    old = write_store("old.yml", {"vault_unseal": password("v"), "hm_password": password("h"), "app_dek": "k1"})
    new = write_store("new.yml", {"vault_unseal": password("w"), "app_dek": "k2"})
    run = cli(old, new, "--no-config", "--format", "json")
    assert run.rules == [
        ("regenerated-password", "app_dek"),
        ("removed-password", "hm_password"),
        ("regenerated-password", "vault_unseal"),
    ]
    conf = write(
        tmp_path / "conf.yml",
        "classify:\n  encryption-keys:\n    names: [vault_unseal]\n    patterns: ['_dek$']\n"
        "  disposable:\n    names: [hm_password]\n",
    )
    run = cli(old, new, "--config", conf, "--format", "json")
    assert run.code == 1
    assert [(f["rule"], f["variable"], f["severity"]) for f in run.json["findings"]] == [
        ("regenerated-encryption-key", "app_dek", "error"),
        ("disposable-changed", "hm_password", "info"),
        ("regenerated-encryption-key", "vault_unseal", "error"),
    ]
    hm = run.json["findings"][1]
    assert hm["message"] == (
        "hm_password (disposable) was removed: BOSH generates a new value on the next deploy, which is safe."
    )
    assert hm["old_line"] == 2


def test_disposable_never_covers_a_ca(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    from factory import make_ca

    old = write_store("old.yml", {"nats_ca": make_ca("nats", key_slot=0).as_value()})
    new = write_store("new.yml", {})
    conf = write(tmp_path / "conf.yml", "classify:\n  disposable:\n    names: [nats_ca]\n")
    run = cli(old, new, "--config", conf, "--format", "json")
    assert (run.code, run.rules) == (1, [("removed-ca", "nats_ca"), ("ineffective-configuration", "nats_ca")])


def test_a_disposable_pattern_never_covers_an_encryption_key_or_a_key_pair(
    cli: RunCli, write_store: WriteStore, tmp_path: Path
) -> None:
    """``_password$`` also matches credhub_encryption_password: the key stays protected, the setting is reported."""
    from factory import make_ssh

    before = {
        "credhub_encryption_password": password("aaa"),
        "hm_password": password("h"),
        "jumpbox_ssh_password": make_ssh(3),
    }
    after = {
        "credhub_encryption_password": password("zzz"),
        "hm_password": password("i"),
        "jumpbox_ssh_password": make_ssh(4),
    }
    old, new = write_store("old.yml", before), write_store("new.yml", after)
    conf = write(tmp_path / "conf.yml", "classify:\n  disposable:\n    patterns: ['_password$']\n")
    run = cli(old, new, "--config", conf, "--format", "json")
    assert run.code == 1
    assert sorted((f["rule"], f["variable"], f["severity"]) for f in run.json["findings"]) == [
        ("disposable-changed", "hm_password", "info"),
        ("ineffective-configuration", "credhub_encryption_password", "warning"),
        ("ineffective-configuration", "jumpbox_ssh_password", "warning"),
        ("regenerated-encryption-key", "credhub_encryption_password", "error"),
        ("regenerated-keypair", "jumpbox_ssh_password", "error"),
    ]
    [ineffective] = [
        f
        for f in run.json["findings"]
        if f["rule"] == "ineffective-configuration" and f["variable"] == "credhub_encryption_password"
    ]
    assert ineffective["message"] == (
        "credhub_encryption_password (encryption key) matches classify.disposable in the configuration, but an "
        "encryption key is never disposable: the setting is ignored for it and its change is reported as usual."
    )
    assert ineffective["line"] == 1


def test_expiry_days_from_the_file_and_the_flag(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    from factory import make_ca, make_leaf

    ca = make_ca("ca", key_slot=0, days=3650)
    store = write_store(
        "creds.yml", {"ca": ca.as_value(), "leaf": make_leaf("leaf", ca, key_slot=1, days=40).as_value()}
    )
    conf = write(tmp_path / "conf.yml", "expiry-days: 60\n")

    def expiring(*flags: str | Path) -> list[tuple[str, str | None]]:
        run = cli("check", store, "--format", "json", *flags)
        assert run.code == 0
        return [(rule, variable) for rule, variable in run.rules if rule == "expiring-certificate"]

    assert expiring("--no-config") == []  # 40 days left, default 30
    assert expiring("--config", conf) == [("expiring-certificate", "leaf")]
    assert expiring("--config", conf, "--expiry-days", "10") == []


def test_a_bad_config_still_gives_a_json_document(
    cli: RunCli, write_store: WriteStore, tmp_path: Path, in_tmp: Path
) -> None:
    store = write_store("s.yml", {"a": password("a")})
    write(tmp_path / ".creds-lint.yml", "expiry-days: soon\n")
    run = cli(store, store, "--format", "json")
    assert run.code == 2
    assert run.json["findings"] == []
    assert run.json["errors"] == [
        {"file": ".creds-lint.yml", "message": "line 1: expiry-days: expected an integer, got a string"}
    ]
    assert run.err == "creds-lint: error: .creds-lint.yml: line 1: expiry-days: expected an integer, got a string\n"


def test_a_key_left_empty_is_not_set(tmp_path: Path) -> None:
    path = write(tmp_path / ".creds-lint.yml", "fail-on:\nrules:\nallow:\nclassify:\n  disposable:\n    names:\n")
    assert config.load_file(path) == config.Config(source=str(path))


def test_every_example_in_the_configuration_docs_is_valid(tmp_path: Path) -> None:
    import re

    text = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    examples = re.findall(r"^```(yaml|toml)\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert len(examples) >= 8
    for i, (language, body) in enumerate(examples):
        path = write(tmp_path / str(i) / (".creds-lint.yml" if language == "yaml" else "pyproject.toml"), body)
        settings = config.load_file(path)
        assert settings != config.Config(source=str(path)), body


def test_every_report_says_which_configuration_and_what_it_turned_off(
    cli: RunCli, write_store: WriteStore, tmp_path: Path
) -> None:
    old = write_store("old.yml", {"credhub_encryption_password": password("a"), "admin_password": password("b")})
    new = write_store("new.yml", {"credhub_encryption_password": password("c")})
    conf = write(tmp_path / "conf.yml", "rules:\n  regenerated-encryption-key: off\n  removed-password: warning\n")
    run = cli(old, new, "--config", conf, "--format", "text")
    assert run.code == 0  # the configuration took the errors away: the report must say so
    assert run.out.splitlines()[-2:] == [
        f"configuration: {conf} (rules off: regenerated-encryption-key; lowered: removed-password -> warning)",
        "0 errors, 1 warning, 0 info in 1 file",
    ]
    quiet = cli(old, new, "--config", conf, "--format", "text", "--quiet", "--severity", "removed-password=error")
    assert quiet.code == 1
    assert quiet.out.splitlines()[-2] == f"configuration: {conf} (rules off: regenerated-encryption-key)"
    doc = cli(old, new, "--config", conf, "--format", "json").json
    assert doc["configuration"] == {
        "file": str(conf),
        "off": ["regenerated-encryption-key"],
        "lowered": {"removed-password": "warning"},
    }
    # raising a rule takes nothing away; flags count with the file
    flags = cli(old, new, "--no-config", "--severity", "added-variable=error", "--severity", "CL104=info")
    assert flags.out.splitlines()[-2] == "configuration: none (lowered: removed-password -> info)"
    plain = cli(old, new, "--no-config", "--format", "json")
    assert plain.json["configuration"] == {"file": None, "off": [], "lowered": {}}
    text = cli(old, new, "--no-config")
    assert text.out.splitlines()[-2] == "configuration: none (built-in defaults)"
