"""The outcome of ``creds-lint renew`` as text or JSON: the renewed certificates (variable, common name, old and
new notAfter, serial), who holds copies of the renewed CAs and the deadline, and the next steps. Never a PEM or a
key: only what :class:`creds_lint.renew.Renewed` carries."""

from __future__ import annotations

import json as json_module
from typing import TYPE_CHECKING, Any

from creds_lint import renew
from creds_lint.renew import Renewed

if TYPE_CHECKING:
    from creds_lint.renew_cli import Outcome


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _headline(outcome: Outcome) -> str:
    renewal = outcome.renewal
    count = _plural(len(renewal.renewed), "certificate")
    if outcome.refused:
        return f"{outcome.path}: renewal refused, nothing written:"
    if not renewal.renewed:
        return f"{outcome.path}: nothing to renew"
    if outcome.written is None:
        return f"{outcome.path}: would renew {count} (--dry-run: nothing written)"
    return f"{outcome.path}: renewed {count} (backup of the old version: {outcome.written.backup})"


def _table(rows: list[Renewed]) -> list[str]:
    header = ("VARIABLE", "COMMON NAME", "SIGNER", "NOT AFTER: OLD -> NEW", "NEW SERIAL")
    cells = [
        (
            r.variable,
            r.common_name,
            "(self-signed)" if r.signer == r.variable else r.signer,
            f"{r.old_not_after:%Y-%m-%d} -> {r.new_not_after:%Y-%m-%d}",
            r.new_serial,
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (header, *cells)) for i in range(len(header))]
    return [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *cells)
    ]


def text(outcome: Outcome) -> str:
    renewal = outcome.renewal
    lines = [_headline(outcome)]
    if outcome.refused:
        lines += [f"  - {reason}" for reason in (*renewal.refusals, *outcome.problems)]
        return "\n".join(lines) + "\n"
    if not renewal.renewed:
        return "\n".join(lines) + "\n"
    lines += _table(list(renewal.renewed))
    trust = [f"{e.variable}.{e.field}" for e in renewal.edits if e.field == "ca"]
    if trust:
        lines.append(f"  trust fields that now carry the renewed CAs: {', '.join(trust)}")
    lines += [f"warning: {warning}" for warning in renewal.warnings]
    for name in renewal.expired:
        lines.append(
            f"warning: {name} had already expired: agents that hold its old copy fail until `bosh recreate --fix`; "
            "the renewal still spares new keys everywhere else"
        )
    if renewal.holders and renewal.deadline is not None:
        lines.append(
            f"Copies of the renewed CAs: the old copies work until {renewal.deadline:%Y-%m-%d %H:%M} UTC (the "
            "earliest old notAfter); every holder needs the renewed copy before then:"
        )
        width = max(len(h.variable) for h in renewal.holders)
        lines += [f"  {h.variable.ljust(width)}  until {h.old_not_after:%Y-%m-%d}  {h.who}" for h in renewal.holders]
    lines.append("Next steps, in order:")
    lines += [f"  {i}. {step}" for i, step in enumerate(renew.next_steps(renewal, outcome.path), start=1)]
    return "\n".join(lines) + "\n"


def _renewed(record: Renewed) -> dict[str, Any]:
    return {
        "variable": record.variable,
        "common_name": record.common_name,
        "is_ca": record.is_ca,
        "signer": record.signer,
        "old_serial": record.old_serial,
        "serial": record.new_serial,
        "old_not_after": record.old_not_after.isoformat(),
        "not_before": record.new_not_before.isoformat(),
        "not_after": record.new_not_after.isoformat(),
    }


def json(outcome: Outcome) -> str:
    renewal = outcome.renewal
    deadline = renewal.deadline
    document = {
        "file": outcome.path,
        "refused": outcome.refused,
        "dry_run": outcome.dry_run,
        "written": outcome.written is not None,
        "backup": str(outcome.written.backup) if outcome.written is not None else None,
        "refusals": list(renewal.refusals),
        "problems": list(outcome.problems),
        "renewed": [_renewed(r) for r in renewal.renewed],
        "edited": [{"variable": e.variable, "field": e.field} for e in renewal.edits],
        "warnings": list(renewal.warnings),
        "expired_cas": list(renewal.expired),
        "holders": [
            {"variable": h.variable, "who": h.who, "agents": h.agents, "old_not_after": h.old_not_after.isoformat()}
            for h in renewal.holders
        ],
        "deadline": deadline.isoformat() if deadline is not None else None,
        "next_steps": list(renew.next_steps(renewal, outcome.path)) if renewal.renewed and not outcome.refused else [],
    }
    return json_module.dumps(document, indent=2) + "\n"
