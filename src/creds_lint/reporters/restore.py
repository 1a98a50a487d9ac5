"""How ``creds-lint restore`` shows what it did: a function of the plan, what was written, the check of SOURCE
against the result, and a style. Values never appear: the plan holds fingerprints only."""

from __future__ import annotations

import json
from typing import Any

from creds_lint.atomic import Written
from creds_lint.findings import Report
from creds_lint.reporters import json as json_reporter
from creds_lint.reporters import text as text_reporter
from creds_lint.reporters.style import PLAIN, Color, Style, clean
from creds_lint.restore import Item, Outcome, Reason, Restoration

BACKUP_NOTE = "it holds the replaced secrets: keep it out of git, and delete it once the deploy works"


def why(reason: Reason, *, signer: str | None, rule: str | None) -> str:
    """Why an entry is restored, in words: var-store and CredHub restores alike."""
    if reason is Reason.DEPENDENT:
        return f"signed again by the regenerated {clean(signer or '')}, which is restored"
    if reason is Reason.SIGNER:
        return f"the signer that {clean(signer or '')} needs (its ca_name), regenerated or deleted since"
    if reason is Reason.FLAGGED:
        return f"flagged: {rule}"
    return "named"


def _why(item: Item) -> str:
    return why(item.reason, signer=item.signer, rule=item.rule)


def _line(item: Item) -> str:
    name = clean(item.name)
    if item.outcome is Outcome.KEPT_AS_OLD:
        return f"  {name}: kept as the active key; the old value written as {clean(item.written)} ({item.after})"
    if item.outcome is Outcome.REMOVED:
        return f"  {name}: removed ({item.before}), for bosh to issue it again under the restored CA ({_why(item)})"
    return f"  {name}: {item.outcome.value}, {item.before} -> {item.after} ({_why(item)})"


def next_step(plan: Restoration) -> str:
    """The command to run after the restore."""
    extra = "".join(f" -o {name}" for name, _ in plan.ops_files)
    step = (
        f"bosh create-env ... --vars-store {plan.file}{extra}  (your usual command"
        + (", with the ops file above" if plan.ops_files else "")
        + "); then commit the file"
    )
    if plan.as_rotation:
        step += (
            "; once CredHub has re-encrypted its data, remove the _old entry and the ops file and run create-env again"
        )
    return step


def render_text(
    plan: Restoration, written: Written | None, check: Report, *, dry_run: bool, style: Style = PLAIN
) -> str:
    lines = [f"Restoring {clean(plan.file)} from {clean(plan.source)}:"]
    lines.extend(_line(item) for item in plan.items)
    if not plan.items:
        lines.append("  nothing to restore: what bosh must not regenerate is as it was")
    lines.extend(style.paint(f"warning: {clean(w)}", Color.YELLOW) for w in plan.warnings)
    if written is not None:
        lines.append(f"Wrote {clean(str(written.path))} (mode {written.mode:04o}).")
        lines.append(f"Backup: {clean(str(written.backup))} ({BACKUP_NOTE}).")
        lines.extend(style.paint(f"warning: {clean(w)}", Color.YELLOW) for w in written.warnings)
    elif dry_run and plan.changes:
        lines.append("Dry run: nothing written.")
    for name, text in plan.ops_files:
        lines.append(f"Ops file {name} (the documented one: save it and add it with -o):")
        lines.extend("  " + line for line in text.splitlines())
    lines.append("")
    lines.append(f"Check of {clean(plan.source)} against the {'planned ' if dry_run else ''}result:")
    lines.append(text_reporter.render(check, style).rstrip("\n"))
    lines.append("")
    lines.append(f"Next: {next_step(plan)}")
    return "\n".join(lines) + "\n"


def _item_dict(item: Item) -> dict[str, Any]:
    return {
        "name": item.name,
        "written_as": item.written,
        "outcome": item.outcome.name.lower(),
        "reason": item.reason.name.lower(),
        "rule": item.rule,
        "signer": item.signer,
        "before": item.before,
        "after": item.after,
        "text": item.text.value,
        "expired": item.expired.isoformat() if item.expired is not None else None,
    }


def render_json(plan: Restoration, written: Written | None, check: Report, *, dry_run: bool) -> str:
    document = {
        "file": plan.file,
        "source": plan.source,
        "dry_run": dry_run,
        "written": written is not None,
        "backup": str(written.backup) if written is not None else None,
        "mode": f"{written.mode:04o}" if written is not None else None,
        "restored": [_item_dict(item) for item in plan.items],
        "warnings": [*plan.warnings, *(written.warnings if written is not None else ())],
        "ops_files": [{"name": name, "text": text} for name, text in plan.ops_files],
        "check": json.loads(json_reporter.render(check)),
        "next": next_step(plan),
    }
    return json.dumps(document, indent=2) + "\n"
