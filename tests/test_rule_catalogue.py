"""The rule catalogue is self-describing, unique, and documented in docs/rules.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from creds_lint import reference
from creds_lint.findings import Severity
from creds_lint.rules import ALL_RULES, BY_CODE, BY_NAME, Rule, find

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_codes_and_names_are_unique() -> None:
    assert len(BY_CODE) == len(BY_NAME) == len(ALL_RULES)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.name)
def test_rule_is_self_describing(rule: Rule) -> None:
    assert re.fullmatch(r"CL[1-9]\d\d", rule.code)
    assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", rule.name)
    assert isinstance(rule.severity, Severity)
    assert rule.summary.endswith(".")
    assert len(rule.rationale) > 80
    assert rule.remedy
    assert find(rule.name) is rule
    assert find(rule.code.lower()) is rule


def test_core_rules_have_their_contracted_names_and_severities() -> None:
    expected = {
        "removed-encryption-key": Severity.ERROR,
        "removed-ca": Severity.ERROR,
        "removed-keypair": Severity.ERROR,
        "removed-password": Severity.ERROR,
        "removed-certificate": Severity.WARNING,
        "removed-field": Severity.ERROR,
        "regenerated-encryption-key": Severity.ERROR,
        "regenerated-password": Severity.ERROR,
        "regenerated-keypair": Severity.ERROR,
        "regenerated-ca": Severity.ERROR,
        "rotated-certificate": Severity.INFO,
        "changed-type": Severity.ERROR,
        "empty-value": Severity.ERROR,
        "duplicate-key": Severity.ERROR,
        "added-variable": Severity.INFO,
    }
    assert {name: BY_NAME[name].severity for name in expected} == expected


def test_docs_rules_md_is_generated_from_the_catalogue() -> None:
    assert (DOCS / "rules.md").read_text(encoding="utf-8") == reference.markdown(), (
        "docs/rules.md is out of date: run `python -m creds_lint.reference > docs/rules.md`"
    )


def test_every_rule_has_a_section() -> None:
    text = (DOCS / "rules.md").read_text(encoding="utf-8")
    for rule in ALL_RULES:
        assert f"## {rule.code} `{rule.name}`" in text
