"""The release artefacts: an sdist that holds the package, its licence and metadata, and no tests (they need a git
checkout and the tools beside it; docs/releasing.md)."""

from __future__ import annotations

import email.parser
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds the sdist

ROOT = Path(__file__).resolve().parents[1]


def _checkout_copy(target: Path) -> Path:
    """The files git would ship (tracked and new, not ignored), copied, so the build writes nothing here."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, listed):
        source = ROOT / name.decode()
        if source.is_file():
            (target / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name.decode())
    return target


def test_sdist_holds_the_package_licence_and_metadata_and_no_tests(tmp_path: Path) -> None:
    source = _checkout_copy(tmp_path / "src")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--outdir", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (sdist,) = (tmp_path / "dist").glob("creds_lint-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
        pkg_info = archive.extractfile(next(n for n in archive.getnames() if n.endswith("/PKG-INFO")))
        assert pkg_info is not None
        metadata = email.parser.Parser().parsestr(pkg_info.read().decode())
    assert {"LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "src/creds_lint/cli.py"} <= names
    assert "src/creds_lint/py.typed" in names
    assert {"src/creds_lint/schemas/config.schema.json", "src/creds_lint/schemas/report-v1.schema.json"} <= names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "examples/", ".ci/"))]
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["License-File"] == "LICENSE"
    urls = dict(url.split(", ", 1) for url in metadata.get_all("Project-URL") or [])
    assert set(urls) >= {"Documentation", "Source", "Issues", "Changelog"}


@pytest.mark.slow
def test_the_wheel_ships_the_json_schemas(tmp_path: Path) -> None:
    """The schemas are package data: an installed creds-lint has them (``creds_lint.schema.load``)."""
    import zipfile

    source = _checkout_copy(tmp_path / "src")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("creds_lint-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        shipped = {n.rsplit("/", 1)[1]: archive.read(n).decode() for n in names if n.startswith("creds_lint/schemas/")}
    assert "creds_lint/schema.py" in names
    assert shipped == {
        name: (ROOT / "src" / "creds_lint" / "schemas" / name).read_text(encoding="utf-8")
        for name in ("config.schema.json", "report-v1.schema.json")
    }


def test_changelog_versions_agree_with_the_package() -> None:
    """`## Unreleased` comes first; the top versioned heading, once a release has one, is `__version__`."""
    import re

    from creds_lint import __version__

    headings = re.findall(r"^## (.+)$", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert headings[0] == "Unreleased"
    versions = [m.group(1) for h in headings if (m := re.match(r"(\d+\.\d+\.\d+)\b", h))]
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    if versions:
        assert versions[0] == __version__
