from __future__ import annotations

# The process owner (cli.main) owns the lifetimes: the cyclic collector is off during a run and restored after,
# and the certificate caches are emptied when the run ends, so a second run in the same process parses again.
import gc
from pathlib import Path

import pytest

from creds_lint import cli, x509
from creds_lint.process import run_scope
from factory import bosh_store, dump_store, incident


def cached_certificates() -> int:
    cached = x509.load_certificate.cache_info().currsize + x509.certificate_info.cache_info().currsize
    return cached + x509._info.cache_info().currsize + len(x509._INFO) + len(x509._NAMES)


def test_a_run_owns_gc_and_the_caches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = tmp_path / "old.yml", tmp_path / "new.yml"
    old.write_text(dump_store(bosh_store()))
    new.write_text(dump_store(incident(bosh_store())))
    x509.clear_caches()
    assert gc.isenabled()
    assert cli.main([str(old), str(new)]) == 1
    capsys.readouterr()
    assert gc.isenabled()
    assert cached_certificates() == 0
    # inside a run the caches do fill: a library call that does not clear them keeps what it parsed
    from creds_lint.engine import lint
    from creds_lint.loader import load_store

    lint(load_store(old), load_store(new))
    assert cached_certificates() > 0
    x509.clear_caches()
    assert cached_certificates() == 0


def test_the_run_scope_turns_gc_off_and_restores_it() -> None:
    with run_scope():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with run_scope():
            pass
        assert not gc.isenabled()  # restored as it was, not switched on
    finally:
        gc.enable()
