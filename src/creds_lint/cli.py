"""Command line: arguments -> options -> lint -> report -> exit code. No logic of its own.

``creds-lint OLD NEW`` compares two versions of a var-store; ``creds-lint check FILE...`` audits files alone
(chain, key match, expiry, malformed values, duplicates) and lists their certificates, soonest expiry first.

Exit codes: 0 nothing reaches ``--fail-on``; 1 a finding does; 2 bad usage or input that could not be checked.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TextIO

from creds_lint import __version__
from creds_lint.errors import CredsLintError
from creds_lint.findings import FileError, Report, Severity
from creds_lint.origin import Origin
from creds_lint.process import run_scope
from creds_lint.reporters import FORMATS, REPORTERS, resolve
from creds_lint.reporters.style import Style

if TYPE_CHECKING:
    from creds_lint.config import Config, Configurations
    from creds_lint.engine import Options
    from creds_lint.sources import Target

USAGE = """\
creds-lint [options] OLD NEW
       creds-lint [options] [--rev REV] FILE...
       creds-lint [options] --staged [PATH...]
       creds-lint [options] --base REV [--head REV] [PATH...]
       creds-lint [options] --hook [PATH...]
       creds-lint check [options] FILE...
       creds-lint diff OLD NEW | --textconv FILE
       creds-lint renew FILE (NAME... | --expiring DAYS | --all) [--days N] [--dry-run]
       creds-lint restore FILE --from SOURCE [NAME...] [--with-dependents] [--as-rotation] [--dry-run]"""

EPILOG = """\
modes:
  OLD NEW          compare two files
  FILE             pre-flight: FILE on disk against its committed version at --rev (default HEAD); with
                   --rev, every FILE given is checked that way
  --staged         what the next commit changes: the index against HEAD, for PATHs or every staged var-store
  --base REV       what a pull request changes: --head (default HEAD) against where it forked from REV
  --hook           for pre-commit: the files it passes, staged, plus every staged var-store (by name)
  check FILE...    audit files alone: chains, key pairs, expiry, malformed values; list what expires when
  diff OLD NEW     show what changed without a secret: fingerprints, certificate metadata (no verdict, exit 0);
                   --textconv FILE and git's diff-driver arguments for `git diff` (docs/getting-started.md)
  renew FILE ...   re-issue certificates with the same keys, subjects and key identifiers and a new validity,
                   CAs first; checks everything before writing (docs/renew.md; `creds-lint renew --help`)
  restore FILE --from SOURCE
                   put back what bosh must not regenerate from SOURCE (a file or a git revision), atomically with
                   a backup; `creds-lint restore --help`
without PATHs, var-stores are recognised by name (--var-store-glob; default: creds.yml, *-creds.yml,
*_creds.yml, *.creds.yml, creds-*.yml, creds_*.yml, the same with credentials, *vars-store*.yml,
*vars_store*.yml, state/*vars*.yml, secrets/*vars*.yml, also .yaml), or by their content (a bosh var-store's).

exit codes: 0 no finding reaches --fail-on; 1 one does; 2 bad usage or a file that could not be checked.
docs: docs/usage.md, rules: docs/rules.md, or `creds-lint --explain RULE`."""

CHECK_EPILOG = """\
exit codes: 0 no finding reaches --fail-on; 1 one does; 2 bad usage or a file that could not be checked.
docs: docs/audit.md, rules: docs/rules.md, or `creds-lint --explain RULE`."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="creds-lint",
        description=(
            "Compare two versions of a BOSH var-store (creds.yml) and fail on changes that would make bosh "
            "regenerate encryption keys, CAs, key pairs or passwords."
        ),
        usage=USAGE,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="OLD NEW, a FILE to pre-flight, or the PATHs to check in a git mode"
    )
    add_git_options(parser)
    parser.add_argument(
        "--explain",
        metavar="RULE",
        help="print what a rule (name or code, e.g. CL201) checks, why it matters and how to fix it, then exit",
    )
    add_output_options(parser)
    add_decrypt_option(parser)
    parser.add_argument(
        "--all",
        dest="check_all",
        action="store_true",
        help="check the state of every entry of NEW, not only those that changed",
    )
    parser.add_argument("--version", action="version", version=f"creds-lint {__version__}")
    return parser


def build_check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="creds-lint check",
        description=(
            "Audit BOSH var-stores on their own: certificate chains, key pairs, expiry, malformed and duplicated "
            "values. Lists every certificate with its signer and expiry date, soonest first."
        ),
        epilog=CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", metavar="FILE", nargs="+", help="a var-store to audit (e.g. creds.yml)")
    add_output_options(parser)
    add_decrypt_option(parser)
    parser.set_defaults(check_all=True, var_store_globs=None)
    return parser


def add_decrypt_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--decrypt",
        action="store_true",
        help=(
            "sops files: decrypt them with `sops decrypt` (on PATH, with your keys; in memory only) instead of "
            "comparing their ciphertexts (docs/encrypted.md)"
        ),
    )


def add_git_options(parser: argparse.ArgumentParser) -> None:
    git = parser.add_argument_group("git")
    mode = git.add_mutually_exclusive_group()
    mode.add_argument("--staged", action="store_true", help="check the index against HEAD (the next commit)")
    mode.add_argument("--base", metavar="REV", help="check what changed since the head forked from REV (pull requests)")
    mode.add_argument("--hook", action="store_true", help="pre-commit hook mode (see .pre-commit-hooks.yaml)")
    git.add_argument("--head", metavar="REV", help="with --base: the head revision (default: HEAD, the commit)")
    git.add_argument("--rev", metavar="REV", help="pre-flight: compare FILE on disk with its version at REV")
    git.add_argument(
        "--var-store-glob",
        dest="var_store_globs",
        action="append",
        metavar="GLOB",
        help="a var-store's file name pattern, matched against the end of a path; repeat for several (replaces "
        "the default list and the configuration's var-stores)",
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="auto",
        help="output format; auto: github inside GitHub Actions (GITHUB_ACTIONS=true), text elsewhere (default: auto)",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output; auto: when stdout is a terminal and NO_COLOR is not set (default: auto)",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="show only the errors that fail the run, and nothing when clean"
    )
    parser.add_argument(
        "--suggest-allow",
        action="store_true",
        help=(
            "text output: also print ready-to-paste allow: entries for destructive findings (removed or "
            "regenerated keys, CAs, passwords); by default only how to restore the old values"
        ),
    )
    parser.add_argument(
        "--fail-on",
        type=_severity,
        default=None,
        metavar="{error,warning,info}",
        help="lowest severity that makes the run fail with exit code 1 (default: error)",
    )
    parser.add_argument(
        "--expiry-days",
        type=_expiry_days,
        default=None,
        metavar="N",
        help="warn about certificates that expire within N days (default: 30)",
    )
    add_config_options(parser)


def _severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _expiry_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    from creds_lint import config

    problem = config.expiry_days_problem(days)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return days


def add_config_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("configuration (docs/configuration.md; flags override the file)")
    group.add_argument(
        "--config",
        metavar="PATH",
        help="read this configuration file (default: .creds-lint.yml or pyproject.toml found above the checked file)",
    )
    group.add_argument("--no-config", action="store_true", help="ignore every configuration file")
    group.add_argument(
        "--severity",
        action="append",
        default=[],
        metavar="RULE=LEVEL",
        help="set a rule's severity (error, warning, info, or off); repeatable",
    )
    group.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="RULE:VARIABLE",
        help="allow one deliberate change for this run (reported as allowed, never fails); repeatable",
    )
    group.add_argument(
        "--manifest",
        action="append",
        default=[],
        metavar="FILE",
        help=(
            "a BOSH manifest (as `bosh int` prints it) or its variables list: compare the var-store with the "
            "declarations and say what bosh will generate; repeatable"
        ),
    )


def configurations_from(args: argparse.Namespace, paths: Sequence[str]) -> Configurations:
    """Where each var-store's configuration comes from, the flags applied: the disk, the index (``--staged``,
    ``--hook``), or the base revision with the head's allowances (``--base``, and the hook given a range)."""
    from creds_lint import config

    flags = config.from_flags(
        fail_on=args.fail_on,
        expiry_days=args.expiry_days,
        severities=args.severity,
        allow=args.allow,
        var_stores=args.var_store_globs,
        manifests=args.manifest,
    )
    explicit, disabled = args.config, args.no_config and args.config is None
    from creds_lint import targets

    refs = (args.base, args.head or "HEAD") if getattr(args, "base", None) is not None else None
    hook = getattr(args, "hook", False)
    if hook:
        refs = targets.hook_range()
    if refs is not None or getattr(args, "staged", False) or hook:
        from creds_lint.git import Repo

        repo = Repo.discover()
        if refs is not None:
            return config.in_range(repo, base=refs[0], head=refs[1], flags=flags, explicit=explicit, disabled=disabled)
        return config.in_index(repo, flags=flags, explicit=explicit, disabled=disabled)
    start = config.start_directory(paths[-1:])
    return config.on_disk(flags=flags, explicit=explicit, disabled=disabled, start=start)


def options_from(args: argparse.Namespace, settings: Config) -> Options:
    from creds_lint import manifest
    from creds_lint.engine import Options

    return Options(
        check_all=args.check_all,
        expiry_days=settings.expiry_days if settings.expiry_days is not None else Options.expiry_days,
        classifier=settings.classifier,
        severities=settings.severities,
        allowances=settings.allow,
        manifest=manifest.load(settings.manifests),
        decrypt=args.decrypt,
    )


def _git_mode(args: argparse.Namespace) -> bool:
    """Whether the arguments ask for a git mode explicitly (two bare paths are OLD NEW, one is a pre-flight)."""
    return bool(args.staged or args.hook or args.base is not None or args.rev is not None)


def usage_error(args: argparse.Namespace) -> str | None:
    """What is wrong with a combination of arguments that argparse cannot express, or ``None``."""
    if args.head is not None and args.base is None:
        return "--head needs --base"
    if args.rev is not None and (args.staged or args.base is not None or args.hook):
        return "--rev is for a pre-flight on FILEs; with --staged, --base or --hook it has no meaning"
    if not _git_mode(args) and len(args.paths) not in (1, 2):
        return "give OLD NEW, a FILE to pre-flight, or a mode (--staged, --base REV, --hook)"
    if args.rev is not None and not args.paths:
        return "--rev needs at least one FILE"
    return None


def targets_from(args: argparse.Namespace, configurations: Configurations) -> list[Target]:
    """The targets of the mode the arguments select (see :mod:`creds_lint.targets` for the git modes)."""
    from creds_lint.sources import Source, Target

    paths: list[str] = args.paths
    if not _git_mode(args) and len(paths) == 2:
        return [Target(old=Source.file(paths[0]), new=Source.file(paths[1]))]
    from creds_lint import targets

    def globs(path: str) -> Sequence[str]:
        return configurations.globs(path) or targets.DEFAULT_VAR_STORE_GLOBS

    if args.hook:
        return targets.hook_targets(paths, globs=globs)
    if args.staged:
        return targets.staged_targets(paths or None, globs=globs)
    if args.base is not None:
        return targets.range_targets(args.base, args.head, paths or None, globs=globs)
    return targets.preflight_targets(paths, rev=args.rev or "HEAD")


def per_target(
    args: argparse.Namespace, configurations: Configurations, targets: Sequence[Target]
) -> tuple[list[Config], list[Options]]:
    """The configuration and options of each target: those found from the target's directory (in the git modes a
    target is labelled by its path from the top of the work tree, on disk by its path). The first configuration
    is the run's own (the top's when there is no target)."""
    in_git = bool(getattr(args, "staged", False) or getattr(args, "hook", False) or getattr(args, "base", None))
    found = [
        configurations.for_file(t.origin.path) if in_git else configurations.for_disk(t.origin.path) for t in targets
    ]
    used: list[Config] = []
    made: list[Options] = []
    for settings in found or [configurations.at("")]:
        if settings not in used:
            used.append(settings)
            made.append(options_from(args, settings))
    return used, [made[used.index(settings)] for settings in found]


def use_color(choice: str, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """``always``/``never`` as said; ``auto``: a terminal, unless ``NO_COLOR`` is set to anything non-empty."""
    if choice != "auto":
        return choice == "always"
    return not environ.get("NO_COLOR") and stream.isatty()


def style_from(args: argparse.Namespace) -> Style:
    return Style(
        color=use_color(args.color, sys.stdout, os.environ), quiet=args.quiet, suggest_allow=args.suggest_allow
    )


def explain(key: str) -> int:
    from creds_lint.reporters.text import explain as explain_rule
    from creds_lint.rules import ALL_RULES, info

    found = info(key)
    if found is None:
        known = ", ".join(r.name for r in ALL_RULES)
        print(f"creds-lint: error: unknown rule {key!r} (rules: {known})", file=sys.stderr)
        return 2
    sys.stdout.write(explain_rule(found))
    return 0


def guarded(command: Callable[[], int]) -> int:
    """Run a command: a :class:`CredsLintError` becomes one line on stderr and exit 2; nothing ever shows a
    traceback (it could quote a secret)."""
    try:
        return command()
    except CredsLintError as exc:
        print(f"creds-lint: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback: it could quote a secret
        print(f"creds-lint: internal error ({type(exc).__name__}); please report it", file=sys.stderr)
        return 2


def configuration_error(args: argparse.Namespace, exc: CredsLintError) -> int:
    """A configuration or manifest that cannot be read: a report with the error (json and sarif stay documents),
    one line on stderr, exit 2."""
    from creds_lint.rules import CATALOGUE

    report = Report(
        rules=CATALOGUE, errors=(FileError(file=Origin(path=exc.source or "command line"), message=exc.message),)
    )
    sys.stdout.write(REPORTERS[resolve(args.format)](report, style_from(args)))
    print(f"creds-lint: error: {exc}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["diff"]:
        from creds_lint import redacted

        return guarded(lambda: redacted.main(argv[1:]))
    if argv[:1] == ["renew"]:
        from creds_lint import renew_cli

        return guarded(lambda: renew_cli.main(argv[1:]))
    if argv[:1] == ["restore"]:
        from creds_lint import restore_cli

        with run_scope():
            return guarded(lambda: restore_cli.main(argv[1:]))
    audit = argv[:1] == ["check"]
    if audit:
        args = build_check_parser().parse_args(argv[1:])
        paths: list[str] = args.files
    else:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.explain is not None:
            return explain(args.explain)
        problem = usage_error(args)
        if problem is not None:
            parser.error(problem)
        paths = args.paths

    def run() -> int:
        from creds_lint.config import fail_on_of, note_of
        from creds_lint.engine import check
        from creds_lint.sources import Source, Target

        try:
            configurations = configurations_from(args, paths)
        except CredsLintError as exc:  # a bad configuration: still a document for json and sarif
            return configuration_error(args, exc)
        targets = [Target(new=Source.file(path)) for path in paths] if audit else targets_from(args, configurations)
        try:
            used, each = per_target(args, configurations, targets)
        except CredsLintError as exc:  # a bad configuration or manifest
            return configuration_error(args, exc)
        options = dataclasses.replace(options_from(args, used[0]), unapplied=configurations.ignored)
        report = check(targets, options, per_target=each)
        report = dataclasses.replace(report, configuration=note_of(used))
        sys.stdout.write(REPORTERS[resolve(args.format)](report, style_from(args)))
        for error in report.errors:
            print(f"creds-lint: error: {error.file}: {error.message}", file=sys.stderr)
        return report.exit_code(fail_on_of(used))

    with run_scope():
        return guarded(run)
