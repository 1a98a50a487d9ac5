"""The real bosh CLI, as the tests that need bosh's verdict use it: it generates what is missing, and leaves a
complete store byte-identical."""

from __future__ import annotations

from pathlib import Path

from conftest import BoshInt

MANIFEST = """\
variables:
- name: a_password
  type: password
- name: a_ca
  type: certificate
  options:
    is_ca: true
    common_name: a-ca
- name: a_leaf
  type: certificate
  options:
    ca: a_ca
    common_name: a-leaf
"""


def test_bosh_generates_what_is_missing_and_then_nothing(tmp_path: Path, bosh_int: BoshInt) -> None:
    manifest = tmp_path / "m.yml"
    manifest.write_text(MANIFEST, encoding="utf-8")
    store = tmp_path / "creds.yml"
    bosh_int(manifest, store)
    first = store.read_bytes()
    assert b"a_password:" in first
    assert b"a_leaf:" in first
    bosh_int(manifest, store)
    assert store.read_bytes() == first
