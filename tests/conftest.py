from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from creds_lint.cli import main
from factory import dump_store


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
