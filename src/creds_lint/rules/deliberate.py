"""Deliberate changes: variables declared disposable, and allowances that no longer do anything.

The allowance rules (``RUN_RULES``) run once per run, after every file was checked and the allowances applied:
their context has no var-store (its ``new`` is an empty store named after the configuration file) but the use of
each allowance in ``allowances``.
"""

from __future__ import annotations

from collections.abc import Iterator

from creds_lint.diff import ChangeKind
from creds_lint.findings import Severity
from creds_lint.rules.base import Category, Context, Hit, rule
from creds_lint.rules.describe import change_details, entry_details, what


@rule(
    code="CL601",
    name="disposable-changed",
    severity=Severity.INFO,
    summary="A variable declared disposable in the configuration was removed or changed (bosh regenerates it safely).",
    remedy="Nothing to do. Remove the variable from classify.disposable if something does depend on its value.",
)
def disposable_changed(ctx: Context) -> Iterator[Hit]:
    """Some variables are documented as safe to drop and regenerate — ``hm_password``,
    ``blobstore_director_password``, a local ``postgres_password`` — because bosh redeploys everything that uses
    them together. Listed under ``classify.disposable`` (never a CA or a certificate), their removal or new value
    is reported here, as information, instead of by ``removed-password`` or ``regenerated-password``."""
    for change in ctx.changes:
        if change.kind is ChangeKind.ADDED or ctx.change_category(change) is not Category.DISPOSABLE:
            continue
        old, new = change.old, change.new
        assert old is not None
        if new is None:
            yield Hit(
                variable=change.name,
                old_line=old.line,
                message=f"{what(ctx, old)} was removed: BOSH generates a new value on the next deploy, which is safe.",
                details=entry_details(ctx, old, prefix="old"),
            )
        else:
            yield Hit(
                variable=change.name,
                line=new.line,
                message=(
                    f"{what(ctx, new)} has a new value ({old.fingerprint} -> {new.fingerprint}): declared "
                    "disposable, so this is safe."
                ),
                details=change_details(ctx, old, new),
            )


@rule(
    code="CL610",
    name="unused-allowance",
    severity=Severity.WARNING,
    summary="An allowance matched no finding: the change it was written for is gone, or it changed since.",
    remedy=(
        "Remove the allowance once the change it was written for is committed. If the fingerprint differs, the "
        "variable changed again: review the new change before allowing it with the new fingerprint."
    ),
)
def unused_allowance(ctx: Context) -> Iterator[Hit]:
    """An allowance is a statement about one change. Left in the configuration after that change was
    committed, it would silently allow the next change of the same variable; reporting it gets stale allowances
    cleaned up. With a ``fingerprint``, an allowance only covers the value it was written for: a later, different
    change of the variable is reported as usual, and this rule says which fingerprint it has now."""
    for use in ctx.allowances:
        allowance = use.allowance
        if use.matched or allowance.expired(ctx.now.date()):
            continue
        if use.missed:
            why = (
                f"{allowance.variable} now has fingerprint {', '.join(use.missed)}, not {allowance.fingerprint}: "
                "the allowance was written for another value. Review this change before allowing it."
            )
        else:
            why = "remove it once the change it was written for is committed."
        yield Hit(
            variable=allowance.variable,
            line=allowance.line,
            message=f"allowance for {allowance.label} matched no finding: {why}",
            details={"rule": allowance.rule, "reason": allowance.reason},
        )


@rule(
    code="CL611",
    name="expired-allowance",
    severity=Severity.WARNING,
    summary="An allowance is past its expiry date and no longer applies.",
    remedy="Remove the allowance, or give it a later expires date if the change is still deliberate.",
)
def expired_allowance(ctx: Context) -> Iterator[Hit]:
    """``expires`` is the last day an allowance applies. After it, the findings it covered count again, so a
    temporary exception cannot become permanent by being forgotten."""
    today = ctx.now.date()
    for use in ctx.allowances:
        allowance = use.allowance
        if allowance.expires is None or not allowance.expired(today):
            continue
        effect = (
            f"{allowance.rule} on {allowance.variable} is reported again"
            if use.missed
            else "remove it from the configuration"
        )
        yield Hit(
            variable=allowance.variable,
            line=allowance.line,
            message=(
                f"allowance for {allowance.label} expired on {allowance.expires.isoformat()} and no longer applies: "
                f"{effect}."
            ),
            details={"rule": allowance.rule, "reason": allowance.reason, "expires": allowance.expires.isoformat()},
        )


RULES = (disposable_changed,)

#: Rules that run once per run, over the allowances.
RUN_RULES = (unused_allowance, expired_allowance)
