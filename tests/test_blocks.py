"""The block writer (creds_lint.blocks, creds_lint.emitter): what it emits is what the real bosh CLI writes, byte for
byte; edits change only the blocks they name; what cannot be edited block by block is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import BoshInt
from creds_lint import blocks, emitter
from creds_lint.errors import CredsLintError
from factory import bosh_store, dump_store

GENERATED = "zz_generated_by_bosh"
MANIFEST = f"variables:\n- name: {GENERATED}\n  type: password\n"

#: Characters that change how yaml.v2 writes a string: indicators, quotes, breaks, tabs, non-printable and
#: non-BMP characters, a BOM, digits and letters that make numbers, booleans and timestamps.
_TRICKY = " \n\t\r:#-'\"!&*?|>%@`{}[],.~_+eExob0123456789abcyYnNtTfFoOé\u00a0\u2028\x85\ufeff\U0001f600\x07"
_WORDS = (
    "true",
    "yes",
    "No",
    "null",
    "~",
    "1e5",
    "1e999",
    "0x1F",
    "0o17",
    "0b101",
    "-0b101",
    "0b+101",
    "0b-1",
    "2024-01-02 10:20:30,5",
    "017",
    "08",
    "1_000",
    "2024-01-02",
    "2024-1-2 3:04:05",
    "2024-02-30",
    "2001-12-14t21:59:43.10-05:00",
    "-.inf",
    ".5",
    "1:20",
    "-",
    "---",
    "...",
    "- x",
    "? y",
    ": z",
    "<<",
    "=",
    "",
    " ",
    "a #b",
    "a# b",
    "a: b",
    "+1",
    "-0",
    "0",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "ssh-rsa AAAA\n",
    "x\n\n",
    "\nx",
    " x\n",
)
_strings = st.one_of(
    st.text(alphabet=_TRICKY, max_size=40),
    st.sampled_from(_WORDS),
    st.lists(st.sampled_from(("word", "a", "longerword", " ", "\n", "x" * 30)), max_size=40).map("".join),
    # Letters and digits as Python's Unicode database knows them: a character it does not know yet (Cn) may be a
    # letter for Go, which sorts it differently.
    st.text(st.characters(exclude_categories=("Cs", "Cn")), max_size=20),
)
_scalars = st.one_of(
    _strings,
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)


def _key(text: str) -> bool:
    return text != "<<"  # bosh refuses a merge key, even quoted


_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_strings.filter(_key), inner, max_size=4)),
    max_leaves=12,
)
_names = st.one_of(
    st.text(alphabet="abcxyzABC_-.0123456789é", min_size=1, max_size=12),
    st.sampled_from(("x_2", "x_10", "x_02", "X_1", "_x", "a", "A", "b1", "b01", "9", "true", "1e5", "")),
).filter(lambda n: n != GENERATED and _key(n))


def _ordered(value: object) -> bool:
    """Whether yaml.v2's key order is a total order on the keys of every mapping in ``value``. It is not always:
    digit runs compare as numbers and a non-letter sorts before a letter, so "51" < "5a" < "6" < "51". bosh then
    writes such keys in an order that depends on Go's random map iteration; the block writer's is one of them."""
    if isinstance(value, list):
        return all(_ordered(v) for v in value)
    if not isinstance(value, dict):
        return True
    keys = emitter.sort_keys(list(value))
    consistent = all(
        emitter.key_less(a, b) and not emitter.key_less(b, a) for i, a in enumerate(keys) for b in keys[i + 1 :]
    )
    return consistent and all(_ordered(v) for v in value.values())


def _json(value: object) -> str:
    """JSON that yaml.v2 reads back as ``value``: astral characters raw (yaml.v2 refuses escaped surrogate pairs),
    line separators and other characters YAML does not take raw as ``\\u`` escapes."""
    text = json.dumps(value, ensure_ascii=False)
    return "".join(
        f"\\u{ord(c):04x}"
        if ord(c) < 0x10000 and (c in "\x85\u2028\u2029\ufeff" or not c.isprintable()) and c not in "\n"
        else c
        for c in text
    )


def _bosh_rewrite(tmp_path: Path, bosh_int: BoshInt, store: dict[str, Any]) -> str:
    """What bosh writes for ``store``: the store is given as JSON (YAML that bosh reads, written by another
    emitter), bosh generates one password and re-marshals everything."""
    path = tmp_path / "creds.yml"
    path.write_text(_json(store), encoding="utf-8")
    manifest = tmp_path / "m.yml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    bosh_int(manifest, path)
    return path.read_bytes().decode("utf-8")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(store=st.dictionaries(_names, _values, min_size=1, max_size=12))
def test_emitted_text_is_what_bosh_writes(tmp_path: Path, bosh_int: BoshInt, store: dict[str, Any]) -> None:
    assume(_ordered({**store, GENERATED: ""}))
    written = _bosh_rewrite(tmp_path, bosh_int, store)
    generated = blocks.split(written.encode("utf-8"), source="bosh").get(GENERATED)
    assert generated is not None
    assert emitter.emit_document({**store, GENERATED: generated.value}) == written


@settings(max_examples=60, deadline=None)
@given(store=st.dictionaries(_names, _values, max_size=8), name=_names, value=_values)
def test_a_set_then_a_remove_changes_only_that_block(store: dict[str, Any], name: str, value: object) -> None:
    assume(_ordered({**store, name: value}))
    text = emitter.emit_document(store).encode("utf-8")
    parsed = blocks.split(text, source="t")
    assert blocks.same(parsed.values(), store)
    applied = parsed.apply([blocks.Set(name=name, value=value)])
    after = applied.blocks
    assert blocks.same(after.values()[name], value)
    assert {n: v for n, v in after.values().items() if n != name} == {n: v for n, v in store.items() if n != name}
    if name not in store:  # inserted where bosh's order puts it: the file is what bosh writes for the new store
        assert after.data.decode("utf-8") == emitter.emit_document({**store, name: value})
        assert after.apply([blocks.Remove(name=name)]).data == text


BOSH_MANIFEST = """\
variables:
- {name: default_ca, type: certificate, options: {is_ca: true, common_name: ca}}
- {name: director_ssl, type: certificate, options: {ca: default_ca, common_name: d, alternative_names: [10.0.0.6]}}
- {name: admin_password, type: password}
- {name: jumpbox_ssh, type: ssh}
- {name: uaa_jwt_signing_key, type: rsa}
- {name: nats_password_10, type: password}
- {name: nats_password_2, type: password}
"""


def test_a_store_bosh_wrote_splits_into_blocks_in_bosh_style(tmp_path: Path, bosh_int: BoshInt) -> None:
    manifest = tmp_path / "m.yml"
    manifest.write_text(BOSH_MANIFEST, encoding="utf-8")
    store = tmp_path / "creds.yml"
    bosh_int(manifest, store)
    bosh_int(manifest, store)  # nothing to generate: bosh leaves the file alone
    (tmp_path / "empty.yml").write_text("variables: []\n", encoding="utf-8")
    data = store.read_bytes()
    parsed = blocks.split(data, source=str(store))
    assert parsed.data == data
    assert "".join(b.raw for b in parsed.blocks) == data.decode("utf-8")
    assert list(parsed.names) == emitter.sort_keys(parsed.names)
    assert all(parsed.in_style(b.name, b.raw, b.value) for b in parsed.blocks)
    for block in parsed.blocks:  # the entry bosh generated last, in struct order, is in its style too
        removed = parsed.apply([blocks.Remove(name=block.name)]).blocks
        assert removed.apply([blocks.Set(name=block.name, value=block.value, raw=block.raw)]).data == data


def test_key_order_is_yaml_v2s() -> None:
    names = ["x_10", "x_2", "X", "_a", "a", "A", "b1", "b01", "b001", "x_", "x_1", "a10b", "a9c", "a_b", "aB"]
    assert emitter.key_less("x_02", "x_3")
    assert emitter.key_less("v1.1", "v1.01")  # equal numbers: the shorter run first
    assert emitter.sort_keys(names) == [
        "_a",
        "A",
        "X",
        "a",
        "a_b",
        "a9c",
        "a10b",
        "aB",
        "b1",
        "b01",
        "b001",
        "x_",
        "x_1",
        "x_2",
        "x_10",
    ]


def test_key_order_with_leading_zeros_is_bosh_s(tmp_path: Path, bosh_int: BoshInt) -> None:
    names = ["x_02", "x_3", "x_002", "x_1", "a01", "a1", "a001", "a10", "v1.01", "v1.1", "v10.0"]
    written = _bosh_rewrite(tmp_path, bosh_int, dict.fromkeys(names, "v"))
    order = [n for n in blocks.split(written.encode(), source="bosh").names if n != GENERATED]
    assert order == emitter.sort_keys(names)


def test_insertion_keeps_every_other_byte(tmp_path: Path) -> None:
    text = "# kept\r\nb: 1\r\n\r\n# about d\r\nd: |+\r\n  x\r\n\r\n...\r\n"
    parsed = blocks.split(text.encode(), source="t")
    assert parsed.line_ending is blocks.LineEnding.CRLF
    applied = parsed.apply(
        [blocks.Set(name="c", value="x y"), blocks.Set(name="a", value={"k": "v"}), blocks.Set(name="e", value=None)]
    )
    assert applied.data.decode() == (
        "# kept\r\na:\r\n  k: v\r\nb: 1\r\nc: x y\r\n\r\n# about d\r\nd: |+\r\n  x\r\n\r\ne: null\r\n...\r\n"
    )
    assert [(c.name, c.action) for c in applied.changes] == [
        ("c", blocks.Action.INSERTED),
        ("a", blocks.Action.INSERTED),
        ("e", blocks.Action.INSERTED),
    ]
    removed = applied.blocks.apply([blocks.Remove(name="b"), blocks.Remove(name="d")])
    assert removed.data.decode() == "# kept\r\na:\r\n  k: v\r\nc: x y\r\n\r\n# about d\r\ne: null\r\n...\r\n"


def test_a_raw_block_in_bosh_style_is_kept_verbatim_and_another_is_re_emitted() -> None:
    store = bosh_store()
    name = next(n for n, v in store.items() if isinstance(v, dict) and "ca" in v)
    source = blocks.split(dump_store(store).encode(), source="old")
    old = source.get(name)
    assert old is not None
    target = source.apply([blocks.Remove(name=name)]).blocks
    verbatim = target.apply([blocks.Set(name=name, value=old.value, raw=old.raw)])
    assert verbatim.changes[0].text is blocks.Text.VERBATIM
    assert verbatim.data == source.data
    four_spaces = old.raw.replace("\n  ", "\n    ").replace("\n      ", "\n        ")
    emitted = target.apply([blocks.Set(name=name, value=old.value, raw=four_spaces)])
    assert emitted.changes[0].text is blocks.Text.EMITTED
    assert emitted.data == source.data


def test_struct_order_of_the_last_generated_entry_counts_as_bosh_style() -> None:
    value = {"certificate": "c\n", "private_key": "k\n", "ca": "a\n"}
    raw = "x:\n  certificate: |\n    c\n  private_key: |\n    k\n  ca: |\n    a\n"
    assert blocks.split(raw.encode(), source="t").in_style("x", raw, value)


def test_an_empty_store_takes_its_first_entry() -> None:
    for empty in (b"", b"{}\n", b"null\n"):
        applied = blocks.split(empty, source="t").apply([blocks.Set(name="a", value="1")])
        assert applied.data == b'a: "1"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{a: 1, b: 2}\n", "flow mapping"),
        ("a: 1\nb: 2\na: 3\n", r"a: written twice \(lines 1 and 3\)"),
        ("  a: 1\n  b: 2\n", "does not start its line"),
        ("? a\n: 1\n", "does not start its line"),
        ("a: !custom x\n", "non-standard YAML tag"),
        ("- a\n", "not a mapping"),
        ("a: ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\nsops:\n  mac: m\n", "encrypted with sops"),
    ],
)
def test_what_cannot_be_edited_block_by_block_is_refused(text: str, message: str) -> None:
    with pytest.raises(CredsLintError, match=message):
        blocks.split(text.encode(), source="t")


def test_an_edit_that_breaks_another_entry_is_refused_before_anything_is_written() -> None:
    parsed = blocks.split(b"a: &x secret-value\nb: *x\n", source="t")
    with pytest.raises(CredsLintError, match="does not read back") as raised:
        parsed.apply([blocks.Set(name="a", value="other")])
    assert "secret-value" not in str(raised.value)


@settings(max_examples=60, deadline=None)
@given(store=st.dictionaries(_names, _values, min_size=1, max_size=8), data=st.data())
def test_a_rename_keeps_the_entry_and_moves_it_to_its_place(store: dict[str, Any], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(store)))
    to = data.draw(_names.filter(lambda n: n not in store))
    renamed = {(to if n == name else n): v for n, v in store.items()}
    assume(_ordered(store) and _ordered(renamed))
    applied = blocks.split(emitter.emit_document(store).encode(), source="t").apply([blocks.Rename(name=name, to=to)])
    assert applied.data.decode("utf-8") == emitter.emit_document(renamed)
    assert applied.changes == (
        blocks.Change(name=name, action=blocks.Action.RENAMED, text=blocks.Text.VERBATIM, to=to),
    )


def test_a_rename_keeps_the_lines_of_a_hand_written_entry_and_refuses_to_overwrite() -> None:
    text = "b: 1\r\nkey:   [1, 2]   # a comment\r\nz: 2\r\n"
    parsed = blocks.split(text.encode(), source="t")
    applied = parsed.apply([blocks.Rename(name="key", to="a_old")])
    assert applied.data.decode() == "a_old:   [1, 2]   # a comment\r\nb: 1\r\nz: 2\r\n"
    with pytest.raises(CredsLintError, match="z: already in the file"):
        parsed.apply([blocks.Rename(name="key", to="z")])
    with pytest.raises(CredsLintError, match="nope: not in the file"):
        parsed.apply([blocks.Rename(name="nope", to="y")])
    with pytest.raises(CredsLintError, match="b: edited twice"):
        parsed.apply([blocks.Rename(name="key", to="b2"), blocks.Remove(name="b"), blocks.Set(name="b", value="x")])
