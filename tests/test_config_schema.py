"""The JSON Schema of the configuration (src/creds_lint/schemas/config.schema.json) is generated from the validator
and agrees with it: what the validator reads, the schema accepts; what the validator refuses, the schema refuses
too, but for what only creds-lint can check (listed here)."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from creds_lint import config, schema
from creds_lint.errors import CredsLintError
from test_config import BAD_TOML, BAD_YAML, FULL

ROOT = Path(__file__).resolve().parents[1]
VALIDATOR = jsonschema.Draft202012Validator(
    schema.load("config.schema.json"), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def as_json(value: Any) -> Any:  # noqa: ANN401 - YAML and TOML data
    """What an editor's YAML or TOML plugin hands a JSON Schema: a date is its text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def schema_errors(data: Any) -> list[str]:  # noqa: ANN401 - YAML and TOML data
    return [error.message for error in VALIDATOR.iter_errors(as_json(data))]


def creds_lint_reads(tmp_path: Path, name: str, text: str) -> bool:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    try:
        config.load_file(path)
    except CredsLintError:
        return False
    return True


def test_the_shipped_schema_is_generated_from_the_validator() -> None:
    assert schema.text("config.schema.json") == schema.rendered(schema.config_schema()), (
        "the configuration schema is out of date: run "
        "`python -m creds_lint.schema > src/creds_lint/schemas/config.schema.json`"
    )
    jsonschema.Draft202012Validator.check_schema(schema.load("config.schema.json"))
    assert schema.load("config.schema.json")["$id"] == schema.CONFIG_ID


def _documented(kind: str) -> list[str]:
    """The configuration examples of docs/configuration.md (``yaml`` or ``toml`` blocks)."""
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    return re.findall(rf"```{kind}\n(.*?)```", text, flags=re.DOTALL)


VALID_YAML = [
    FULL,
    *_documented("yaml"),
    "",
    "# nothing yet\n",
    "allow:\nvar-stores:\nclassify:\n  cas:\n",
    "fail-on: WARNING\nrules:\n  cl105: Off\n  removed-ca: off\n  CL201: info\n",
    "expiry-days: 0\nvar-stores: []\nmanifests: [manifest.yml]\n",
    'var-stores: ["envs/**/creds.yml", "!envs/old/*", "\\\\#x.yml", "a\\\\\\\\"]\n',
    "allow:\n  - rule: removed-file\n    file: envs/old/creds.yml\n    reason: gone\n    expires: 2030-01-31\n",
    "allow:\n  - {rule: CL102, variable: ' x', reason: r, expires: '2030-01-31', fingerprint: sha256:0a1b2c3d}\n",
    "classify:\n  logins:\n    names: [ops_password]\n    patterns: ['^ops_(?:a|b)$']\n",
]


@pytest.mark.parametrize("text", VALID_YAML)
def test_what_creds_lint_reads_the_schema_accepts(tmp_path: Path, text: str) -> None:
    assert creds_lint_reads(tmp_path, ".creds-lint.yml", text)
    assert schema_errors(yaml.safe_load(text)) == []


@pytest.mark.parametrize("text", _documented("toml"))
def test_the_pyproject_table_is_the_same_schema(tmp_path: Path, text: str) -> None:
    assert creds_lint_reads(tmp_path, "pyproject.toml", text)
    assert schema_errors(tomllib.loads(text)["tool"]["creds-lint"]) == []


#: Refused by the validator, and the schema cannot tell: what is not in the data an editor sees (a YAML tag, a
#: duplicated key, a syntax error), or needs creds-lint's own rules (the built-in encryption-key names, a name
#: listed twice, pathspec's reading of a glob).
VALIDATOR_ONLY = (
    "YAML tag",
    "duplicate key",
    "invalid YAML",
    "invalid TOML",
    "is an encryption key by its name",
    "is already listed under",
)

BAD_GLOBS_YAML = [
    ("var-stores: ['#creds.yml']\n", "a glob that starts with # is a comment"),
    ("var-stores: ['!']\n", "not a valid glob"),
    ("var-stores: ['creds\\']\n", "not a valid glob"),
    ("var-stores: [' ', creds.yml]\n", "an empty glob"),
    ("var-stores: ['//']\n", "a glob of slashes alone"),
    ("allow:\n  - {rule: removed-file, file: '#x', reason: r}\n", "a glob that starts with # is a comment"),
    ("allow:\n  - {rule: removed-ca, variable: x, reason: r, expires: '20301231'}\n", "expected a date"),
    ("allow:\n  - {rule: removed-ca, variable: x, reason: r, expires: '2030-02-30'}\n", "expected a date"),
    ("allow:\n  - {rule: removed-ca, variable: x, reason: r, expires: '2030-W05-1'}\n", "expected a date"),
    ("allow:\n  - {rule: removed-ca, reason: r}\n", "missing required key 'variable'"),
    ("allow:\n  - {rule: removed-ca, variable: null, reason: r}\n", "expected a string"),
    ("allow:\n  - {rule: cl1, variable: x, reason: r}\n", "unknown rule"),
    ("allow:\n  - {rule: Removed-CA, variable: x, reason: r}\n", "unknown rule"),
    ("allow:\n  - {rule: removed-ca, variable: x, reason: '  '}\n", "must say why"),
    ("allow:\n  - {rule: removed-ca, variable: x, reason: r, fingerprint: 'sha256:0A1B2C3D'}\n", "fingerprint"),
    ("expiry-days: 36501\n", "must be from 0 to 36500"),
    ("expiry-days: true\n", "expected an integer"),
    ("rules:\n  removed-ca: true\n", "expected a string"),
    ("manifests: manifest.yml\n", "expected a list"),
    ("classify:\n  cas:\n    names: [1]\n", "expected a string"),
]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [(".creds-lint.yml", *case) for case in BAD_YAML + BAD_GLOBS_YAML]
    + [("pyproject.toml", *case) for case in BAD_TOML],
)
def test_what_creds_lint_refuses_the_schema_refuses(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CredsLintError) as caught:
        config.load_file(path)
    assert message in str(caught.value)
    if any(reason in message for reason in VALIDATOR_ONLY):
        return
    data = yaml.safe_load(text) if name != "pyproject.toml" else tomllib.loads(text)["tool"]["creds-lint"]
    assert schema_errors(data) != [], f"the schema accepts what creds-lint refuses: {message}"


def test_only_what_needs_creds_lint_is_left_to_it() -> None:
    """Each reason the schema leaves to creds-lint is one the bad examples above have."""
    messages = [message for _, message in BAD_YAML + BAD_TOML]
    assert all(any(reason in m for m in messages) for reason in VALIDATOR_ONLY)
