"""Values as bosh reads them: scalars resolved by yaml.v2's rules, checked against the real bosh CLI."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import RunCli
from creds_lint.errors import CredsLintError
from creds_lint.loader import parse_store
from creds_lint.model import Typed, YamlType
from factory import bosh_store, dump_store

INT, FLOAT, BOOL = YamlType.INT, YamlType.FLOAT, YamlType.BOOL


def value(text: str) -> object:
    return parse_store(f"v: {text}\n".encode(), source="s.yml").entries["v"].value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0123", Typed(type=INT, canonical="83")),  # octal, as strconv.ParseInt(s, 0, 64) reads it
        ('"0123"', "0123"),
        ("'0123'", "0123"),
        ("! 0123", "0123"),
        ("!!str 0123", "0123"),
        ('!!int "0123"', Typed(type=INT, canonical="83")),
        ("0x1F", Typed(type=INT, canonical="31")),
        ("0o17", Typed(type=INT, canonical="15")),
        ("-0b101", Typed(type=INT, canonical="-5")),
        ("1_000", Typed(type=INT, canonical="1000")),
        ("+12", Typed(type=INT, canonical="12")),
        ("089", Typed(type=INT, canonical="89")),  # not octal: a float, 89, which yaml.v2 writes as 89
        ("18446744073709551615", Typed(type=INT, canonical="18446744073709551615")),  # uint64
        ("-9223372036854775809", Typed(type=FLOAT, canonical="-9.223372036854776e+18")),
        ("1e5", Typed(type=INT, canonical="100000")),
        ("1e6", Typed(type=FLOAT, canonical="1000000.0")),
        ("1e400", "1e400"),  # out of range for ParseFloat: a string
        ("1.5", Typed(type=FLOAT, canonical="1.5")),
        (".5", Typed(type=FLOAT, canonical="0.5")),
        (".5_5", Typed(type=FLOAT, canonical="0.55")),  # ParseFloat takes an underscore between digits
        ("._5", "._5"),
        (".5_", ".5_"),
        (".inf", Typed(type=FLOAT, canonical="inf")),
        ("-.Inf", Typed(type=FLOAT, canonical="-inf")),
        (".NaN", Typed(type=FLOAT, canonical="nan")),
        ("yes", Typed(type=BOOL, canonical="true")),
        ("On", Typed(type=BOOL, canonical="true")),
        ("n", Typed(type=BOOL, canonical="false")),
        ("OFF", Typed(type=BOOL, canonical="false")),
        ("True", Typed(type=BOOL, canonical="true")),
        ("yEs", "yEs"),
        ("~", None),
        ("Null", None),
        ('""', ""),
        ("'null'", "null"),
        ("2001-01-01", "2001-01-01"),  # a timestamp stays its text for interface{}
        ("!!timestamp 2001-1-2", "2001-1-2"),
        ("0x", "0x"),
        ("0b", "0b"),
        ("1.2.3", "1.2.3"),
        ("abc123", "abc123"),
        ("!!binary aGVsbG8=", "hello"),
        ("!!float 1", Typed(type=INT, canonical="1")),
        ("!!float 2.5", Typed(type=FLOAT, canonical="2.5")),
        ("!!bool yes", Typed(type=BOOL, canonical="true")),
        ("!!null ~", None),
    ],
)
def test_scalars_resolve_as_yaml_v2_resolves_them(text: str, expected: object) -> None:
    assert value(text) == expected


def test_a_number_never_equals_the_string_with_its_text() -> None:
    assert value("0123") != value('"0123"')
    assert value("true") != value('"true"')
    assert value("0123") == value("83") == value("0x53")
    assert value(".nan") == value(".NaN")  # the same value, though NaN != NaN


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("!!int abc", "!!int value that is not an integer"),
        ("!!int 1.5", "!!int value that is not an integer"),
        ("!!bool 17", "!!bool value that is not a boolean"),
        ("!!float abc", "!!float value that is not a number"),
        ("!!null abc", "!!null value that is not a null"),
        ("!!binary not*base64", "!!binary value that is not valid base64"),
        ("!!timestamp 2001-13-45", "!!timestamp value that is not a timestamp"),
    ],
)
def test_a_value_yaml_v2_refuses_is_an_error_that_quotes_nothing(text: str, why: str) -> None:
    with pytest.raises(CredsLintError) as raised:
        value(text)
    assert raised.value.message == f"line 1: a {why}: bosh cannot read this file"
    assert text.rsplit(maxsplit=1)[-1] not in raised.value.message.removeprefix("line 1: ")


# --- against the real yaml.v2: `bosh int FILE` prints what bosh read, written by yaml.v2 -------------------------

_SIGNS = ("", "+", "-")
_BODIES = (
    "0",
    "00",
    "0123",
    "089",
    "0x1F",
    "0X1f",
    "0o17",
    "0O17",
    "0b101",
    "0B2",
    "0x",
    "0b",
    "0o",
    "1_000",
    "_1",
    "1__2",
    "123",
    "1.",
    "1.0",
    "1.5",
    ".5",
    "1e5",
    "1E+5",
    "1e6",
    "1e-7",
    "1e400",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    ".inf",
    ".Inf",
    ".nan",
    "1.2.3",
    "12abc",
    "0x1g",
    "2001-01-01",
    "2001-1-2",
)
_WORDS = (
    *("y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE"),
    *("on", "On", "ON", "off", "Off", "OFF", "yEs", "tRue", "~", "null", "Null", "NULL", "nULL", "abc", "o", "t"),
    *(".NaN", ".NAN", ".INF", "-.inf", "+.inf", ".", "..5", "._5"),
    *(".0_0", ".1_5", ".5e1_0", ".5_", ".5__5", ".5_e1", ".5e_1", "+.0_0", "-.1_5"),  # Go's rules for underscores
)
_TAGS = ("", "!!str ", "! ", "!!int ", "!!float ", "!!bool ", "!!null ", "!!binary ")


def _scalars() -> list[str]:
    plain = [sign + body for sign, body in itertools.product(_SIGNS, _BODIES)] + list(_WORDS)
    quoted = [f'"{text}"' for text in plain[::3]] + [f"'{text}'" for text in plain[1::3]]
    tagged = [f"{tag}{text}" for tag, text in itertools.product(_TAGS, ("0123", "1", "1.5", "yes", "~", "aGVsbG8="))]
    return [text for text in (*plain, *quoted, *tagged) if _one_value(text)]


def _one_value(text: str) -> bool:
    """Whether ``v: TEXT`` is valid YAML that yaml.v2 can read (a tag it refuses makes bosh fail, tested above)."""
    try:
        value(text)
    except CredsLintError:
        return False
    return True


def _bosh_reads(bosh: Path, tmp_path: Path, scalars: list[str]) -> None:
    """Our reading of each scalar equals our reading of what the real bosh CLI writes back after reading it."""
    source = tmp_path / "values.yml"
    source.write_text("".join(f"v{i}: {text}\n" for i, text in enumerate(scalars)), encoding="utf-8")
    result = subprocess.run([str(bosh), "int", str(source)], capture_output=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-300:]
    ours = parse_store(source.read_bytes(), source="values.yml").values()
    written = parse_store(result.stdout, source="bosh-output.yml").values()
    wrong = {scalars[int(n[1:])]: (ours[n], written.get(n)) for n in ours if ours[n] != written.get(n)}
    assert not wrong, f"read differently from yaml.v2 (ours, bosh's): {wrong}"


def test_scalars_read_as_the_real_bosh_cli_reads_them(bosh_cli: Path, tmp_path: Path) -> None:
    scalars = _scalars()
    assert len(scalars) > 200
    _bosh_reads(bosh_cli, tmp_path, scalars)


_TOKEN = st.text(alphabet="0123456789_.+-eExXoObB", min_size=1, max_size=8)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tokens=st.lists(_TOKEN, min_size=50, max_size=80))
def test_random_number_like_scalars_read_as_bosh_reads_them(bosh_cli: Path, tmp_path: Path, tokens: list[str]) -> None:
    scalars = [t for t in tokens if _one_value(t) and _valid_yaml(t)]
    if scalars:
        _bosh_reads(bosh_cli, tmp_path, scalars)


def _valid_yaml(text: str) -> bool:
    try:
        yaml.safe_load(f"v: {text}\n")
    except yaml.YAMLError:
        return False
    return True


# --- what the rules make of it ----------------------------------------------------------------------------------


def _stores(tmp_path: Path, old_value: str, new_value: str) -> tuple[Path, Path]:
    text = dump_store(bosh_store())
    old, new = tmp_path / "old.yml", tmp_path / "new.yml"
    old.write_text(f"{text}pin_password: {old_value}\n", encoding="utf-8")
    new.write_text(f"{text}pin_password: {new_value}\n", encoding="utf-8")
    return old, new


@pytest.mark.parametrize(
    ("change", "reading"),
    [
        (('"0123"', "0123"), ("an integer", "a string")),
        (('"yes"', "yes"), ("a boolean", "a string")),
        (("0123", '"0123"'), ("a string", "an integer")),
        (('"1e5"', "1e5"), ("an integer", "a string")),
    ],
)
def test_a_quoting_change_that_changes_what_bosh_reads_is_a_new_value(
    cli: RunCli, tmp_path: Path, change: tuple[str, str], reading: tuple[str, str]
) -> None:
    now, was = reading
    result = cli(*_stores(tmp_path, *change), "--format", "json")
    assert result.code == 1
    assert result.rules == [("regenerated-password", "pin_password")]
    message = result.json["findings"][0]["message"]
    assert f"bosh's YAML parser now reads it as {now}, not {was}" in message
    assert "0123" not in result.out
    assert "83" not in message


@pytest.mark.parametrize(
    ("old_value", "new_value"),
    [
        ('"0123"', "'0123'"),
        ("0123", "83"),  # the same integer
        ("0123", "0x53"),
        ("1.0", "1"),  # yaml.v2 writes both as 1
        ("hello", "!!binary aGVsbG8="),
        ("hello", "!!str hello"),
        ('"0123"', "!!str 0123"),
        ("yes", "true"),
        ('"0123"', "!!binary MDEyMw=="),  # base64 of 0123: the same string
    ],
)
def test_a_rewrite_that_bosh_reads_as_the_same_value_is_no_change(
    cli: RunCli, tmp_path: Path, old_value: str, new_value: str
) -> None:
    result = cli(*_stores(tmp_path, old_value, new_value), "--format", "json")
    assert (result.code, result.rules) == (0, [])


@pytest.mark.parametrize(
    ("old_value", "new_value"),
    [
        ("aGVsbG8=", "!!binary aGVsbG8="),  # bosh now reads the decoded bytes
        ('"0123"', "!!int 0123"),
    ],
)
def test_a_tag_that_changes_what_bosh_reads_is_a_new_value(
    cli: RunCli, tmp_path: Path, old_value: str, new_value: str
) -> None:
    result = cli(*_stores(tmp_path, old_value, new_value), "--format", "json")
    assert result.code == 1
    assert result.rules == [("regenerated-password", "pin_password")]


def test_an_unreadable_tagged_value_is_exit_2_with_one_line(cli: RunCli, tmp_path: Path) -> None:
    old, new = _stores(tmp_path, '"s3cr3tpass"', "!!int s3cr3tpass")
    result = cli(old, new)
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert "bosh cannot read this file" in result.err
    assert "s3cr3tpass" not in result.err + result.out
