"""The loader: safe YAML, line numbers, duplicates, and one-line errors for everything that is not a var-store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import RunCli
from creds_lint.errors import CredsLintError
from creds_lint.loader import parse_store
from creds_lint.model import Kind, Typed, YamlType

SECRET = "hunter2-very-secret-value"


def parse(text: str | bytes) -> object:
    data = text.encode() if isinstance(text, str) else text
    return parse_store(data, source="creds.yml")


def test_lines_of_variables_and_fields() -> None:
    store = parse_store(
        b"admin_password: abc\nnats_ca:\n  ca: x\n  certificate: y\n  private_key: z\n", source="creds.yml"
    )
    assert store.entries["admin_password"].line == 1
    nats = store.entries["nats_ca"]
    assert nats.line == 2
    assert dict(nats.field_lines) == {"ca": 3, "certificate": 4, "private_key": 5}
    assert nats.kind is Kind.CERTIFICATE


def test_duplicate_keys_keep_the_last_value_and_are_recorded() -> None:
    store = parse_store(b"a: one\nb: x\na: two\nc:\n  k: 1\n  k: 2\n", source="s.yml")
    assert store.entries["a"].value == "two"
    assert store.entries["a"].line == 3
    assert [(d.name, d.field, d.lines) for d in store.duplicates] == [("a", None, (1, 3)), ("c", "k", (5, 6))]


def test_scalars_are_what_yaml_v2_reads_so_requoting_a_number_is_a_change() -> None:
    plain = parse_store(b"a: 0123\nb: yes\nc: 1.0\nd: abc\n", source="s.yml")
    quoted = parse_store(b"a: '0123'\nb: \"yes\"\nc: '1.0'\nd: 'abc'\n", source="s.yml")
    assert quoted.values() == {"a": "0123", "b": "yes", "c": "1.0", "d": "abc"}
    assert plain.values() == {
        "a": Typed(type=YamlType.INT, canonical="83"),
        "b": Typed(type=YamlType.BOOL, canonical="true"),
        "c": Typed(type=YamlType.INT, canonical="1"),  # yaml.v2 writes 1.0 as 1
        "d": "abc",
    }


def test_block_scalar_final_newline_is_formatting() -> None:
    pem = b"-----BEGIN RSA PRIVATE KEY-----\n    MIIB\n    -----END RSA PRIVATE KEY-----\n"
    keep = parse_store(b"k:\n  private_key: |\n    " + pem, source="s.yml")
    strip = parse_store(b"k:\n  private_key: |-\n    " + pem, source="s.yml")
    assert keep.values() == strip.values()


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n", "---\n"])
def test_empty_file_is_an_empty_store(text: str) -> None:
    assert len(parse_store(text.encode(), source="s.yml")) == 0


def test_null_value_is_none() -> None:
    store = parse_store(b"a:\nb: ~\nc: ''\n", source="s.yml")
    assert store.values() == {"a": None, "b": None, "c": ""}


def test_utf8_bom_and_crlf_are_accepted() -> None:
    store = parse_store(b"\xef\xbb\xbfa: one\r\nb:\r\n  certificate: |\r\n    x\r\n    y\r\n", source="s.yml")
    assert store.values() == {"a": "one", "b": {"certificate": "x\ny\n"}}


def test_utf16_with_bom_is_accepted() -> None:
    store = parse_store("a: one\n".encode("utf-16"), source="s.yml")
    assert store.values() == {"a": "one"}


def test_aliases_within_budget_are_expanded() -> None:
    store = parse_store(b"a: &x\n  k: v\nb: *x\n", source="s.yml")
    assert store.values() == {"a": {"k": "v"}, "b": {"k": "v"}}


BILLION_LAUGHS = "\n".join(
    ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)]
)

BAD_INPUTS = [
    pytest.param(
        f"password: {SECRET}\n<<<<<<< HEAD\nx: 1\n=======\nx: 2\n>>>>>>> branch\n",
        "line 2: git merge-conflict",
        id="conflict",
    ),
    pytest.param(f"a: {SECRET}\n---\nb: 2\n", "more than one YAML document", id="multi-doc"),
    pytest.param(f"- {SECRET}\n- b\n", "top level is a list", id="list"),
    pytest.param(f"{SECRET}\n", "top level is a single value", id="scalar"),
    pytest.param(f"a: '{SECRET}\n", "line 2, column 1: invalid YAML", id="unterminated-quote"),
    pytest.param(f"a: {SECRET}: x\n", "line 1, column", id="mapping-in-scalar"),
    pytest.param(f"a: !!python/object/apply:os.system ['{SECRET}']\n", "tag !!python/object/apply", id="python-tag"),
    pytest.param(f"a: !custom {SECRET}\n", "line 1: a non-standard YAML tag is not allowed", id="custom-tag"),
    pytest.param(BILLION_LAUGHS, "alias bomb", id="billion-laughs"),
    pytest.param("a: &a [*a]\n", "recursive YAML alias", id="recursive-alias"),
    pytest.param("a: " + "[" * 100 + "]" * 100 + "\n", "nested more than", id="deep"),
    pytest.param(f"? [a, b]\n: {SECRET}\n", "a key must be a plain name", id="complex-key"),
    pytest.param(f"base: &b {{k: {SECRET}}}\nother:\n  <<: *b\n", "merge keys", id="merge-key"),
    pytest.param(b"a: \xff\xfe\xfa" + SECRET.encode(), "line 1: not valid UTF-8", id="not-utf8"),
    pytest.param(b"\x7fELF\x02\x01\x01\x00\x00" + SECRET.encode(), "binary file", id="binary"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_without_content(
    cli: RunCli, tmp_path: Path, text: str | bytes, expected: str
) -> None:
    good = tmp_path / "old.yml"
    good.write_text(f"password: {SECRET}\n")
    bad = tmp_path / "new.yml"
    bad.write_bytes(text.encode() if isinstance(text, str) else text)

    result = cli(good, bad)

    assert result.code == 2
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith(f"creds-lint: error: {bad}: ")
    assert expected in lines[0]
    assert SECRET not in result.err
    assert "Traceback" not in result.err


def test_bad_input_in_json_is_still_the_document(cli: RunCli, tmp_path: Path) -> None:
    good = tmp_path / "old.yml"
    good.write_text("a: b\n")
    result = cli(good, tmp_path / "missing.yml", "--format", "json")
    assert result.code == 2
    assert result.json["errors"] == [{"file": str(tmp_path / "missing.yml"), "message": "no such file"}]
    assert result.json["findings"] == []


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(lambda p: p / "missing.yml", "no such file", id="missing"),
        pytest.param(lambda p: p, "is a directory", id="directory"),
    ],
)
def test_unreadable_paths(cli: RunCli, tmp_path: Path, make: object, expected: str) -> None:
    good = tmp_path / "old.yml"
    good.write_text("a: b\n")
    assert callable(make)
    result = cli(good, make(tmp_path))
    assert result.code == 2
    assert expected in result.err


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(cli: RunCli, tmp_path: Path) -> None:
    path = tmp_path / "creds.yml"
    path.write_text("a: b\n")
    path.chmod(0)
    result = cli(path, path)
    assert result.code == 2
    assert "permission denied" in result.err


def test_errors_name_the_source() -> None:
    with pytest.raises(CredsLintError) as info:
        parse_store(b"- a\n", source="HEAD:creds.yml")
    assert str(info.value).startswith("HEAD:creds.yml: ")


@pytest.mark.parametrize(
    "text",
    [
        "tls:\r\n  certificate: |\r\n    -----BEGIN CERTIFICATE-----\r\n    MIIB\r\n    -----END CERTIFICATE-----\r\n"
        "  private_key: |+\r\n    -----BEGIN RSA PRIVATE KEY-----\r\n    MIIE\r\n"
        "    -----END RSA PRIVATE KEY-----\r\n\r\n",
        "key: |\n  ssh-rsa AAAAB3Nza\n\npassword: 'kept with its newline\n\n  '\n",
        "credentials:\n- name: /d/key\n  type: password\n  value: |\n    -----BEGIN RSA PRIVATE KEY-----\n    MIIE\n",
    ],
)
def test_entries_hold_normalized_values(text: str) -> None:
    """Every entry's value is normalized as it is read, so that its fingerprint (worked out without normalizing
    again) is the fingerprint of the value however the YAML was written."""
    from creds_lint.model import fingerprint, normalize

    store = parse_store(text.encode(), source="s.yml")
    assert list(store)
    for entry in store:
        assert normalize(entry.value) == entry.value
        assert entry.fingerprint == fingerprint(entry.value)
