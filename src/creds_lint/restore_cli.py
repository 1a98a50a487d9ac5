"""``creds-lint restore FILE --from SOURCE [NAME...]``: the command around :func:`creds_lint.restore.plan`.

Reads FILE and SOURCE (a file, or a git revision read as the git modes read it: that revision's FILE), runs the
same check as ``creds-lint SOURCE FILE`` (the same configuration, classification and rules) to find what to
restore, plans, writes with :func:`creds_lint.atomic.write` (not with ``--dry-run``), checks SOURCE against the
result and prints it all. Exit codes: 0 written, planned (``--dry-run``) or nothing to restore; 2 refused or bad
input, nothing written.

Other stores (a CredHub export's ``--import-file``, sops' ``sops set``) plug in at :func:`write_result`: the plan
is theirs to write.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from creds_lint.errors import CredsLintError
from creds_lint.sources import Source, Target

if TYPE_CHECKING:
    from creds_lint.atomic import Written

EPILOG = """\
SOURCE is a file, or a git revision (HEAD, HEAD~3, origin/main) meaning that revision's FILE.
Without NAME: what `creds-lint SOURCE FILE` flags as removed or regenerated among encryption keys, passwords and
other secrets, and rsa and ssh key pairs. Certificates and CAs are restored only when named.

exit codes: 0 written, planned (--dry-run) or nothing to restore; 2 refused or bad input (nothing written).
docs: docs/usage.md#restore, docs/incident.md"""


def build_parser() -> argparse.ArgumentParser:
    from creds_lint import cli

    parser = argparse.ArgumentParser(
        prog="creds-lint restore",
        usage="creds-lint restore FILE --from SOURCE [NAME...] [--with-dependents] [--as-rotation] [--dry-run]",
        description=(
            "Put back, from an earlier version of a var-store, the entries that bosh must not regenerate: only "
            "their blocks change, the file is written atomically with a backup next to it."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", metavar="FILE", help="the var-store to restore entries into (e.g. creds.yml)")
    parser.add_argument(
        "--from", dest="source", required=True, metavar="SOURCE", help="a file, or a git revision of FILE"
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="the entries to restore (default: see below)")
    parser.add_argument(
        "--with-dependents",
        action="store_true",
        help="also restore what a regenerated CA that is restored signed since (without it, the restore is refused)",
    )
    parser.add_argument(
        "--as-rotation",
        action="store_true",
        help="for an encryption key CredHub may already have used: keep the new key active, write the old one "
        "as NAME_old and print the ops file that adds it as an inactive key",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan and the check; write nothing")
    parser.add_argument("--force", action="store_true", help="restore a name even when its type changed")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output; auto: when stdout is a terminal and NO_COLOR is not set (default: auto)",
    )
    cli.add_config_options(parser)
    parser.set_defaults(
        check_all=False,
        fail_on=None,
        expiry_days=None,
        var_store_globs=None,
        quiet=False,
        suggest_allow=False,
        decrypt=False,
    )
    return parser


def _cached(source: Source) -> Source:
    """The source read once: the check, the plan and the safe write all see the same bytes."""
    data = source.read()
    return dataclasses.replace(source, read=lambda: data)


def target_of(file: str, source: str) -> Target:
    """FILE on disk against SOURCE: a file when one exists at that path, else FILE at git revision SOURCE."""
    if not os.path.lexists(file):
        raise CredsLintError("no such file (to restore the whole file, use git checkout)", source=file)
    if os.path.lexists(source):
        return Target(new=_cached(Source.file(file)), old=_cached(Source.file(source)))
    from creds_lint import targets

    (found,) = targets.preflight_targets([file], rev=source)
    assert found.new is not None
    assert found.old is not None
    return Target(new=_cached(found.new), old=_cached(found.old))


def write_result(file: str, *, before: bytes, after: bytes) -> Written:
    """Write the restored store. A plain var-store is written block by block and atomically; a store that needs
    its own writer (a CredHub export, a sops file) is chosen here."""
    from creds_lint import atomic

    return atomic.write(Path(file), before=before, after=after)


def main(argv: Sequence[str]) -> int:
    """``creds-lint restore``; the caller (:func:`creds_lint.cli.main`) turns errors into one line and exit 2."""
    from creds_lint import blocks, cli, restore, x509
    from creds_lint.engine import check
    from creds_lint.loader import parse_store
    from creds_lint.reporters.restore import render_json, render_text

    args = build_parser().parse_intermixed_args(list(argv))
    configurations = cli.configurations_from(args, [args.file])
    target = target_of(args.file, args.source)
    used, each = cli.per_target(args, configurations, [target])
    now = x509.now_utc()
    options = dataclasses.replace(cli.options_from(args, used[0]), unapplied=configurations.ignored, now=now)
    each = [dataclasses.replace(o, now=now) for o in each]
    found = check([target], options, per_target=each)
    if found.errors:
        raise CredsLintError(found.errors[0].message, source=str(found.errors[0].file))
    assert target.new is not None
    assert target.old is not None
    file_data, source_data = target.new.read(), target.old.read()
    result = restore.plan(
        file=blocks.split(file_data, source=target.new.label),
        file_store=parse_store(file_data, source=target.new.label),
        source=blocks.split(source_data, source=target.old.label),
        source_store=parse_store(source_data, source=target.old.label),
        names=args.names,
        findings=found.findings,
        classifier=each[0].classifier,
        now=now,
        with_dependents=args.with_dependents,
        as_rotation=args.as_rotation,
        force=args.force,
    )
    written: Written | None = None
    if result.changes and not args.dry_run:
        written = write_result(args.file, before=file_data, after=result.after)
    after = Source(origin=target.new.origin, read=lambda: result.after, mode=target.new.mode)
    checked = check([Target(new=after, old=target.old)], options, per_target=each)
    if args.format == "json":
        sys.stdout.write(render_json(result, written, checked, dry_run=args.dry_run))
    else:
        style = dataclasses.replace(cli.style_from(args), quiet=False)
        sys.stdout.write(render_text(result, written, checked, dry_run=args.dry_run, style=style))
    return 0
