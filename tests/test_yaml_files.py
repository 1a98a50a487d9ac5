"""One reader for every YAML file: var-stores, configurations and manifests share its bounds, its refusal of tags
and its one-line errors that quote nothing; configurations and manifests read scalars as PyYAML does."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from conftest import RunCli, WriteStore
from creds_lint import config, manifest, yamlread
from creds_lint.errors import CredsLintError
from creds_lint.loader import parse_store
from creds_lint.tree import parse_yaml
from factory import password

SECRET = "hunter2-very-secret-value"


def tree(text: str) -> object:
    return parse_yaml(text.encode(), source="f.yml", what="a configuration file").plain()


def safe_load(text: str) -> Any:  # noqa: ANN401 - whatever PyYAML reads
    return yaml.load(text, Loader=yaml.CSafeLoader)  # the safe loader


# --- PyYAML's own scalar resolution -----------------------------------------------------------------------------

SCALARS = [
    "030",  # YAML 1.1 octal: 24 (yaml.v2 reads it so too; a var-store compares it as bosh reads it)
    "1:30",  # YAML 1.1 sexagesimal: 90 (yaml.v2 reads a string)
    "-1:30",
    "1:30.5",
    "0x1F",
    "0b1_01",
    "1_000",
    "+12",
    "0o17",  # YAML 1.2 octal: a string for YAML 1.1
    "1e5",  # no dot: a string for PyYAML
    "6.8523015e+5",
    ".inf",
    "-.Inf",
    "1.0",
    "yes",
    "Off",
    "y",  # a string for PyYAML (a boolean for yaml.v2)
    "~",
    "null",
    "",
    "2002-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10",
    "'030'",
    '"1:30"',
    "!!str 030",
    "!!int '030'",
    "!!float 1",
    "!!bool yes",
    "!!null anything",
    "!!timestamp 2002-12-14",
    "! 12",
    "|\n  030\n",
]


@pytest.mark.parametrize("text", SCALARS)
def test_a_scalar_reads_as_pyyaml_reads_it(text: str) -> None:
    document = f"k: {text}\n"
    read = tree(document)
    assert read == safe_load(document)
    assert isinstance(read, dict)
    assert type(read["k"]) is type(safe_load(document)["k"])


def test_anchors_and_aliases_read_as_pyyaml_reads_them() -> None:
    document = "a: &x foo\n*x : bar\nb: &k {c: 030}\nd: *k\ne: &s [1:30, *x]\nf: *s\n"
    assert tree(document) == safe_load(document)


def test_the_two_examples_of_issue_12_in_a_list_too() -> None:
    assert tree("- 030\n- 1:30\n- [030, {a: 1:30}]\n") == [24, 90, [24, {"a": 90}]]


@given(st.from_regex(r"[-+]?[0-9_]{0,4}(:[0-9]{1,2}){0,2}(\.[0-9]*)?([eE][-+]?[0-9]{1,2})?", fullmatch=True))
def test_number_like_scalars_read_as_pyyaml_reads_them(text: str) -> None:
    document = f"k: {text}\n"
    try:
        expected = safe_load(document)
    except (ValueError, yaml.YAMLError):  # PyYAML cannot read it: neither can creds-lint, in one line
        with pytest.raises(CredsLintError):
            tree(document)
        return
    read = tree(document)
    if isinstance(expected["k"], float) and math.isnan(expected["k"]):
        assert isinstance(read, dict)
        assert math.isnan(read["k"])
    else:
        assert read == expected


@pytest.mark.parametrize(
    ("text", "days"), [("030", 24), ("1:30", 90), ("0x1e", 30), ("1_0", 10), ("'10'", None), ("10.0", None)]
)
def test_a_configuration_reads_numbers_as_pyyaml(tmp_path: Path, text: str, days: int | None) -> None:
    path = tmp_path / ".creds-lint.yml"
    path.write_text(f"expiry-days: {text}\n", encoding="utf-8")
    if days is None:
        with pytest.raises(CredsLintError, match="line 1: expiry-days: expected an integer, got a"):
            config.load_file(path)
    else:
        assert config.load_file(path).expiry_days == days


def test_a_manifest_reads_numbers_as_pyyaml(tmp_path: Path) -> None:
    path = tmp_path / "m.yml"
    path.write_text(
        "variables:\n"
        "- {name: a, type: certificate, options: {common_name: 1:30, duration: 030}}\n"
        "- {name: b, type: certificate, options: {common_name: '1:30', duration: 1:30}}\n",
        encoding="utf-8",
    )
    loaded = manifest.load([path])
    assert loaded is not None
    a, b = loaded.variables["a"], loaded.variables["b"]
    assert (a.common_name, a.duration, b.common_name, b.duration) == ("90", 24, "1:30", 90)
    assert manifest.written(path) == tuple(safe_load(path.read_text())["variables"])


def test_a_date_and_time_is_not_an_expiry_date(tmp_path: Path) -> None:
    path = tmp_path / ".creds-lint.yml"
    path.write_text(
        "allow:\n  - rule: removed-ca\n    variable: x\n    reason: r\n    expires: 2031-01-31 10:00:00\n", "utf-8"
    )
    with pytest.raises(CredsLintError) as caught:
        config.load_file(path)
    assert str(caught.value) == f"{path}: line 5: allow[0].expires: expected a date as YYYY-MM-DD, not a date and time"


# --- the same bounds and refusals for every file ---------------------------------------------------------------


def billion_laughs(levels: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def as_var_store(body: str, path: Path) -> None:
    path.write_text(body, encoding="utf-8")
    parse_store(path.read_bytes(), source=str(path))


def as_configuration(body: str, path: Path) -> None:
    path.write_text(body, encoding="utf-8")
    config.load_file(path)


def as_manifest(body: str, path: Path) -> None:
    """``body`` in a manifest's properties, outside its variables: read past, but within the same bounds."""
    path.write_text("name: x\nvariables: []\nproperties:\n" + "".join(f"  {line}\n" for line in body.splitlines()))
    manifest.load([path])


READERS: dict[str, Callable[[str, Path], None]] = {
    "var-store": as_var_store,
    "configuration": as_configuration,
    "manifest": as_manifest,
}

HOSTILE = [
    pytest.param(billion_laughs(9), "YAML aliases expand to too many values (an alias bomb?)", id="alias-bomb"),
    pytest.param("a: &a [*a]\n", "recursive YAML alias", id="recursive-alias"),
    pytest.param("a: " + "[" * 40 + "]" * 40 + "\n", "nested more than 32 levels deep", id="deep"),
    pytest.param(f"a: *{SECRET}\n", "invalid YAML: an alias to an undefined anchor", id="undefined-alias"),
    pytest.param(f"a: '{SECRET}\n", "invalid YAML: found unexpected end of stream", id="unterminated-quote"),
    pytest.param(f"a:\n\t{SECRET}: x\n", "invalid YAML: found character that cannot start any token", id="tab"),
]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize(("body", "message"), HOSTILE)
def test_every_file_has_the_same_bounds_and_errors(tmp_path: Path, reader: str, body: str, message: str) -> None:
    with pytest.raises(CredsLintError) as caught:
        READERS[reader](body, tmp_path / "f.yml")
    error = str(caught.value)
    assert message in error
    assert "\n" not in error
    assert SECRET not in error


@pytest.mark.parametrize("reader", READERS)
def test_every_file_has_the_same_bound_on_values(tmp_path: Path, reader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlread, "MAX_VALUES", 1_000)
    body = "a: [" + ", ".join(["x"] * 2_000) + "]\n"
    with pytest.raises(CredsLintError, match=r"more than 1,000 values: not a"):
        READERS[reader](body, tmp_path / "f.yml")


@pytest.mark.parametrize(
    ("reader", "body", "message"),
    [
        ("var-store", "a: !!python/object/apply:os.system [x]\n", "a var-store"),
        ("configuration", "fail-on: !!python/object/apply:os.system [x]\n", "a configuration file"),
        ("configuration", "fail-on: !!binary aGVsbG8=\n", "a configuration file"),
        ("manifest", "variables:\n- name: !!python/name:os.system x\n  type: password\n", "a BOSH manifest"),
    ],
)
def test_no_file_constructs_an_object_from_a_tag(tmp_path: Path, reader: str, body: str, message: str) -> None:
    path = tmp_path / "f.yml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CredsLintError, match=f"is not allowed in {message} \\(nothing was constructed\\)"):
        {"var-store": as_var_store, "configuration": as_configuration}.get(reader, lambda b, p: manifest.load([p]))(
            body, path
        )


@pytest.mark.parametrize(
    "body",
    [
        f"fail-on: !{SECRET} x\n",
        f"fail-on: !!int {SECRET}\n",
        f"fail-on: error\nfail-on: {SECRET}\n",
        f"allow:\n  - {{rule: removed-ca, variable: x, reason: {SECRET}, because: {SECRET}}}\n",
        f"fail-on: [{SECRET}\n",
        f"fail-on: error\n---\nfail-on: {SECRET}\n",
        f"fail-on: {SECRET}\x00\n",
        f"? [{SECRET}]\n: x\n",
        f"<<: {{fail-on: {SECRET}}}\n",
    ],
)
def test_a_configuration_error_quotes_nothing_and_names_the_place(tmp_path: Path, body: str) -> None:
    path = tmp_path / ".creds-lint.yml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(CredsLintError) as caught:
        config.load_file(path)
    error = str(caught.value)
    assert error.startswith(f"{path}: ")
    assert SECRET not in error
    assert "\n" not in error


def test_a_bad_value_names_file_line_and_key_path(tmp_path: Path) -> None:
    path = tmp_path / ".creds-lint.yml"
    path.write_text("rules:\n  removed-ca: error\n  regenerated-ca: !!int x\n", encoding="utf-8")
    with pytest.raises(CredsLintError) as caught:
        config.load_file(path)
    assert str(caught.value) == f"{path}: line 3: rules.regenerated-ca: the value is not a valid !!int"


def test_a_manifest_is_read_past_outside_its_variables(tmp_path: Path) -> None:
    """Outside ``variables:`` nothing is built: a tag there constructs nothing and is not refused, a duplicate key
    is not an error; an anchor there is built for an alias in the variables. Placeholders count everywhere."""
    path = tmp_path / "m.yml"
    path.write_text(
        "name: x\n"
        "defaults: &options {is_ca: true, common_name: ((ca_cn))}\n"
        "properties: {a: !!python/object:os.system x, a: !custom y, ((key_var)): z}\n"
        "variables:\n"
        "- {name: ca, type: certificate, options: *options}\n",
        encoding="utf-8",
    )
    loaded = manifest.load([path])
    assert loaded is not None
    ca = loaded.variables["ca"]
    assert (ca.is_ca, ca.unresolved, ca.line) == (True, ("common_name",), 5)
    assert loaded.reads("ca_cn")
    assert loaded.reads("key_var")


def test_an_ops_file_is_scanned_within_the_bounds() -> None:
    ops = b"- type: replace\n  path: /instance_groups/name=web?/jobs/-\n  value: {cert: ((web_tls.certificate))}\n"
    assert manifest.references(ops, source="ops.yml") == frozenset({"web_tls"})
    with pytest.raises(CredsLintError, match="alias bomb"):
        manifest.references(billion_laughs(9).encode(), source="ops.yml")


def test_a_bad_configuration_or_manifest_is_exit_2_with_one_line(
    cli: RunCli, write_store: WriteStore, tmp_path: Path
) -> None:
    store = write_store("s.yml", {"a": password("a")})
    bad = tmp_path / "m.yml"
    bad.write_text(f"variables:\n- name: a\n  type: password\n  options: {{x: !!int {SECRET}}}\n", "utf-8")
    for args in (["--manifest", str(bad)], ["--config", str(bad)]):
        run = cli(store, store, *args)
        assert run.code == 2, run
        assert run.out == ""
        assert run.err.count("\n") == 1, run.err
        assert SECRET not in run.err
