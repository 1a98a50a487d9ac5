"""Real git repositories in temp directories, isolated from the user's git configuration and environment."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from factory import dump_store


def isolate_git(monkeypatch: pytest.MonkeyPatch, home: Path) -> None:
    """No GIT_* variable of a surrounding hook, no user or system git configuration, no pre-commit refs."""
    for name in list(os.environ):
        if name.startswith(("GIT_", "PRE_COMMIT")):
            monkeypatch.delenv(name)
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@dataclass(frozen=True)
class GitRepo:
    root: Path

    @classmethod
    def init(cls, root: Path) -> GitRepo:
        root.mkdir(parents=True, exist_ok=True)
        repo = cls(root)
        repo.git("init", "-q", "-b", "main")
        repo.git("config", "user.name", "Test Operator")
        repo.git("config", "user.email", "operator@example.com")
        repo.git("config", "commit.gpgsign", "false")
        return repo

    def git(self, *args: str, env: Mapping[str, str] | None = None) -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **(env or {})},
        )
        assert result.returncode == 0, f"git {' '.join(args)} failed: {result.stderr}"
        return result.stdout

    def write(self, path: str, store: Mapping[str, object]) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump_store(store), encoding="utf-8")
        return target

    def commit(self, message: str, *paths: str) -> str:
        self.git("add", "--all", *(["--", *paths] if paths else []))
        self.git("commit", "-q", "--no-verify", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def line_of(self, path: str, variable: str, *, rev: str | None = None) -> int:
        """The line of a top-level variable in the file (or its version at ``rev``)."""
        text = self.git("show", f"{rev}:{path}") if rev else (self.root / path).read_text(encoding="utf-8")
        return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(f"{variable}:"))
