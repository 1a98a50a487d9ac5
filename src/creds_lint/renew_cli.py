"""``creds-lint renew``: arguments -> request -> renewal, checks and (unless ``--dry-run``) the write -> outcome.

The renewal itself is :mod:`creds_lint.renew` (plain functions of the store); the file is split and rewritten
block by block by :mod:`creds_lint.blocks` and written by :mod:`creds_lint.atomic` (atomic, with a backup, the
mode kept). Nothing is written when a refusal or a check says no. The outcome is rendered by
:mod:`creds_lint.reporters.renewal`.

Exit codes: 0 renewed (or nothing was selected); 1 refused, nothing written; 2 bad usage or input.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

from creds_lint import renew
from creds_lint.errors import CredsLintError
from creds_lint.invocation import Invocation, Parser, Settings, parse_time, refuse_stdin
from creds_lint.model import DEFAULT_CLASSIFIER, Classifier

if TYPE_CHECKING:
    from creds_lint.atomic import Written
    from creds_lint.plan import Plan

EPILOG = """\
Renewal keeps each key pair, subject and subject key identifier and only extends the validity: every copy of the
old CA keeps verifying the renewed certificates until it is replaced by one ordinary deploy (docs/renew.md).

exit codes: 0 renewed (or nothing to renew); 1 refused, nothing written; 2 bad usage or a file that could not be
read. docs: docs/renew.md."""

#: The longest validity accepted for --days (bosh has no limit; a century is a typo).
MAX_DAYS = 36500


@dataclass(frozen=True, kw_only=True)
class Request:
    """What the arguments ask for (the request of a ``renew`` :class:`~creds_lint.invocation.Invocation`).
    ``now``: the time given with ``--now`` (``None``: the plan's clock)."""

    command: ClassVar[str] = "renew"

    path: str
    selection: renew.Selection
    days: int | None = None
    now: datetime | None = None
    expired_ok: bool = False
    force: bool = False
    dry_run: bool = False
    output: str = "text"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What ``renew`` did: the renewal (or its refusals), the problems the checks before writing found, and the
    file written (``None`` for a dry run or a refusal)."""

    path: str
    renewal: renew.Renewal
    problems: tuple[str, ...] = ()
    dry_run: bool = False
    written: Written | None = None

    @property
    def refused(self) -> bool:
        return bool(self.renewal.refusals or self.problems)

    @property
    def exit_code(self) -> int:
        return 1 if self.refused else 0


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="creds-lint renew",
        description=(
            "Re-issue certificates of a BOSH var-store with the same keys, subjects and key identifiers and a new "
            "validity, CAs before what they signed; the trust fields follow. Checks everything before writing."
        ),
        usage="creds-lint renew FILE (NAME... | --expiring DAYS | --all) [--days N] [--now TIME] [--expired-ok] "
        "[--dry-run]",
        epilog=EPILOG,
    )
    parser.add_argument("file", metavar="FILE", help="the var-store to renew certificates in (e.g. creds.yml)")
    parser.add_argument("names", metavar="NAME", nargs="*", help="a certificate variable to renew")
    parser.add_argument(
        "--expiring", metavar="DAYS", type=_count(0), help="renew every certificate that expires within DAYS days"
    )
    parser.add_argument("--all", dest="everything", action="store_true", help="renew every certificate")
    parser.add_argument(
        "--days",
        metavar="N",
        type=_count(1),
        help="days of validity (default: the manifest's duration option with --manifest, else the old validity)",
    )
    parser.add_argument(
        "--manifest",
        action="append",
        default=[],
        metavar="FILE",
        help="a BOSH manifest (or its variables list): its duration options give the validity; repeatable",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="read this configuration file (default: .creds-lint.yml or pyproject.toml found above FILE): its "
        "variable names and --expiry-days shape the comparison checked before writing",
    )
    parser.add_argument("--no-config", action="store_true", help="ignore every configuration file")
    parser.add_argument(
        "--now", metavar="TIME", type=parse_time, help="the current time, ISO 8601 (default: the clock; for planning)"
    )
    parser.add_argument(
        "--expired-ok",
        action="store_true",
        help="renew a CA that has already expired (agents that hold its old copy then need `bosh recreate --fix`)",
    )
    parser.add_argument(
        "--force", action="store_true", help="renew a certificate whose key type bosh does not generate (not RSA)"
    )
    parser.add_argument("--dry-run", action="store_true", help="check everything and show the renewal; write nothing")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    return parser


def _count(least: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
        if not least <= value <= MAX_DAYS:
            raise argparse.ArgumentTypeError(f"{value} is not between {least} and {MAX_DAYS} days")
        return value

    return parse


def invocation_from(argv: Sequence[str]) -> Invocation:
    """The invocation the arguments make; a contradiction is a usage error (:class:`UsageExit`, code 2). Nothing
    is read here: the plan reads the configuration and the manifests."""
    parser = build_parser()
    args = parser.parse_args(argv)
    refuse_stdin(parser, args.file, "renew writes FILE in place")
    chosen = sum((bool(args.names), args.expiring is not None, args.everything))
    if chosen != 1:
        parser.error("say what to renew, in one way: NAME..., --expiring DAYS or --all")
    request = Request(
        path=args.file,
        selection=renew.Selection(names=tuple(args.names), expiring=args.expiring, everything=args.everything),
        days=args.days,
        now=args.now,
        expired_ok=args.expired_ok,
        force=args.force,
        dry_run=args.dry_run,
        output=args.format,
    )
    settings = Settings(config=args.config, no_config=args.no_config, manifests=tuple(args.manifest))
    return Invocation(request=request, settings=settings)


def settings_of(request: Request, plan: Plan) -> renew.Settings:
    """How to renew: the request's flags, the plan's clock (or ``--now``), the manifests' ``duration`` options."""
    declared = plan.options.manifest
    durations = (
        {} if declared is None else {d.name: d.duration for d in declared.variables.values() if d.duration is not None}
    )
    return renew.Settings(
        now=request.now or plan.now,
        days=request.days,
        durations=MappingProxyType(durations),
        expired_ok=request.expired_ok,
        force=request.force,
    )


def run(request: Request, settings: renew.Settings, *, classifier: Classifier = DEFAULT_CLASSIFIER) -> Outcome:
    """Renew, check, and write (unless refused or a dry run); ``classifier`` names the variables in the comparison
    checked before writing. Raises :class:`~creds_lint.errors.CredsLintError` for bad input."""
    from creds_lint import atomic, blocks, encrypted
    from creds_lint.loader import parse_store, read_file

    data = read_file(request.path)
    sealed = encrypted.detect(data) is encrypted.Cipher.SOPS
    if sealed:  # renewed on its plaintext, in memory; written back with one `sops set` per changed entry
        from creds_lint import sops

        plain = sops.plaintext(data, source=request.path)
    else:
        plain = data
    store = parse_store(plain, source=request.path)
    if store.export is not None:
        raise CredsLintError(
            f"is a {store.export.value}: renew writes bosh var-stores only (an export is not read back by bosh, "
            "and `credhub import` of it would overwrite every credential)",
            source=request.path,
        )
    renewal = renew.renew(store, request.selection, settings)
    if renewal.refusals:
        return Outcome(path=request.path, renewal=renewal, dry_run=request.dry_run)
    if not renewal.edits:
        return Outcome(path=request.path, renewal=renewal, dry_run=request.dry_run)
    split = blocks.split(plain, source=request.path)
    values = renew.apply(split.values(), renewal)
    edited = dict.fromkeys(edit.variable for edit in renewal.edits)
    applied = split.apply([blocks.Set(name=name, value=values[name]) for name in edited])
    renewed = parse_store(applied.data, source=request.path)
    problems = renew.verify(store, renewed, renewal, now=settings.now, classifier=classifier)
    if problems or request.dry_run:
        return Outcome(path=request.path, renewal=renewal, problems=problems, dry_run=request.dry_run)
    after = applied.data
    if sealed:
        from creds_lint import sops_write

        after = sops_write.restored(Path(request.path), before=data, plain_before=plain, plain_after=after)
    written = atomic.write(Path(request.path), before=data, after=after)
    return Outcome(path=request.path, renewal=renewal, written=written)


def main(plan: Plan) -> int:
    """``creds-lint renew ...`` on its plan: print the outcome, return the exit code (bad input raises, for the
    caller)."""
    import sys

    from creds_lint.reporters import renewal as reporter

    request = plan.invocation.request
    assert isinstance(request, Request)
    outcome = run(request, settings_of(request, plan), classifier=plan.options.classifier)
    render = reporter.json if request.output == "json" else reporter.text
    sys.stdout.write(render(outcome))
    if outcome.refused:
        print(f"creds-lint: error: {request.path}: renewal refused; nothing written", file=sys.stderr)
    elif outcome.written is not None:
        for warning in outcome.written.warnings:
            print(f"creds-lint: warning: {warning}", file=sys.stderr)
    return outcome.exit_code
