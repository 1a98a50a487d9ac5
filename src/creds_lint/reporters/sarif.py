"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run with the full rules catalogue (id = code, name, summary, rationale, remedy, default level), one result
per error or warning with its location, a level mapped from the severity, and a ``partialFingerprints`` entry
built from the rule, the file, the variable and the field — never from a line number or a value — so that a
finding keeps its identity across unrelated edits. Allowed findings are reported with an external suppression
carrying the reason.

Info findings (a leaf re-issued under its unchanged CA, a renewed CA, a documented rotation step) are not problems
themselves: they are left out of the results, so that code scanning never raises an alert for them, and counted in
the run's ``properties.infoFindings``. Those whose change is not safe on its own, because it depends on a problem
their message names (a leaf re-issued by a regenerated CA, whose regenerated-ca error is a result), are counted
again in ``properties.infoFindingsDependingOnProblems``. The rules whose default is info carry no
``security-severity`` and no ``security`` tag either. Every location is in the new version of the file (see
:mod:`location`): a removed variable or file points at the file, and its message names the old line.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from creds_lint import __version__
from creds_lint.findings import ConfigurationNote, Finding, Report, RuleInfo, Severity
from creds_lint.reporters import location
from creds_lint.reporters.json import configuration_dict
from creds_lint.reporters.style import DOCS_URL, PLAIN, Style, paragraphs

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/creds-lint/creds-lint"
RULES_URI = DOCS_URL + "rules.md"
#: The key of our fingerprint in ``partialFingerprints``; the version suffix changes if its recipe ever does.
FINGERPRINT_KEY = "credsLintFinding/v1"

#: Where a finding in a var-store read from standard input (``-``) is: there is no file, so its artifact location
#: has no URI (code scanning cannot show it; ``--format sarif`` is for files in a repository).
STDIN_DESCRIPTION = "standard input (-)"

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitHub code scanning ranks security alerts by this score (0.0-10.0).
_SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.0"}


def fingerprint(finding: Finding) -> str:
    """Stable identity of a finding: rule, file path (without revision), variable and field."""
    parts = (finding.code, finding.file.path, finding.variable or "", finding.field or "")
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def rule_descriptor(rule: RuleInfo) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": "\n\n".join(paragraphs(rule.rationale))},
        "help": {"text": rule.remedy, "markdown": f"**How to fix:** {rule.remedy}"},
        "helpUri": f"{RULES_URI}#{rule.code.lower()}-{rule.name}",
        "defaultConfiguration": {"level": LEVEL[rule.severity]},
        "properties": _rule_properties(rule.severity),
    }


def _rule_properties(severity: Severity) -> dict[str, Any]:
    """Tags, and GitHub's ``security-severity`` for the rules that report problems (never for info rules)."""
    if severity is Severity.INFO:
        return {"tags": ["bosh", "credentials"]}
    return {"tags": ["security", "bosh", "credentials"], "security-severity": _SECURITY_SEVERITY[severity]}


def _physical(file_path: str, line: int | None) -> dict[str, Any]:
    """A location in a file: its URI, or for standard input (no file, so no URI) a description of where it is."""
    path = location.in_repository(file_path)
    artifact = {"uri": location.uri(path)} if path is not None else {"description": {"text": STDIN_DESCRIPTION}}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if line is not None:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    file_path, line = location.position(finding)
    properties: dict[str, Any] = {"rule": finding.rule, "severity": finding.severity.value}
    if finding.variable is not None:
        properties["variable"] = finding.variable
    if finding.field is not None:
        properties["field"] = finding.field
    if finding.details:
        properties["details"] = dict(finding.details)
    entry: dict[str, Any] = {
        "ruleId": finding.code,
        "level": LEVEL[finding.severity],
        "message": {"text": location.message(finding)},
        "locations": [_physical(file_path, line)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
        "properties": properties,
    }
    if finding.code in index:
        entry["ruleIndex"] = index[finding.code]
    if finding.allowed:
        suppression: dict[str, Any] = {"kind": "external", "status": "accepted"}
        if finding.reason:
            suppression["justification"] = finding.reason
        entry["suppressions"] = [suppression]
    return entry


def _error_locations(file_path: str) -> dict[str, Any]:
    """A file error's location; none for an error about the command line itself."""
    path = location.in_repository(file_path)
    return {"locations": [_physical(path, None)]} if path is not None else {}


def shown(report: Report) -> tuple[Finding, ...]:
    """The findings that become results: every error and warning, allowed or not; never an info finding."""
    return tuple(f for f in report.findings if f.severity is not Severity.INFO)


def document(report: Report) -> dict[str, Any]:
    index = {r.code: i for i, r in enumerate(report.rules)}
    notifications = [
        {
            "level": "error",
            "message": {"text": error.message},
            **_error_locations(error.file.path),
        }
        for error in report.errors
    ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "creds-lint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule_descriptor(r) for r in report.rules],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not report.errors,
                        "toolExecutionNotifications": notifications,
                        "properties": {
                            "configuration": configuration_dict(report.configuration or ConfigurationNote())
                        },
                    }
                ],
                "results": [result(f, index) for f in shown(report)],
                "properties": {
                    "infoFindings": len(report.findings) - len(shown(report)),
                    "infoFindingsDependingOnProblems": sum(
                        1 for f in report.findings if f.severity is Severity.INFO and f.depends_on_problem
                    ),
                },
            }
        ],
    }


def render(report: Report, style: Style = PLAIN) -> str:
    """The SARIF log; ``style`` is ignored: a machine format carries every finding."""
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"
