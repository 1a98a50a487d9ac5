"""argv -> :class:`Invocation`: the command line parsed once into a typed, immutable value.

Every subcommand (``lint``, the default; ``check``; ``diff``; ``--explain``) is parsed here and nowhere else;
no ``argparse.Namespace`` leaves this module. A parser never exits the process: ``--help``, ``--version`` and
usage errors raise :class:`UsageExit` with the exit code, and :func:`creds_lint.cli.main` returns it.
To add a command: a request dataclass, its parser in :data:`SUBCOMMANDS`, and its runner in ``cli.COMMANDS``
(docs/architecture.md).
"""

from __future__ import annotations

import argparse
import difflib
import enum
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn, TypeAlias

from creds_lint import __version__
from creds_lint.findings import Severity
from creds_lint.helptext import Formatter
from creds_lint.origin import STDIN_ARGUMENT
from creds_lint.reporters import FORMATS


class UsageExit(Exception):
    """argparse asked to end the run (``--help``, ``--version``, a usage error, already printed): ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageExit` instead of calling ``sys.exit``, takes no abbreviated
    option (``--stage`` must not mean ``--staged``), says a usage error in one line, and wraps its help to the
    terminal (:class:`Formatter`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401 - argparse's own signature
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, sys.stderr)
        raise UsageExit(status)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (try '{self.prog} --help')\n")


class Color(enum.Enum):
    """``--color``: ``auto`` colours a terminal unless ``NO_COLOR`` is set."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True, kw_only=True)
class Output:
    """How the report is shown (``--format``, ``--color``, ``--quiet``, ``--verbose``, ``--suggest-allow``)."""

    format: str = "auto"
    color: Color = Color.AUTO
    quiet: bool = False
    verbose: bool = False
    suggest_allow: bool = False


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The flags that override the configuration file (docs/configuration.md), as given, and ``--decrypt``."""

    config: str | None = None
    no_config: bool = False
    fail_on: Severity | None = None
    expiry_days: int | None = None
    severities: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    manifests: tuple[str, ...] = ()
    var_store_globs: tuple[str, ...] | None = None
    decrypt: bool = False
    #: ``--now``: the time to check at (``None``: the clock, read once by the plan).
    now: datetime | None = None


class Mode(enum.Enum):
    """Which two versions of which var-stores ``creds-lint`` compares (docs/git.md)."""

    FILES = "OLD NEW"
    PREFLIGHT = "pre-flight"
    STAGED = "staged"
    RANGE = "range"
    HOOK = "hook"


@dataclass(frozen=True, kw_only=True)
class Lint:
    """``creds-lint [options] ...``: compare versions. ``paths`` are OLD NEW, FILEs to pre-flight, or the PATHs
    of a git mode; ``rev`` is the pre-flight's revision, ``base``/``head`` the range's."""

    command: ClassVar[str] = "lint"
    mode: Mode
    paths: tuple[str, ...]
    rev: str | None = None
    base: str | None = None
    head: str | None = None
    check_all: bool = False


@dataclass(frozen=True, kw_only=True)
class Audit:
    """``creds-lint check FILE...``: audit files alone."""

    command: ClassVar[str] = "check"
    files: tuple[str, ...]


class DiffMode(enum.Enum):
    FILES = "OLD NEW"
    TEXTCONV = "textconv"
    EXTERNAL = "git external diff"


@dataclass(frozen=True, kw_only=True)
class Diff:
    """``creds-lint diff``: OLD NEW, ``--textconv FILE``, or git's 7 (9 for a rename) diff-driver arguments."""

    command: ClassVar[str] = "diff"
    mode: DiffMode
    files: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Explain:
    """``creds-lint --explain RULE``."""

    command: ClassVar[str] = "explain"
    rule: str


@dataclass(frozen=True, kw_only=True)
class ListRules:
    """``creds-lint --list-rules``: every rule, one line each."""

    command: ClassVar[str] = "list-rules"


@dataclass(frozen=True, kw_only=True)
class Restore:
    """``creds-lint restore FILE --from SOURCE [NAME...]``: put entries back into FILE from SOURCE (a file, or a
    git revision of FILE); ``names`` empty: what the check flags as removed or regenerated (docs/usage.md)."""

    command: ClassVar[str] = "restore"
    file: str
    source: str
    names: tuple[str, ...] = ()
    with_dependents: bool = False
    as_rotation: bool = False
    dry_run: bool = False
    force: bool = False
    #: For a CredHub export: the import file to write (the export itself is not changed).
    import_file: str | None = None


if TYPE_CHECKING:
    from creds_lint.renew_cli import Request as Renew
    from creds_lint.rotate_cli import Request as Rotate

#: What a command line asks for; each kind names its runner in ``cli.COMMANDS`` by ``command``.
Request: TypeAlias = "Lint | Audit | Diff | Explain | ListRules | Restore | Renew | Rotate"


@dataclass(frozen=True, kw_only=True)
class Invocation:
    """One command line: what to do (``request``), the configuration flags, and how to show the result."""

    request: Request
    settings: Settings = field(default_factory=Settings)
    output: Output = field(default_factory=Output)


USAGE = """\
creds-lint [options] OLD NEW
       creds-lint [options] [--rev REV] FILE...
       creds-lint [options] --staged [PATH...]
       creds-lint [options] --base REV [--head REV] [PATH...]
       creds-lint [options] --hook [PATH...]
       creds-lint check [options] FILE...
       creds-lint diff OLD NEW | --textconv FILE
       creds-lint renew FILE (NAME... | --expiring DAYS | --all) [--days N] [--dry-run]
       creds-lint restore FILE --from SOURCE [NAME...] [--with-dependents] [--as-rotation] [--dry-run]
       creds-lint rotate plan FILE [--within DAYS] | leaf FILE (NAME... | --expiring DAYS)
       creds-lint rotate ca NAME FILE --stage add|remove|cleanup | password NAME FILE"""

EPILOG = """\
modes:
  OLD NEW          compare two files; either may be - (standard input)
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
                   a backup; for a CredHub export, --import-file OUT for `credhub import -f OUT` (docs/credhub.md);
                   `creds-lint restore --help`
  rotate STEP ...  plan a rotation (plan) and do its steps (leaf, ca, password), each step's diff proven;
                   `creds-lint rotate --help`, docs/rotate.md
without PATHs, var-stores are recognised by name (--var-store-glob; default: creds.yml, *-creds.yml,
*_creds.yml, *.creds.yml, creds-*.yml, creds_*.yml, the same with credentials, *vars-store*.yml,
*vars_store*.yml, state/*vars*.yml, secrets/*vars*.yml, also .yaml), or by their content (a bosh var-store's).

exit codes: 0 no finding reaches --fail-on; 1 one does; 2 bad usage or a file that could not be checked.
docs: docs/usage.md, rules: docs/rules.md, or `creds-lint --explain RULE`."""

CHECK_EPILOG = """\
exit codes: 0 no finding reaches --fail-on; 1 one does; 2 bad usage or a file that could not be checked.
docs: docs/audit.md, rules: docs/rules.md, or `creds-lint --explain RULE`."""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="creds-lint",
        description=(
            "Compare two versions of a BOSH var-store (creds.yml) and fail on changes that would make bosh "
            "regenerate encryption keys, CAs, key pairs or passwords."
        ),
        usage=USAGE,
        epilog=EPILOG,
    )
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="OLD NEW (either may be -, standard input), a FILE to pre-flight, or the PATHs to check in a git mode",
    )
    add_git_options(parser)
    parser.add_argument(
        "--explain",
        metavar="RULE",
        help="print what a rule (name or code, e.g. CL201) checks, why it matters and how to fix it, then exit",
    )
    add_output_options(parser)
    add_decrypt_option(parser)
    add_clock_option(parser)
    parser.add_argument(
        "--all",
        dest="check_all",
        action="store_true",
        help="check the state of every entry of NEW, not only those that changed",
    )
    parser.add_argument(
        "--list-rules", action="store_true", help="list every rule: code, name, default severity, summary; then exit"
    )
    parser.add_argument("-V", "--version", action="version", version=f"creds-lint {__version__}")
    return parser


def build_check_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="creds-lint check",
        usage="creds-lint check [options] FILE...",
        description=(
            "Audit BOSH var-stores on their own: certificate chains, key pairs, expiry, malformed and duplicated "
            "values. Lists every certificate with its signer and expiry date, soonest first."
        ),
        epilog=CHECK_EPILOG,
    )
    parser.add_argument(
        "files", metavar="FILE", nargs="+", help="a var-store to audit (e.g. creds.yml; - reads standard input)"
    )
    add_output_options(parser)
    add_decrypt_option(parser)
    add_clock_option(parser)
    parser.set_defaults(check_all=True, var_store_globs=None)
    return parser


def add_color_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help=(
            "colour the text output; auto: when stdout is a terminal, or FORCE_COLOR or CLICOLOR_FORCE is set, and "
            "NO_COLOR is not (default: auto)"
        ),
    )
    parser.add_argument(
        "--no-color", dest="color", action="store_const", const="never", help="the same as --color never"
    )


def parse_time(text: str) -> datetime:
    """``--now TIME``: an ISO 8601 time; without a zone, UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time (e.g. 2027-06-01T12:00:00Z)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def add_clock_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--now",
        metavar="TIME",
        type=parse_time,
        help="check as if it were TIME, ISO 8601 (default: the clock): what has expired, what expires within "
        "--expiry-days, days left",
    )


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
        help="a var-store's path pattern (a gitignore glob, from the top of the work tree); repeat for several "
        "(replaces the default list and the configuration's var-stores)",
    )


def add_output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="auto",
        help="output format; auto: github inside GitHub Actions (GITHUB_ACTIONS=true), text elsewhere (default: auto)",
    )
    add_color_options(parser)
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="show only the errors that fail the run, and nothing when clean"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="text output: list the info findings too (default: one count line)"
    )
    parser.add_argument(
        "--suggest-allow",
        action="store_true",
        help=(
            "text output: also print ready-to-paste allow: entries for destructive findings (removed or "
            "regenerated keys, CAs, passwords) and expiring certificates; by default only how to restore the old "
            "values or renew the certificates"
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
    group = parser.add_argument_group("configuration", "flags override the file (docs/configuration.md)")
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


def build_diff_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="creds-lint diff",
        description=(
            "Show how a var-store changed without showing a secret: per variable added, removed or changed, with "
            "fingerprints of values and certificate subject, issuer, serial and validity instead of PEM."
        ),
        epilog=(
            "as git's diff driver it takes git's 7 (or 9) arguments: PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE "
            "NEW-HEX NEW-MODE. exit codes: 0 shown (whether or not anything changed); 2 a file could not be read "
            "when comparing two files. In git modes a file that cannot be read is a note in the output, exit 0."
        ),
    )
    parser.add_argument(
        "files",
        metavar="FILE",
        nargs="*",
        help="OLD NEW (either may be -, standard input), or git's diff-driver arguments",
    )
    parser.add_argument(
        "--textconv", metavar="FILE", help="print a redacted view of one var-store (for git's diff.*.textconv)"
    )
    group = parser.add_argument_group("configuration", "names variables as lint does (docs/configuration.md)")
    group.add_argument(
        "--config",
        metavar="PATH",
        help="read this configuration file (default: .creds-lint.yml or pyproject.toml found above the file)",
    )
    group.add_argument("--no-config", action="store_true", help="ignore every configuration file")
    return parser


#: What git passes as arguments to an external diff driver: 7, or 9 for a rename.
GIT_DIFF_ARGS = (7, 9)


def _output(args: argparse.Namespace) -> Output:
    return Output(
        format=args.format,
        color=Color(args.color),
        quiet=args.quiet,
        verbose=args.verbose,
        suggest_allow=args.suggest_allow,
    )


def _settings(args: argparse.Namespace) -> Settings:
    globs = getattr(args, "var_store_globs", None)
    return Settings(
        config=args.config,
        no_config=args.no_config,
        fail_on=args.fail_on,
        expiry_days=args.expiry_days,
        severities=tuple(args.severity),
        allow=tuple(args.allow),
        manifests=tuple(args.manifest),
        var_store_globs=tuple(globs) if globs is not None else None,
        decrypt=args.decrypt,
        now=getattr(args, "now", None),
    )


def _usage_error(args: argparse.Namespace) -> str | None:
    """What is wrong with a combination of arguments that argparse cannot express, or ``None``."""
    git_mode = bool(args.staged or args.hook or args.base is not None or args.rev is not None)
    if args.head is not None and args.base is None:
        return "--head needs --base"
    if args.rev is not None and (args.staged or args.base is not None or args.hook):
        return "--rev is for a pre-flight on FILEs; with --staged, --base or --hook it has no meaning"
    if not git_mode and len(args.paths) not in (1, 2):
        return "give OLD NEW, a FILE to pre-flight, or a mode (--staged, --base REV, --hook)"
    if args.rev is not None and not args.paths:
        return "--rev needs at least one FILE"
    return _stdin_problem(args.paths, git_mode=git_mode)


def _stdin_problem(paths: Sequence[str], *, git_mode: bool) -> str | None:
    stdin = paths.count(STDIN_ARGUMENT)
    if stdin and (git_mode or len(paths) != 2):
        return "- (standard input) is for OLD or NEW (creds-lint OLD NEW): a pre-flight and the git modes read files"
    if stdin == 2:
        return BOTH_STDIN
    return None


#: OLD and NEW both from standard input: there is one.
BOTH_STDIN = "OLD and NEW cannot both be - (standard input): give one of them as a file"


def refuse_stdin(parser: argparse.ArgumentParser, value: str | None, what: str) -> None:
    """A usage error when ``value`` is ``-``: for the files a command writes (``what``: which, and why)."""
    if value == STDIN_ARGUMENT:
        parser.error(f"{what}: give a path, not - (standard input)")


def _mode(args: argparse.Namespace) -> Mode:
    if args.hook:
        return Mode.HOOK
    if args.staged:
        return Mode.STAGED
    if args.base is not None:
        return Mode.RANGE
    if args.rev is None and len(args.paths) == 2:
        return Mode.FILES
    return Mode.PREFLIGHT


def parse_lint(argv: Sequence[str]) -> Invocation:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.explain is not None:
        return Invocation(request=Explain(rule=args.explain))
    if args.list_rules:
        return Invocation(request=ListRules())
    problem = _usage_error(args)
    if problem is not None:
        parser.error(problem)
    request = Lint(
        mode=_mode(args),
        paths=tuple(args.paths),
        rev=args.rev,
        base=args.base,
        head=args.head,
        check_all=args.check_all,
    )
    return Invocation(request=request, settings=_settings(args), output=_output(args))


def parse_check(argv: Sequence[str]) -> Invocation:
    parser = build_check_parser()
    args = parser.parse_args(argv)
    if args.files.count(STDIN_ARGUMENT) > 1:
        parser.error("- (standard input) can be read once: give it as one FILE at most")
    return Invocation(request=Audit(files=tuple(args.files)), settings=_settings(args), output=_output(args))


def parse_diff(argv: Sequence[str]) -> Invocation:
    parser = build_diff_parser()
    args = parser.parse_args(argv)
    files: tuple[str, ...] = tuple(args.files)
    settings = Settings(config=args.config, no_config=args.no_config)
    if args.textconv is not None:
        if files:
            parser.error("--textconv takes one file and no other argument")
        return Invocation(request=Diff(mode=DiffMode.TEXTCONV, files=(args.textconv,)), settings=settings)
    if len(files) in GIT_DIFF_ARGS:
        return Invocation(request=Diff(mode=DiffMode.EXTERNAL, files=files), settings=settings)
    if len(files) != 2:
        parser.error("give OLD NEW, --textconv FILE, or git's diff-driver arguments")
    if files == (STDIN_ARGUMENT, STDIN_ARGUMENT):
        parser.error(BOTH_STDIN)
    return Invocation(request=Diff(mode=DiffMode.FILES, files=files), settings=settings)


RESTORE_EPILOG = """\
SOURCE is a file, or a git revision (HEAD, HEAD~3, origin/main) meaning that revision's FILE.
Without NAME: what `creds-lint SOURCE FILE` flags as removed or regenerated among encryption keys, passwords and
other secrets, and rsa and ssh key pairs. Certificates and CAs are restored only when named.
A CredHub export (NEW_EXPORT --from OLD_EXPORT) is not rewritten: --import-file OUT writes only what to restore,
with the signers its ca_name needs, for `credhub import -f OUT` (docs/credhub.md).

exit codes: 0 written, planned (--dry-run) or nothing to restore; 2 refused or bad input (nothing written).
docs: docs/usage.md#restore, docs/incident.md"""


def build_restore_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="creds-lint restore",
        usage=(
            "creds-lint restore FILE --from SOURCE [NAME...] [--with-dependents] [--as-rotation] [--dry-run]\n"
            "       creds-lint restore NEW_EXPORT --from OLD_EXPORT [NAME...] --import-file OUT [--dry-run]"
        ),
        description=(
            "Put back, from an earlier version of a var-store, the entries that bosh must not regenerate: only "
            "their blocks change, the file is written atomically with a backup next to it."
        ),
        epilog=RESTORE_EPILOG,
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
    parser.add_argument(
        "--import-file",
        metavar="OUT",
        help="for a CredHub export: write what to restore (and the signers its ca_name needs) to OUT, mode 0600, "
        "for `credhub import -f OUT`; the export itself is not changed",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan and the check; write nothing")
    parser.add_argument("--force", action="store_true", help="restore a name even when its type changed")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    add_color_options(parser)
    add_config_options(parser)
    parser.set_defaults(fail_on=None, expiry_days=None, quiet=False, verbose=False, suggest_allow=False, decrypt=False)
    return parser


def parse_restore(argv: Sequence[str]) -> Invocation:
    parser = build_restore_parser()
    args = parser.parse_intermixed_args(list(argv))
    refuse_stdin(parser, args.file, "restore writes FILE in place")
    refuse_stdin(parser, args.source, "--from is a file or a git revision")
    refuse_stdin(parser, args.import_file, "--import-file writes OUT")
    request = Restore(
        file=args.file,
        source=args.source,
        names=tuple(args.names),
        with_dependents=args.with_dependents,
        as_rotation=args.as_rotation,
        dry_run=args.dry_run,
        force=args.force,
        import_file=args.import_file,
    )
    return Invocation(request=request, settings=_settings(args), output=_output(args))


def parse_renew(argv: Sequence[str]) -> Invocation:
    from creds_lint import renew_cli

    return renew_cli.invocation_from(argv)


def parse_rotate(argv: Sequence[str]) -> Invocation:
    from creds_lint import rotate_cli

    return rotate_cli.invocation_from(argv)


#: The subcommands by their first argument; anything else is ``lint`` (``creds-lint OLD NEW``).
SUBCOMMANDS: Mapping[str, Callable[[Sequence[str]], Invocation]] = {
    "check": parse_check,
    "diff": parse_diff,
    "renew": parse_renew,
    "restore": parse_restore,
    "rotate": parse_rotate,
}


def parse(argv: Sequence[str]) -> Invocation:
    """The invocation ``argv`` (without the program name) asks for; :class:`UsageExit` for help, version and
    usage errors (argparse has printed what to say)."""
    subcommand = SUBCOMMANDS.get(argv[0]) if argv else None
    if subcommand is not None:
        return subcommand(argv[1:])
    if argv and not argv[0].startswith("-") and not os.path.lexists(argv[0]):
        near = difflib.get_close_matches(argv[0], SUBCOMMANDS, n=1)
        if near:  # `creds-lint chek x.yml`: a typo of a command, not a file to pre-flight
            build_parser().error(f"unknown command '{argv[0]}' (did you mean 'creds-lint {near[0]}'?)")
    return parse_lint(argv)
