from __future__ import annotations

# The documentation shows real output: every `$ creds-lint ...` command in a ```console block of these pages is
# run, and the lines shown must be there, in order (`...` elides lines; a line ending in ` ...` is cut short).
import json
import re
import shlex
from pathlib import Path

import pytest

from conftest import RunCli
from creds_lint.invocation import build_diff_parser, build_parser, build_restore_parser
from creds_lint.reporters import FORMATS
from creds_lint.reporters.json import document, finding_dict
from reports import REPORT

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
INCIDENT = ROOT / "examples" / "incident"
# page -> the directory its commands run in
PAGES = {"output.md": INCIDENT, "incident.md": INCIDENT, "getting-started.md": ROOT, "audit.md": INCIDENT}
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(page: str, language: str) -> list[str]:
    return [body for lang, body in _BLOCK.findall((DOCS / page).read_text(encoding="utf-8")) if lang == language]


def commands(page: str) -> list[tuple[str, list[str]]]:
    """(command line, lines shown after it) for every creds-lint command in the page's console blocks."""
    out: list[tuple[str, list[str]]] = []
    for body in blocks(page, "console"):
        for line in body.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif out:
                out[-1][1].append(line)
    return [(cmd, shown) for cmd, shown in out if re.match(r"(\w+=\S+ )*creds-lint ", cmd)]


def matches(shown: str, actual: str) -> bool:
    return actual.startswith(shown[:-4]) if shown.endswith(" ...") else actual == shown


def assert_shown(shown: list[str], actual: list[str]) -> None:
    """Every shown line matches an actual line, in order; ``...`` skips any number of lines."""
    position = 0
    for line in shown:
        if line == "...":
            continue
        found = next((i for i in range(position, len(actual)) if matches(line, actual[i])), None)
        assert found is not None, f"documented line not in the output (or out of order): {line}"
        position = found + 1


CASES = [(page, cmd, shown) for page in PAGES for cmd, shown in commands(page)]


@pytest.mark.parametrize(("page", "command", "shown"), CASES, ids=[f"{p}: {c}" for p, c, _ in CASES])
def test_documented_commands_show_real_output(
    cli: RunCli, monkeypatch: pytest.MonkeyPatch, page: str, command: str, shown: list[str]
) -> None:
    monkeypatch.chdir(PAGES[page])
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    words = shlex.split(command)
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        monkeypatch.setenv(name, value)
    assert words[0] == "creds-lint"
    expected_code = None
    if shown and shown[-1].startswith("[exit "):  # `[exit N]` closes the output of a command that fails
        expected_code = int(shown.pop().removeprefix("[exit ").rstrip("]"))
    run = cli(*words[1:])
    assert_shown(shown, run.out.splitlines())
    if expected_code is not None:
        assert run.code == expected_code


def test_every_page_has_checked_commands() -> None:
    for page in PAGES:
        assert commands(page), page


def test_json_example_is_the_contract() -> None:
    (example,) = [b for b in blocks("output.md", "json") if '"findings"' in b]
    doc = json.loads(example)
    real = document(REPORT)
    assert list(doc) == list(real)
    assert list(doc["findings"][0]) == list(finding_dict(REPORT.findings[0]))
    assert list(doc["errors"][0]) == list(real["errors"][0])
    assert list(doc["summary"]) == list(real["summary"])
    # the key table documents every finding key
    text = (DOCS / "output.md").read_text(encoding="utf-8")
    for key in finding_dict(REPORT.findings[0]):
        assert re.search(rf"`(findings\[\])?\.{key}`|`findings\[\]\.{key}`", text), key


def test_formats_table_matches_the_cli() -> None:
    text = (DOCS / "output.md").read_text(encoding="utf-8")
    table = text.split("| `--format` |", 1)[1].split("\n\n", 1)[0]
    documented = re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE)
    assert documented == list(FORMATS)
    (format_action,) = [a for a in build_parser()._actions if a.dest == "format"]
    assert tuple(format_action.choices or ()) == FORMATS
    assert format_action.default == "auto"


def _flags(parser_options: list[str], text: str) -> list[str]:
    return sorted({flag for flag in re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", text) if flag not in parser_options})


@pytest.mark.parametrize("page", ["output.md", "getting-started.md", "incident.md", "ci.md"])
def test_documented_flags_exist(page: str) -> None:
    parsers = (build_parser(), build_diff_parser(), build_restore_parser())
    options = [o for p in parsers for a in p._actions for o in a.option_strings]
    text = (DOCS / page).read_text(encoding="utf-8")
    # flags of other tools the pages quote (git, pip, GitHub's actions), not creds-lint's
    others = {
        "--no-ext-diff",
        "--ext-diff",
        "--no-textconv",
        "--global",
        "--local",
        "--quiet",
        "--upgrade",
        "--user",
        "--depth",
        "--vars-store",
    }
    assert [f for f in _flags(options, text) if f not in others] == []


def test_output_options_are_documented() -> None:
    text = (DOCS / "output.md").read_text(encoding="utf-8")
    for flag in ("--format", "--color", "--quiet", "--explain", "--textconv", "--fail-on"):
        assert re.search(rf"`(creds-lint )?{flag}", text), flag


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", ["output.md", "getting-started.md", "incident.md", "ci.md", "usage.md"])
def test_links_between_pages_resolve(page: str) -> None:
    text = (DOCS / page).read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(([^)#:]*\.md|)(?:#([^)]+))?\)", text):
        linked = DOCS / target if target else DOCS / page
        assert linked.is_file(), target
        if anchor:
            assert anchor in _anchors(linked), f"{target}#{anchor}"


def test_restore_json_keys_are_documented(tmp_path: Path, cli: RunCli) -> None:
    old, new = tmp_path / "old.yml", tmp_path / "new.yml"
    old.write_text("a_password: an-old-password-of-some-length\n", encoding="utf-8")
    new.write_text("{}\n", encoding="utf-8")
    run = cli("restore", new, "--from", old, "--format", "json", "--dry-run")
    assert run.code == 0, run.err
    table = (DOCS / "output.md").read_text(encoding="utf-8").split("## creds-lint restore", 1)[1]
    for key in run.json:
        assert f"`{key}`" in table or f"`{key}[]`" in table, key
    for key in run.json["restored"][0]:
        assert f"`{key}`" in table, key


def test_docs_name_the_command_the_hook_runs() -> None:
    """The docs say what pre-commit runs as .pre-commit-hooks.yaml does: `creds-lint --hook`, never `--staged`."""
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {hook["entry"].split()[:2] == ["creds-lint", "--hook"] for hook in hooks} == {True}
    said = re.compile(r"`creds-lint (--\w+)[^`]*` is what it runs|runs? `creds-lint (--\w+)")
    pages = [ROOT / "README.md", *DOCS.glob("*.md")]
    claims = [(page.name, m.group(1) or m.group(2)) for page in pages for m in said.finditer(page.read_text("utf-8"))]
    assert claims
    assert {flag for _, flag in claims} == {"--hook"}, claims


def test_ci_runs_the_readme_test_command_which_runs_the_whole_suite() -> None:
    """The README's test command is the last line of `.ci/run`, and it selects no marker: CI runs the slow lane
    too. The fast lane the README offers beside it is `-m "not slow"`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    [command] = [b.strip() for lang, b in _BLOCK.findall(readme) if lang == "sh" and "pytest" in b]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip().splitlines()
    assert ci[-1] == command
    assert command.endswith("python3 -m pytest")
    assert 'python3 -m pytest -m "not slow"' in readme


# A page named in the docs: `docs/usage.md`, `usage.md`, `../README.md`, `CHANGELOG.md#unreleased`, in a link or
# in text. A URL's path is another site's, not a file here.
_MENTION = re.compile(r"(?<![\w/.:-])((?:\.\./|[\w-]+/)*[\w.-]+\.md)(?:#[\w-]*)?(?![\w/])")
_URL = re.compile(r"\w+://\S+")


def mentioned_pages(text: str) -> set[str]:
    return set(_MENTION.findall(_URL.sub(" ", text)))


def test_mentions_are_found_and_urls_are_not() -> None:
    text = "see [usage](docs/usage.md#restore), var-store.md, ../README.md and https://bosh.io/docs/x-rotation.md"
    assert mentioned_pages(text) == {"docs/usage.md", "var-store.md", "../README.md"}


@pytest.mark.parametrize("page", [ROOT / "README.md", *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name)
def test_every_page_a_doc_names_exists(page: Path) -> None:
    """Every relative ``.md`` path in README.md and docs/*.md is a file of the repository, relative to the page or
    to the top (a design note that is cited must be shipped)."""
    missing = [
        name
        for name in sorted(mentioned_pages(page.read_text(encoding="utf-8")))
        if not (page.parent / name).is_file() and not (ROOT / name).is_file()
    ]
    assert missing == []
