"""``--format json``: the public, documented contract (docs/output.md), described by the versioned JSON Schema
``creds_lint/schemas/report-v1.schema.json`` that every document names in ``$schema``."""

from __future__ import annotations

import json
from typing import Any

from creds_lint import __version__
from creds_lint.findings import CertificateRecord, ConfigurationNote, Finding, Report, Severity
from creds_lint.reporters.style import PLAIN, Style
from creds_lint.schema import REPORT_ID


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "code": finding.code,
        "severity": finding.severity.value,
        "file": str(finding.file),
        "variable": finding.variable,
        "field": finding.field,
        "line": finding.line,
        "old_file": str(finding.old_file) if finding.old_file is not None else None,
        "old_line": finding.old_line,
        "message": finding.message,
        "details": dict(finding.details),
        "allowed": finding.allowed,
        "reason": finding.reason,
        "fingerprint": finding.fingerprint,
    }


def certificate_dict(record: CertificateRecord) -> dict[str, Any]:
    return {
        "file": record.file,
        "variable": record.variable,
        "line": record.line,
        "common_name": record.common_name,
        "serial": record.serial,
        "signer": record.signer,
        "self_signed": record.signer == record.variable,
        "is_ca": record.is_ca,
        "not_after": record.not_after.isoformat(),
        "days_left": record.days_left,
        "fingerprint": record.fingerprint,
    }


def configuration_dict(note: ConfigurationNote) -> dict[str, Any]:
    return {
        "file": note.file,
        "off": list(note.off),
        "lowered": {name: level.value for name, level in note.lowered.items()},
    }


def document(report: Report) -> dict[str, Any]:
    summary: dict[str, int] = {"files": report.files}
    summary.update({s.value: report.count(s) for s in reversed(Severity)})
    summary["allowed"] = sum(1 for f in report.findings if f.allowed)
    return {
        "$schema": REPORT_ID,
        "version": __version__,
        "findings": [finding_dict(f) for f in report.findings],
        "errors": [{"file": str(e.file), "message": e.message} for e in report.errors],
        "summary": summary,
        "certificates": [certificate_dict(c) for c in report.certificates],
        "configuration": configuration_dict(report.configuration or ConfigurationNote()),
    }


def render(report: Report, style: Style = PLAIN) -> str:
    """The JSON document; ``style`` is ignored: a machine format carries every finding."""
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"
