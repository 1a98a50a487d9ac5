from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from creds_lint.cli import main
from factory import dump_store, pool_keys, preload

#: Fixtures that run a real external tool: every test that uses one is in the slow lane (``pytest -m slow``).
SLOW_FIXTURES = frozenset({"bosh_cli", "bosh_int"})


#: Where pytest's cache keeps the test factory's RSA keys between sessions (.pytest_cache, never committed).
_KEY_POOL = "creds-lint/rsa-key-pool"


def pytest_configure(config: pytest.Config) -> None:
    """The factory's keys of the last session are used again: real keys all the same, minus the generation."""
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    if cache is not None:
        kept = cache.get(_KEY_POOL, {})
        preload(kept if isinstance(kept, dict) else {})


def pytest_unconfigure(config: pytest.Config) -> None:
    cache = getattr(config, "cache", None)
    if cache is not None:
        cache.set(_KEY_POOL, pool_keys())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The fast lane (``pytest -m "not slow"``) leaves out, besides the modules and tests marked ``slow``, every
    test that runs the real bosh CLI and every property test (hypothesis runs many examples)."""
    from hypothesis import is_hypothesis_test

    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        test = getattr(item, "obj", None)
        if SLOW_FIXTURES.intersection(fixtures) or (test is not None and is_hypothesis_test(test)):
            item.add_marker(pytest.mark.slow)


#: ``CREDS_LINT_TEST_ASIDE=always``: every check reads and decodes the old version of a file on a second CPU, however
#: small the file (``.ci/run`` runs the fast lane so once). Tests that count what a run does are marked ``counts``.
ASIDE_ALWAYS = os.environ.get("CREDS_LINT_TEST_ASIDE") == "always"


@pytest.fixture(autouse=True)
def _aside_always(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """With ``CREDS_LINT_TEST_ASIDE=always``: the test's checks read and decode old versions on a second CPU, and
    every child answers (a child that failed would leave the work to the parent, and the lane would prove
    nothing)."""
    if not ASIDE_ALWAYS:
        yield
        return
    from creds_lint import background, engine

    if not background.available():
        pytest.exit("CREDS_LINT_TEST_ASIDE=always needs Linux, fork and a second CPU", returncode=2)
    if request.node.get_closest_marker("counts") is not None:
        pytest.skip("counts what a run reads, imports or falls back to: a forced second CPU changes the count")
    monkeypatch.setattr(engine, "ASIDE_BYTES", 1)
    before = background.fallbacks
    yield
    assert background.fallbacks == before, "a child sent no value: the parent did the work itself"


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:  # noqa: ANN401 - parsed JSON is dynamically typed
        return json.loads(self.out)

    @property
    def rules(self) -> list[tuple[str, str | None]]:
        """(rule, variable) of every finding, from JSON output."""
        return [(f["rule"], f["variable"]) for f in self.json["findings"]]


RunCli = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """Run ``creds-lint`` in-process with the given arguments."""

    def run(*args: str | Path) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


WriteStore = Callable[[str, Mapping[str, object]], Path]


@pytest.fixture
def write_store(tmp_path: Path) -> WriteStore:
    """Write a var-store the way bosh does and return its path."""

    def write(name: str, store: Mapping[str, object]) -> Path:
        path = tmp_path / name
        path.write_text(dump_store(store), encoding="utf-8")
        return path

    return write


def _bosh_cli() -> Path | None:
    """The real bosh CLI: ``$CREDS_LINT_BOSH``, else ``bosh`` on PATH, else ``../shared/tools/bosh`` beside the
    checkout (where CI and development machines have it)."""
    import os
    import shutil

    named = os.environ.get("CREDS_LINT_BOSH")
    if named:
        return Path(named)
    found = shutil.which("bosh")
    if found:
        return Path(found)
    beside = Path(__file__).resolve().parents[1].parent / "shared" / "tools" / "bosh"
    return beside if beside.is_file() and os.access(beside, os.X_OK) else None


@pytest.fixture
def bosh_cli() -> Path:
    """The real bosh CLI's path (skips with the reason when it is absent)."""
    bosh = _bosh_cli()
    if bosh is None:
        pytest.skip("the real bosh CLI is not available (set CREDS_LINT_BOSH or put bosh on PATH)")
    return bosh


BoshInt = Callable[[Path, Path], None]


@pytest.fixture
def bosh_int(tmp_path: Path) -> BoshInt:
    """``bosh int MANIFEST --vars-store STORE`` with the real bosh CLI (skips with the reason when it is absent):
    generates every declared variable missing from STORE, exactly as ``bosh create-env`` does."""
    import subprocess

    bosh = _bosh_cli()
    if bosh is None:
        pytest.skip("the real bosh CLI is not available (set CREDS_LINT_BOSH or put bosh on PATH)")

    def run(manifest: Path, store: Path) -> None:
        result = subprocess.run(
            [str(bosh), "int", str(manifest), "--vars-store", str(store)],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
        )
        assert result.returncode == 0, f"bosh int failed: {result.stderr[-500:]}"

    return run
