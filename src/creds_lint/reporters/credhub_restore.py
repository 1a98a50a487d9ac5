"""How ``creds-lint restore`` shows the import file it writes for a CredHub export: a function of the plan, the
file written, the check of SOURCE against the state the import leaves, and a style. Values never appear: the plan
holds fingerprints only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from creds_lint.credhub import import_command
from creds_lint.credhub_restore import ImportPlan, Item
from creds_lint.findings import Report
from creds_lint.reporters import json as json_reporter
from creds_lint.reporters import text as text_reporter
from creds_lint.reporters.restore import why
from creds_lint.reporters.style import PLAIN, Color, Style, clean

FILE_NOTE = "it holds the restored secrets: keep it out of git, and delete it once imported"


def _line(item: Item) -> str:
    reason = why(item.reason, signer=item.signer, rule=item.rule)
    return f"  {clean(item.name)} ({item.type}): {item.before} -> {item.after} ({reason})"


def next_step(plan: ImportPlan, *, written: bool) -> str:
    step = import_command(plan.import_file)
    if not written:
        return f"run the restore without --dry-run, then {step}"
    return f"{step}; then redeploy what uses these credentials, and delete {plan.import_file}"


def render_text(plan: ImportPlan, written: Path | None, check: Report, *, dry_run: bool, style: Style = PLAIN) -> str:
    lines = [f"Import file for {clean(plan.file)} from {clean(plan.source)}:"]
    lines.extend(_line(item) for item in plan.items)
    if not plan.items:
        lines.append("  nothing to restore: what must not be regenerated is as it was")
    lines.extend(style.paint(f"warning: {clean(w)}", Color.YELLOW) for w in plan.warnings)
    if written is not None:
        count = len(plan.items)
        lines.append(
            f"Wrote {clean(str(written))} (mode 0600, {count} credential{'s' if count != 1 else ''}): {FILE_NOTE}."
        )
    elif dry_run and plan.changes:
        lines.append("Dry run: nothing written.")
    lines.append("")
    lines.append(f"Check of {clean(plan.source)} against CredHub after the import{' (planned)' if dry_run else ''}:")
    lines.append(text_reporter.render(check, style).rstrip("\n"))
    if plan.changes:
        lines.append("")
        lines.append(f"Next: {clean(next_step(plan, written=written is not None))}")
    return "\n".join(lines) + "\n"


def _item_dict(item: Item) -> dict[str, Any]:
    return {
        "name": item.name,
        "type": item.type,
        "reason": item.reason.name.lower(),
        "rule": item.rule,
        "signer": item.signer,
        "before": item.before,
        "after": item.after,
    }


def render_json(plan: ImportPlan, written: Path | None, check: Report, *, dry_run: bool) -> str:
    document = {
        "file": plan.file,
        "source": plan.source,
        "import_file": plan.import_file,
        "dry_run": dry_run,
        "written": written is not None,
        "mode": "0600" if written is not None else None,
        "restored": [_item_dict(item) for item in plan.items],
        "warnings": list(plan.warnings),
        "check": json.loads(json_reporter.render(check)),
        "next": next_step(plan, written=written is not None) if plan.changes else None,
    }
    return json.dumps(document, indent=2) + "\n"
