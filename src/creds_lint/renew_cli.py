"""``creds-lint renew``: arguments -> request -> renewal, checks and (unless ``--dry-run``) the write -> outcome.

The renewal itself is :mod:`creds_lint.renew` (plain functions of the store); the file is split and rewritten
block by block by :mod:`creds_lint.blocks` and written by :mod:`creds_lint.atomic` (atomic, with a backup, the
mode kept). Nothing is written when a refusal or a check says no. The outcome is rendered by
:mod:`creds_lint.reporters.renewal`.

Exit codes: 0 renewed (or nothing was selected); 1 refused, nothing written; 2 bad usage or input.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

from creds_lint import atomic, blocks, renew, x509
from creds_lint.errors import CredsLintError
from creds_lint.invocation import Parser
from creds_lint.loader import parse_store, read_file

EPILOG = """\
Renewal keeps each key pair, subject and subject key identifier and only extends the validity: every copy of the
old CA keeps verifying the renewed certificates until it is replaced by one ordinary deploy (docs/renew.md).

exit codes: 0 renewed (or nothing to renew); 1 refused, nothing written; 2 bad usage or a file that could not be
read. docs: docs/renew.md."""

#: The longest validity accepted for --days (bosh has no limit; a century is a typo).
MAX_DAYS = 36500


@dataclass(frozen=True, kw_only=True)
class Request:
    """What the arguments ask for (the request of a ``renew`` :class:`~creds_lint.invocation.Invocation`)."""

    command: ClassVar[str] = "renew"

    path: str
    selection: renew.Selection
    settings: renew.Settings
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
    written: atomic.Written | None = None

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
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
        "--now", metavar="TIME", type=_time, help="the current time, ISO 8601 (default: the clock; for planning)"
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


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time (e.g. 2027-06-01T12:00:00Z)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def request_from(argv: Sequence[str]) -> Request:
    """The request the arguments make; a contradiction is a usage error (:class:`UsageExit`, code 2)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    chosen = sum((bool(args.names), args.expiring is not None, args.everything))
    if chosen != 1:
        parser.error("say what to renew, in one way: NAME..., --expiring DAYS or --all")
    return Request(
        path=args.file,
        selection=renew.Selection(names=tuple(args.names), expiring=args.expiring, everything=args.everything),
        settings=renew.Settings(
            now=args.now or x509.now_utc(),
            days=args.days,
            durations=_durations(args.manifest),
            expired_ok=args.expired_ok,
            force=args.force,
        ),
        dry_run=args.dry_run,
        output=args.format,
    )


def _durations(paths: Sequence[str]) -> Mapping[str, int]:
    from creds_lint import manifest

    found = manifest.load(paths)
    if found is None:
        return MappingProxyType({})
    return MappingProxyType({d.name: d.duration for d in found.variables.values() if d.duration is not None})


def run(request: Request) -> Outcome:
    """Renew, check, and write (unless refused or a dry run). Raises
    :class:`~creds_lint.errors.CredsLintError` for bad input."""
    data = read_file(request.path)
    store = parse_store(data, source=request.path)
    if store.export is not None:
        raise CredsLintError(
            f"is a {store.export.value}: renew writes bosh var-stores only (an export is not read back by bosh, "
            "and `credhub import` of it would overwrite every credential)",
            source=request.path,
        )
    if store.seal is not None:
        raise CredsLintError(
            "is encrypted with sops: renew writes plaintext var-stores only (renew a decrypted copy kept in a safe "
            "place, then `sops set` the changed values, which keeps every other ciphertext)",
            source=request.path,
        )
    renewal = renew.renew(store, request.selection, request.settings)
    if renewal.refusals:
        return Outcome(path=request.path, renewal=renewal, dry_run=request.dry_run)
    if not renewal.edits:
        return Outcome(path=request.path, renewal=renewal, dry_run=request.dry_run)
    split = blocks.split(data, source=request.path)
    values = renew.apply(split.values(), renewal)
    edited = dict.fromkeys(edit.variable for edit in renewal.edits)
    applied = split.apply([blocks.Set(name=name, value=values[name]) for name in edited])
    renewed = parse_store(applied.data, source=request.path)
    problems = renew.verify(store, renewed, renewal, now=request.settings.now)
    if problems or request.dry_run:
        return Outcome(path=request.path, renewal=renewal, problems=problems, dry_run=request.dry_run)
    written = atomic.write(Path(request.path), before=data, after=applied.data)
    return Outcome(path=request.path, renewal=renewal, written=written)


def main(request: Request) -> int:
    """``creds-lint renew ...``: print the outcome, return the exit code (bad input raises, for the caller)."""
    import sys

    from creds_lint.reporters import renewal as reporter

    outcome = run(request)
    render = reporter.json if request.output == "json" else reporter.text
    sys.stdout.write(render(outcome))
    if outcome.refused:
        print(f"creds-lint: error: {request.path}: renewal refused; nothing written", file=sys.stderr)
    elif outcome.written is not None:
        for warning in outcome.written.warnings:
            print(f"creds-lint: warning: {warning}", file=sys.stderr)
    return outcome.exit_code
