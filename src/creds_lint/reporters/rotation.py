"""``creds-lint rotate`` as text or JSON: the plan (rows, deadline, preconditions, commands) and the outcome of a
step (what it removed, added or promoted, its refusals, the proof of its diff, the next steps). Never a value:
names, common names, dates and fingerprints only. The JSON schemas are documented in docs/rotate.md."""

from __future__ import annotations

import json as json_module
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from creds_lint.rotate import Plan, Proof
    from creds_lint.rotate_cli import Outcome

#: The version of the JSON documents (docs/rotate.md).
SCHEMA_VERSION = 1


def _date(moment: datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def _table(header: tuple[str, ...], cells: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in (header, *cells)) for i in range(len(header))]
    return [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *cells)
    ]


def plan_text(plan: Plan) -> str:
    lines = [f"{plan.file}: rotation plan ({len(plan.rows)} variables; due: expiring within {plan.within} days)"]
    cells = [
        (
            ("* " if r.due else "  ") + r.variable,
            r.kind,
            f"{r.not_after:%Y-%m-%d}" if r.not_after is not None else "-",
            str(r.days_left) if r.days_left is not None else "-",
            r.action.value,
            r.holders,
        )
        for r in plan.rows
    ]
    lines += _table(("  VARIABLE", "KIND", "NOT AFTER", "DAYS", "ACTION", "COPIES HELD BY"), cells)
    lines.append("")
    lines.append("why:")
    lines += [f"  {r.variable}: {r.action.value}: {r.reason}" for r in plan.rows]
    lines.append("")
    if plan.deadline is not None:
        lines.append(
            f"deadline: {plan.deadline:%Y-%m-%d %H:%M} UTC ({plan.deadline_ca} expires; its copies are held outside "
            "the director)"
        )
    else:
        lines.append("deadline: none (no CA whose copies are held outside the director)")
    lines.append("preconditions:")
    lines += [f"  [{p.state.value}] {p.name}: {p.text}" for p in plan.preconditions]
    if plan.commands:
        lines.append("commands:")
        lines += [f"  {i}. {command}" for i, command in enumerate(plan.commands, start=1)]
    else:
        lines.append(f"commands: none (nothing expires within {plan.within} days)")
    return "\n".join(lines) + "\n"


def plan_json(plan: Plan) -> str:
    document: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "file": plan.file,
        "now": _date(plan.now),
        "within_days": plan.within,
        "deadline": _date(plan.deadline),
        "deadline_variable": plan.deadline_ca,
        "variables": [
            {
                "variable": r.variable,
                "kind": r.kind,
                "not_after": _date(r.not_after),
                "days_left": r.days_left,
                "due": r.due,
                "signer": r.signer,
                "holders": r.holders,
                "action": r.action.value,
                "reason": r.reason,
            }
            for r in plan.rows
        ],
        "preconditions": [{"name": p.name, "state": p.state.value, "text": p.text} for p in plan.preconditions],
        "commands": list(plan.commands),
    }
    return json_module.dumps(document, indent=2) + "\n"


def _proof_lines(proof: Proof) -> list[str]:
    verdict = "exactly what the step expects" if proof.holds else "NOT what the step expects"
    lines = [f"proof (creds-lint's comparison of the store before and after): {verdict}"]
    for verb, names in (("removed", proof.removed), ("added", proof.added), ("changed", proof.changed)):
        if names:
            lines.append(f"  {verb}: {', '.join(names)}")
    lines.append(f"  unchanged: {proof.unchanged} other variables")
    lines += [f"  - {problem}" for problem in proof.problems]
    return lines


def _headline(outcome: Outcome) -> str:
    if outcome.refused:
        return f"{outcome.path}: rotate {outcome.step} refused, nothing written:"
    if outcome.summary:
        return f"{outcome.path}: {outcome.summary}"
    if not outcome.leaves:
        return f"{outcome.path}: nothing to rotate"
    count = f"{len(outcome.leaves)} leaf certificate{'s' if len(outcome.leaves) != 1 else ''}"
    if outcome.written is None:
        return f"{outcome.path}: would remove {count} (--dry-run: nothing written)"
    return f"{outcome.path}: removed {count} (backup of the old version: {outcome.written.backup})"


def text(outcome: Outcome) -> str:
    lines = [_headline(outcome)]
    lines += [f"  - {reason}" for reason in outcome.refusals]
    if outcome.leaves:
        lines += _table(
            ("VARIABLE", "COMMON NAME", "CA (UNCHANGED)", "NOT AFTER"),
            [(leaf.variable, leaf.common_name, leaf.signer, f"{leaf.not_after:%Y-%m-%d}") for leaf in outcome.leaves],
        )
    if outcome.skipped:
        lines.append("not removed (due, but not a leaf bosh re-issues under an unchanged CA):")
        lines += [f"  - {reason}" for reason in outcome.skipped]
    if outcome.proof is not None:
        lines += _proof_lines(outcome.proof)
    lines += [f"warning: {warning}" for warning in outcome.warnings]
    lines += [f"ops file: {path}" for path in outcome.ops_written if not outcome.refused]
    for ops in outcome.ops_printed if not outcome.refused else ():
        lines.append(f"ops file {ops.name}:")
        lines += ["  " + line if line else "" for line in ops.text.splitlines()]
    if outcome.next_steps and not outcome.refused:
        lines.append("next:")
        lines += [f"  {i}. {step}" for i, step in enumerate(outcome.next_steps, start=1)]
    return "\n".join(lines) + "\n"


def json(outcome: Outcome) -> str:
    proof = outcome.proof
    document: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "file": outcome.path,
        "step": outcome.step,
        "refused": outcome.refused,
        "dry_run": outcome.dry_run,
        "written": outcome.written is not None,
        "backup": str(outcome.written.backup) if outcome.written is not None else None,
        "refusals": list(outcome.refusals),
        "skipped": list(outcome.skipped),
        "leaves": [
            {
                "variable": leaf.variable,
                "common_name": leaf.common_name,
                "signer": leaf.signer,
                "not_after": _date(leaf.not_after),
            }
            for leaf in outcome.leaves
        ],
        "proof": None
        if proof is None
        else {
            "holds": proof.holds,
            "removed": list(proof.removed),
            "added": list(proof.added),
            "changed": list(proof.changed),
            "unchanged": proof.unchanged,
            "findings": list(proof.findings),
            "problems": list(proof.problems),
        },
        "summary": outcome.summary,
        "warnings": list(outcome.warnings),
        "ops_files": list(outcome.ops_written),
        "ops_printed": [{"name": ops.name, "text": ops.text} for ops in outcome.ops_printed],
        "next_steps": list(outcome.next_steps),
    }
    return json_module.dumps(document, indent=2) + "\n"
