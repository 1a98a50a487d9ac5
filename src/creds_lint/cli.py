"""Command line: argv -> invocation -> plan -> engine -> report -> reporter -> exit code. No logic of its own.

``creds-lint OLD NEW`` compares two versions of a var-store; ``creds-lint check FILE...`` audits files alone
(chain, key match, expiry, malformed values, duplicates) and lists their certificates, soonest expiry first;
``creds-lint diff`` shows what changed without a secret; ``creds-lint renew`` re-issues certificates in place;
``creds-lint restore`` puts back what bosh must not regenerate; ``creds-lint rotate`` plans a rotation and does
its steps.
Every command is parsed by :mod:`creds_lint.invocation` and runs on a :class:`~creds_lint.plan.Plan`;
:data:`COMMANDS` maps each request to its runner. ``main`` owns the process: it sets up the run
(:func:`creds_lint.process.run_scope`), and nothing below it exits.

Exit codes: 0 nothing reaches ``--fail-on``; 1 a finding does; 2 bad usage or input that could not be checked.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from creds_lint.errors import CredsLintError
from creds_lint.invocation import Diff, DiffMode, Explain, Invocation, ListRules, UsageExit, parse
from creds_lint.process import run_scope

if TYPE_CHECKING:
    from creds_lint.findings import Report
    from creds_lint.plan import Plan


def show(report: Report, plan: Plan) -> None:
    """The report on stdout in the plan's format, and each file that could not be checked on stderr."""
    from creds_lint.reporters import REPORTERS

    sys.stdout.write(REPORTERS[plan.format](report, plan.style))
    for error in report.errors:
        print(f"creds-lint: error: {error.file}: {error.message}", file=sys.stderr)


def run_lint(invocation: Invocation) -> int:
    """``lint`` and ``check``: the plan, the engine's report, the reporter, the exit code."""
    from creds_lint import engine
    from creds_lint.plan import ConfigurationError, build

    try:
        plan = build(invocation)
    except ConfigurationError as exc:  # a bad configuration or manifest: still a document for json and sarif
        configuration_failed(invocation, exc)
        return 2
    report = engine.run(plan)
    show(report, plan)
    return report.exit_code(plan.fail_on)


def configuration_failed(invocation: Invocation, error: CredsLintError) -> None:
    from creds_lint.allowances import COMMAND_LINE
    from creds_lint.findings import FileError, Report
    from creds_lint.origin import Origin
    from creds_lint.plan import presentation
    from creds_lint.reporters import REPORTERS, resolve
    from creds_lint.rules import CATALOGUE

    failed = FileError(file=Origin(path=error.source or COMMAND_LINE), message=error.message)
    report = Report(rules=CATALOGUE, errors=(failed,))
    sys.stdout.write(REPORTERS[resolve(invocation.output.format)](report, presentation(invocation.output)))
    print(f"creds-lint: error: {error}", file=sys.stderr)


def run_diff(invocation: Invocation) -> int:
    """``diff``: redacted views of the plan's one target, its variables named under the configuration. The git
    modes never fail (git would abort the whole diff): what cannot be read is a note, and the exit code 0."""
    from creds_lint import redacted
    from creds_lint.plan import ConfigurationError, build

    request = invocation.request
    assert isinstance(request, Diff)
    git_mode = request.mode is not DiffMode.FILES
    try:
        plan = build(invocation)
    except ConfigurationError as exc:
        if not git_mode:
            raise
        sys.stdout.write(redacted.note(exc))
        return 0
    (target,) = plan.targets
    classifier = plan.options.classifier
    if request.mode is DiffMode.TEXTCONV:
        assert target.new is not None
        sys.stdout.write(redacted.textconv(target.new, classifier))
    elif request.mode is DiffMode.EXTERNAL:
        sys.stdout.write(redacted.external(target, classifier))
    else:
        assert target.old is not None
        assert target.new is not None
        old, new = (redacted.load(source) for source in (target.old, target.new))
        sys.stdout.write(redacted.diff(old, new, classifier))
    return 0


def run_explain(invocation: Invocation) -> int:
    """``--explain RULE``: a rule's page."""
    from creds_lint.reporters.text import explain as explain_rule
    from creds_lint.rules import ALL_RULES, info

    request = invocation.request
    assert isinstance(request, Explain)
    found = info(request.rule)
    if found is None:
        known = ", ".join(r.name for r in ALL_RULES)
        print(f"creds-lint: error: unknown rule {request.rule!r} (rules: {known})", file=sys.stderr)
        return 2
    sys.stdout.write(explain_rule(found))
    return 0


def run_list_rules(invocation: Invocation) -> int:
    """``--list-rules``: code, name, default severity and summary of every rule, one line each."""
    from creds_lint.rules import CATALOGUE

    assert isinstance(invocation.request, ListRules)
    width = max(len(r.name) for r in CATALOGUE)
    for r in CATALOGUE:
        sys.stdout.write(f"{r.code}  {r.name.ljust(width)}  {r.severity.value.ljust(7)}  {r.summary}\n")
    return 0


def run_renew(invocation: Invocation) -> int:
    """``renew``: re-issue certificates in place (docs/renew.md)."""
    from creds_lint import renew_cli
    from creds_lint.plan import build

    return renew_cli.main(build(invocation))


def run_rotate(invocation: Invocation) -> int:
    """``rotate``: plan a rotation and do its steps, each proven (docs/rotate.md)."""
    from creds_lint import rotate_cli
    from creds_lint.plan import build

    return rotate_cli.main(build(invocation))


def run_restore(invocation: Invocation) -> int:
    """``restore``: put back from SOURCE what bosh must not regenerate (docs/usage.md#restore)."""
    from creds_lint import restore_cli
    from creds_lint.plan import build

    return restore_cli.main(build(invocation))


#: The runner of each request, by the request's ``command`` (docs/architecture.md: how to add a command).
COMMANDS: Mapping[str, Callable[[Invocation], int]] = {
    "lint": run_lint,
    "check": run_lint,
    "diff": run_diff,
    "explain": run_explain,
    "list-rules": run_list_rules,
    "renew": run_renew,
    "restore": run_restore,
    "rotate": run_rotate,
}


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
    except BrokenPipeError:  # `creds-lint ... | head`: the reader has gone; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:  # never a traceback: it could quote a secret
        print(f"creds-lint: internal error ({type(exc).__name__}); please report it", file=sys.stderr)
        return 2


def main(argv: Sequence[str] | None = None) -> int:
    """``creds-lint ARGS``: the exit code (argparse's usage errors, ``--help`` and ``--version`` included)."""
    for stream in (sys.stdout, sys.stderr):  # an ASCII-only terminal gets escapes, never an encoding error
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")
    try:
        invocation = parse(list(sys.argv[1:] if argv is None else argv))
    except UsageExit as exit_:
        return exit_.code
    runner = COMMANDS[invocation.request.command]
    with run_scope():
        return guarded(lambda: runner(invocation))
