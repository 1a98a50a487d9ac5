"""What the engine says itself, in its decision step, after the rules ran: a change that no rule claims, an
allowance that matched nothing or expired, a configuration of the change under review that was not applied.

None of these is a rule: none reads a var-store. Each is a :class:`Definition`, like a rule, so that a
configuration sets its severity (or turns it off), an allowance names it, and ``docs/rules.md``, ``--list-rules``
and ``--explain`` describe it. The engine turns what they return into findings as it does with hits.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from datetime import date

from creds_lint.allowances import Use
from creds_lint.diff import Changes
from creds_lint.findings import WITHHELD, ConfigurationChange, Severity
from creds_lint.model import field_label
from creds_lint.rules.base import Definition, Hit

UNEXPLAINED_CHANGE = Definition(
    code="CL399",
    name="unexplained-change",
    severity=Severity.ERROR,
    summary="A secret changed or disappeared in a way no other rule recognises.",
    rationale=(
        "creds-lint never gives an all-clear it cannot back: a removed or changed variable that no other rule "
        "reported on (an odd shape, a field edited by hand) is flagged so that a person looks at it."
    ),
    remedy="Review the change by hand; restore the old value if it was not intended, or allow it.",
)


def unclaimed(changes: Changes, claimed: Set[str]) -> Iterator[Hit]:
    """The engine's invariant: every change is claimed by some rule. Each change of a variable outside
    ``claimed`` is an ``unexplained-change``, named by its fields (an unknown field by its name's fingerprint)."""
    for change in changes:
        if change.name in claimed:
            continue
        entry = change.new or change.old
        assert entry is not None
        fields = ", ".join(
            field_label(f) for f in change.changed_fields + change.added_fields + change.removed_fields if f != "root"
        )
        yield Hit(
            variable=change.name,
            line=change.new.line if change.new else None,
            old_line=change.old.line if change.old else None,
            message=(
                f"{change.name} {change.kind.value}"
                + (f" ({fields})" if fields else "")
                + f" ({entry.fingerprint}): no rule recognises this change; review it by hand."
            ),
        )


UNUSED_ALLOWANCE = Definition(
    code="CL610",
    name="unused-allowance",
    severity=Severity.WARNING,
    summary="An allowance matched no finding: the change it was written for is gone, or it changed since.",
    rationale=(
        "An allowance is a statement about one change. Left in the configuration after that change was committed, "
        "it would silently allow the next change of the same variable; reporting it gets stale allowances cleaned "
        "up. With a ``fingerprint``, an allowance only covers the value it was written for: a later, different "
        "change of the variable is reported as usual, and this rule says which fingerprint it has now."
    ),
    remedy=(
        "Remove the allowance once the change it was written for is committed. If the fingerprint differs, the "
        "variable changed again: review the new change before allowing it with the new fingerprint."
    ),
)

EXPIRED_ALLOWANCE = Definition(
    code="CL611",
    name="expired-allowance",
    severity=Severity.WARNING,
    summary="An allowance is past its expiry date and no longer applies.",
    rationale=(
        "``expires`` is the last day an allowance applies. After it, the findings it covered count again, so a "
        "temporary exception cannot become permanent by being forgotten."
    ),
    remedy="Remove the allowance, or give it a later expires date if the change is still deliberate.",
)

UNAPPLIED_CONFIGURATION = Definition(
    code="CL612",
    name="unapplied-configuration",
    severity=Severity.WARNING,
    summary=(
        "The change under review changes the configuration's rules, severities, var-store globs or "
        "classification: they were not applied, only its allowances."
    ),
    rationale=(
        "With ``--base``, the configuration comes from the base revision: a pull request cannot turn off, lower, "
        "reclassify or hide (``var-stores:``) the very change it makes. What else its configuration says is not "
        "applied to it, and silence would let the reviewer believe it was: this rule names the settings it changes, "
        "so that the configuration change is reviewed as what it is, a change of what creds-lint checks."
    ),
    remedy=(
        "Review the configuration change itself: it takes effect for the changes that follow once it is merged. "
        "If it must apply to this change, merge it first on its own."
    ),
)

#: The verdicts about the configuration itself: allowing their findings makes no sense.
ABOUT_ALLOWANCES: tuple[Definition, ...] = (UNUSED_ALLOWANCE, EXPIRED_ALLOWANCE, UNAPPLIED_CONFIGURATION)


def on_allowances(
    uses: Iterable[Use], unapplied: Iterable[ConfigurationChange], *, today: date
) -> Iterator[tuple[Definition, Hit]]:
    """What the decision step says about the allowances of one configuration file, once every file of the run
    was checked (``uses``: what each allowance did over the run), and about its settings that were not applied."""
    uses = tuple(uses)
    for use in uses:
        hit = _unused(use, today)
        if hit is not None:
            yield UNUSED_ALLOWANCE, hit
    for use in uses:
        hit = _expired(use, today)
        if hit is not None:
            yield EXPIRED_ALLOWANCE, hit
    for change in unapplied:
        applied = change.applied or "the built-in defaults"
        yield (
            UNAPPLIED_CONFIGURATION,
            Hit(
                variable=None,
                message=(
                    f"the change under review sets {', '.join(change.keys)} otherwise than the configuration in "
                    f"force ({applied}): not applied to this check, only its allowances; it takes effect once merged"
                ),
                details={"settings": ", ".join(change.keys), "applied": applied},
            ),
        )


def _unused(use: Use, today: date) -> Hit | None:
    allowance = use.allowance
    if use.matched or allowance.expired(today):
        return None
    if WITHHELD in use.missed:
        why = (
            f"the value of {allowance.variable} is too short or plain to be fingerprinted (its fingerprint is "
            "withheld, since one would give the value away): remove `fingerprint:` from the allowance, which "
            "then matches by rule and variable."
        )
    elif use.missed:
        why = (
            f"{allowance.subject} now has fingerprint {', '.join(use.missed)}, not {allowance.fingerprint}: "
            "the allowance was written for another value. Review this change before allowing it."
        )
    else:
        why = "remove it once the change it was written for is committed."
    return Hit(
        variable=allowance.variable,
        line=allowance.line,
        message=f"allowance for {allowance.label} matched no finding: {why}",
        details={"rule": allowance.rule, "reason": allowance.reason},
    )


def _expired(use: Use, today: date) -> Hit | None:
    allowance = use.allowance
    if allowance.expires is None or not allowance.expired(today):
        return None
    effect = (
        f"{allowance.rule} on {allowance.subject} is reported again"
        if use.missed
        else "remove it from the configuration"
    )
    return Hit(
        variable=allowance.variable,
        line=allowance.line,
        message=(
            f"allowance for {allowance.label} expired on {allowance.expires.isoformat()} and no longer applies: "
            f"{effect}."
        ),
        details={"rule": allowance.rule, "reason": allowance.reason, "expires": allowance.expires.isoformat()},
    )
