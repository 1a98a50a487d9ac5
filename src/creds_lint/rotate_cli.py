"""``creds-lint rotate plan|leaf|ca|password``: arguments -> request -> the rotation step, its proof and
(unless ``--dry-run``) the write -> outcome.

The request is parsed here and the run prepared by :mod:`creds_lint.plan` (FILE, the configuration of its folder,
the manifests, one clock), as for every command. The logic is :mod:`creds_lint.rotate` and
:mod:`creds_lint.rotate_ca` (plain functions of the store); a step that edits the store goes through
:mod:`creds_lint.blocks` (only the touched blocks change) and :mod:`creds_lint.atomic` (atomic, a backup, the mode
kept). Before anything is written, the store as it would be written is compared with the store as it was read
by creds-lint's own engine (:func:`creds_lint.rotate.prove`): a diff that is not exactly the step's writes
nothing. The outcome is rendered by :mod:`creds_lint.reporters.rotation`.

Exit codes: 0 done, planned or nothing to do; 1 refused, nothing written; 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from creds_lint import pki, rotate, rotate_ca
from creds_lint.errors import CredsLintError
from creds_lint.invocation import Invocation, Parser, Settings, parse_time, refuse_stdin
from creds_lint.model import Classifier, VarStore

if TYPE_CHECKING:  # the writing and reading modules are imported by the steps: `rotate --help` reads nothing
    from creds_lint import atomic, blocks
    from creds_lint.manifest import Manifest
    from creds_lint.plan import Plan

EPILOG = """\
  plan FILE        one row per variable: kind, expiry, who holds copies, the recommended action; the deadline,
                   the preconditions and the exact commands (read-only)
  leaf FILE ...    remove leaf certificates whose CA is in the store and unchanged, for bosh to re-issue them
  ca NAME FILE --stage add|remove|cleanup
                   the transitional rotation of a CA whose key must change: add writes the docs' ops file,
                   remove checks the store and writes the next one, cleanup promotes each _2 value itself
  password NAME FILE
                   credhub_encryption_password, blobstore_agent_password: rename to the documented old name

Every step that writes compares the store before and after with creds-lint's own engine and writes only when the
diff is exactly the step's; it writes atomically, keeping a backup and the file's mode.

exit codes: 0 done, planned or nothing to do; 1 refused, nothing written; 2 bad usage or a file that could not be
read. docs: docs/rotate.md."""


@dataclass(frozen=True, kw_only=True)
class Request:
    """What the arguments ask for (the request of a ``rotate`` :class:`~creds_lint.invocation.Invocation`).
    ``step`` is ``plan``, ``leaf``, ``ca`` or ``password``; ``variable`` the CA or password, ``stage`` the CA's."""

    command: ClassVar[str] = "rotate"

    step: str
    path: str
    now: datetime | None = None
    variable: str | None = None
    stage: str | None = None
    names: tuple[str, ...] = ()
    expiring: int | None = None
    within: int = rotate.DEFAULT_WITHIN
    dry_run: bool = False
    output: str = "text"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What a writing step did: what it chose (``leaves``), its refusals, the proof of its diff, and the file
    written (``None`` for a dry run, a refusal or a proof that failed)."""

    path: str
    step: str
    leaves: tuple[rotate.Leaf, ...] = ()
    refusals: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    proof: rotate.Proof | None = None
    dry_run: bool = False
    written: atomic.Written | None = None
    next_steps: tuple[str, ...] = ()
    #: What the step did, in one line (``ca`` and ``password``; ``leaf`` says it with its table).
    summary: str = ""
    #: Ops files written next to FILE (paths), and those printed for the operator to use.
    ops_written: tuple[str, ...] = ()
    ops_printed: tuple[rotate_ca.OpsFile, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        return bool(self.refusals) or (self.proof is not None and not self.proof.holds)

    @property
    def exit_code(self) -> int:
        return 1 if self.refused else 0


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if not 0 <= value <= 36500:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and 36500 days")
    return value


def _common(parser: argparse.ArgumentParser, *, manifest: bool = True) -> None:
    if manifest:
        parser.add_argument(
            "--manifest",
            action="append",
            default=[],
            metavar="FILE",
            help="a BOSH manifest (as `bosh int` prints it) or its variables list; repeatable",
        )
    parser.add_argument(
        "--now", metavar="TIME", type=parse_time, help="the current time, ISO 8601 (default: the clock; for planning)"
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="read this configuration file (default: .creds-lint.yml or pyproject.toml found above FILE): its "
        "classification names the variables, its manifests: are read",
    )
    parser.add_argument("--no-config", action="store_true", help="ignore every configuration file")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="creds-lint rotate",
        description=(
            "Plan the rotation of a BOSH var-store and do its steps, each proven: the diff of every step is "
            "exactly what the documented procedure expects, nothing else."
        ),
        epilog=EPILOG,
    )
    steps = parser.add_subparsers(dest="step", metavar="STEP", required=True)
    planned = steps.add_parser(
        "plan",
        help="what to rotate, how, by when, and the exact commands (read-only)",
        usage="creds-lint rotate plan FILE [--manifest M...] [--within DAYS] [--format text|json]",
    )
    planned.add_argument("file", metavar="FILE", help="the var-store (e.g. creds.yml)")
    planned.add_argument(
        "--within",
        metavar="DAYS",
        type=_days,
        default=rotate.DEFAULT_WITHIN,
        help=f"certificates expiring within DAYS days are due (default: {rotate.DEFAULT_WITHIN})",
    )
    planned.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    _common(planned)
    leaf = steps.add_parser(
        "leaf",
        help="remove leaf certificates under an unchanged CA, for bosh to re-issue them",
        usage="creds-lint rotate leaf FILE (NAME... | --expiring DAYS) [--manifest M...] [--dry-run]",
    )
    leaf.add_argument("file", metavar="FILE", help="the var-store (e.g. creds.yml)")
    leaf.add_argument("names", metavar="NAME", nargs="*", help="a leaf certificate to remove")
    leaf.add_argument("--expiring", metavar="DAYS", type=_days, help="every leaf that expires within DAYS days")
    leaf.add_argument("--dry-run", action="store_true", help="check and prove the step; write nothing")
    leaf.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    _common(leaf)
    ca = steps.add_parser(
        "ca",
        help="the transitional rotation of a CA whose key must change (_2 variables), stage by stage",
        usage="creds-lint rotate ca NAME FILE --stage add|remove|cleanup [--manifest M...] [--dry-run]",
    )
    ca.add_argument("variable", metavar="NAME", help="the CA (nats_ca, blobstore_ca; others from --manifest)")
    ca.add_argument("file", metavar="FILE", help="the var-store (e.g. creds.yml)")
    ca.add_argument("--stage", required=True, choices=[s.value for s in rotate_ca.Stage], help="the stage to do")
    ca.add_argument("--dry-run", action="store_true", help="check and prove the stage; write nothing")
    ca.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    _common(ca)
    password = steps.add_parser(
        "password",
        help="rename a password to its documented old name (credhub_encryption_password, blobstore_agent_password)",
        usage="creds-lint rotate password NAME FILE [--dry-run]",
    )
    password.add_argument("variable", metavar="NAME", help="credhub_encryption_password or blobstore_agent_password")
    password.add_argument("file", metavar="FILE", help="the var-store (e.g. creds.yml)")
    password.add_argument("--dry-run", action="store_true", help="check and prove the rename; write nothing")
    password.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    _common(password, manifest=False)
    return parser


def _steps(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser of each step, by its name."""
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def invocation_from(argv: Sequence[str]) -> Invocation:
    """The invocation the arguments make; a contradiction is a usage error (:class:`UsageExit`, code 2). Nothing
    is read here: the plan reads the configuration and the manifests."""
    parser = build_parser()
    steps = _steps(parser)
    if not argv or argv[0] not in steps:
        parser.parse_args(argv)  # help, or the usage error naming the steps
        parser.error("say which step")  # pragma: no cover - argparse has already refused
    step = steps[argv[0]]
    args = step.parse_intermixed_args(list(argv[1:]))
    args.step = argv[0]
    parser = step
    writes = "names FILE in the commands it prints" if args.step == "plan" else "edits FILE in place"
    refuse_stdin(parser, args.file, f"rotate {args.step} {writes}")
    if args.step == "leaf" and bool(args.names) == (args.expiring is not None):
        parser.error("say which leaves, in one way: NAME... or --expiring DAYS")
    request = Request(
        step=args.step,
        path=args.file,
        variable=getattr(args, "variable", None),
        stage=getattr(args, "stage", None),
        now=args.now,
        names=tuple(getattr(args, "names", ())),
        expiring=getattr(args, "expiring", None),
        within=getattr(args, "within", rotate.DEFAULT_WITHIN),
        dry_run=getattr(args, "dry_run", False),
        output=args.format,
    )
    settings = Settings(config=args.config, no_config=args.no_config, manifests=tuple(getattr(args, "manifest", ())))
    return Invocation(request=request, settings=settings)


@dataclass(frozen=True, kw_only=True)
class Context:
    """What a step works with, from the plan: the time, the manifests, the configuration's classifier."""

    now: datetime
    manifest: Manifest | None
    classifier: Classifier


def read_store(path: str) -> tuple[bytes, VarStore]:
    """The bytes and the store of a plaintext bosh var-store; a CredHub export or a sops file is refused."""
    from creds_lint.loader import parse_store, read_file

    data = read_file(path)
    store = parse_store(data, source=path)
    if store.export is not None:
        raise CredsLintError(
            f"is a {store.export.value}: rotate edits bosh var-stores only (CredHub rotates its own credentials)",
            source=path,
        )
    if store.seal is not None:
        raise CredsLintError(
            "is encrypted with sops: rotate edits plaintext var-stores only (rotate a decrypted copy kept in a safe "
            "place, then `sops set` the changed values)",
            source=path,
        )
    return data, store


def edit(
    path: str,
    data: bytes,
    store: VarStore,
    edits: Sequence[blocks.Edit],
    expected: rotate.Expected,
    *,
    now: datetime,
    dry_run: bool,
    classifier: Classifier,
    reads: Manifest | None = None,
    check: Callable[[VarStore], list[str]] | None = None,
) -> tuple[rotate.Proof, atomic.Written | None]:
    """Make ``edits`` with the block writer, prove the diff is ``expected`` (``reads``: what the deployment reads
    meanwhile; ``check``: what else the result must satisfy), and write (unless a dry run or the proof fails):
    the one way every rotate step changes a store."""
    from creds_lint import atomic, blocks
    from creds_lint.loader import parse_store

    applied = blocks.split(data, source=path).apply(edits)
    after = parse_store(applied.data, source=path)
    proof = rotate.prove(store, after, expected, now=now, manifest=reads, classifier=classifier)
    if check is not None and (more := check(after)):
        proof = dataclasses.replace(proof, problems=(*proof.problems, *more))
    if not proof.holds or dry_run:
        return proof, None
    return proof, atomic.write(Path(path), before=data, after=applied.data)


def run_leaf(request: Request, context: Context) -> Outcome:
    from creds_lint import blocks

    data, store = read_store(request.path)
    choice = rotate.select_leaves(
        store,
        names=request.names,
        expiring=request.expiring,
        now=context.now,
        classifier=context.classifier,
        manifest=context.manifest,
    )
    base = Outcome(path=request.path, step="leaf", refusals=choice.refusals, skipped=choice.skipped)
    if choice.refusals or not choice.leaves:
        return base
    names = [leaf.variable for leaf in choice.leaves]
    proof, written = edit(
        request.path,
        data,
        store,
        [blocks.Remove(name=name) for name in names],
        rotate.Expected(removed=frozenset(names)),
        now=context.now,
        dry_run=request.dry_run,
        classifier=context.classifier,
    )
    steps = (
        "bosh update-resurrection off",
        f"bosh create-env ... --vars-store {request.path}: bosh issues {', '.join(names)} again under "
        f"{', '.join(dict.fromkeys(leaf.signer for leaf in choice.leaves))}, unchanged",
        f"creds-lint {written.backup if written is not None else request.path} {request.path}: the comparison "
        "passes (re-issued leaves under unchanged CAs)",
        "bosh -d DEPLOYMENT deploy, for each deployment whose jobs use them; bosh update-resurrection on",
    )
    return Outcome(
        path=request.path,
        step="leaf",
        leaves=choice.leaves,
        skipped=choice.skipped,
        proof=proof,
        dry_run=request.dry_run,
        written=written,
        next_steps=steps,
    )


def run_plan(request: Request, context: Context) -> rotate.Plan:
    _, store = read_store(request.path)
    return rotate.plan(
        store, now=context.now, within=request.within, classifier=context.classifier, manifest=context.manifest
    )


def _write_ops(path: Path, text: str) -> None:
    """An ops file next to the var-store: a new file, or one that already holds exactly ``text``."""
    from creds_lint.loader import read_file

    if path.exists():
        if read_file(path) == text.encode("utf-8"):
            return
        raise CredsLintError("exists with other content: move it away first; nothing written", source=str(path))
    with path.open("x", encoding="utf-8") as out:
        out.write(text)


def run_ca(request: Request, context: Context) -> Outcome:
    from creds_lint import blocks
    from creds_lint.loader import read_file

    assert request.variable is not None
    assert request.stage is not None
    data, store = read_store(request.path)
    proc = rotate_ca.procedure(request.variable, store, context.manifest)
    stage = rotate_ca.Stage(request.stage)
    folder = Path(request.path).parent
    add_path = folder / proc.add.name
    base = Outcome(path=request.path, step=f"ca --stage {stage.value}", dry_run=request.dry_run)
    path = request.path
    if stage is rotate_ca.Stage.ADD:
        problems = rotate_ca.add_problems(proc, store, now=context.now)
        if problems:
            return dataclasses.replace(base, refusals=tuple(problems))
        if not request.dry_run:
            _write_ops(add_path, rotate_ca.record(proc, store) + proc.add.text)
        return dataclasses.replace(
            base,
            summary=f"{proc.ca}: the ops file that adds {', '.join(proc.seconds)} "
            + ("would be written (--dry-run)" if request.dry_run else f"is written: {add_path}"),
            ops_written=(str(add_path),),
            warnings=proc.warnings,
            next_steps=(
                "bosh update-resurrection off",
                f"bosh create-env ... -o {add_path} --vars-store {path}: bosh generates {', '.join(proc.seconds)}; "
                "the director trusts both CAs",
                f"creds-lint rotate ca {proc.ca} {path} --stage remove: checks that the store is where it must be",
            ),
        )
    before = rotate_ca.recorded(read_file(add_path).decode("utf-8", "replace")) if add_path.is_file() else {}
    problems = rotate_ca.stage_problems(proc, store, before)
    if problems:
        return dataclasses.replace(base, refusals=tuple(problems))
    if stage is rotate_ca.Stage.REMOVE:
        seconds = frozenset(proc.seconds)
        added = dataclasses.replace(
            store, entries={n: e for n, e in store.entries.items() if n not in seconds}, digest=""
        )
        proof = rotate.prove(
            added, store, rotate.Expected(added=seconds), now=context.now, classifier=context.classifier
        )
        remove_path = folder / proc.remove.name if proc.remove is not None else None
        if remove_path is not None and proc.remove is not None and proof.holds and not request.dry_run:
            _write_ops(remove_path, proc.remove.text)
        switch = (
            f"bosh create-env ... -o {remove_path} --vars-store {path} (instead of {add_path}): everything uses the "
            f"{rotate_ca.SECOND} certificates only"
            if remove_path is not None
            else f"bosh create-env ... --vars-store {path} with the jobs switched to the {rotate_ca.SECOND} "
            "certificates and trusting only the new CA"
        )
        return dataclasses.replace(
            base,
            summary=f"{proc.ca}: the store is where --stage remove expects it ({len(seconds)} {rotate_ca.SECOND} "
            f"entries chain to {proc.ca}{rotate_ca.SECOND}; the originals are unchanged)",
            proof=proof,
            ops_written=(str(remove_path),) if remove_path is not None else (),
            next_steps=(
                "bosh -d DEPLOYMENT deploy, for each deployment, if not done since the add stage (agents get both CAs)",
                switch,
                "bosh -d DEPLOYMENT deploy, for each deployment (agents drop the old CA)",
                f"creds-lint rotate ca {proc.ca} {path} --stage cleanup",
            ),
        )
    split = blocks.split(data, source=path)
    edits: list[blocks.Edit] = []
    for name in proc.members:
        second = split.get(name + rotate_ca.SECOND)
        assert second is not None  # stage_problems checked every _2 entry is there
        edits.append(blocks.Set(name=name, value=second.value))
    edits += [blocks.Remove(name=name) for name in proc.seconds]

    def promoted(after: VarStore) -> list[str]:
        graph = pki.Graph(after)
        wrong = []
        for name in proc.members:
            entry, was = after.get(name), store.get(name + rotate_ca.SECOND)
            if entry is None or was is None or entry.value != was.value:
                wrong.append(f"{name}: does not hold the value of {name}{rotate_ca.SECOND}")
            elif name != proc.ca and graph.signer(entry) != proc.ca:
                wrong.append(f"{name}: does not chain to the new {proc.ca}")
        return wrong

    proof, written = edit(
        path,
        data,
        store,
        edits,
        rotate.Expected(changed=frozenset(proc.members), removed=frozenset(proc.seconds)),
        now=context.now,
        dry_run=request.dry_run,
        classifier=context.classifier,
        check=promoted,
    )
    return dataclasses.replace(
        base,
        summary=f"{proc.ca}: each {rotate_ca.SECOND} value copied over its original, the {rotate_ca.SECOND} "
        "entries deleted"
        + (f" (backup of the old version: {written.backup})" if written is not None else " (nothing written)"),
        proof=proof,
        written=written,
        next_steps=(
            f"bosh create-env ... --vars-store {path} without {add_path.name} or the remove ops file: it generates "
            "nothing",
            "bosh update-resurrection on",
        ),
    )


def run_password(request: Request, context: Context) -> Outcome:
    from creds_lint import blocks, manifest
    from creds_lint.manifest import Manifest

    assert request.variable is not None
    name = request.variable
    data, store = read_store(request.path)
    base = Outcome(path=request.path, step="password", dry_run=request.dry_run)
    refusal = rotate_ca.password_refusal(name, store)
    if refusal is not None:
        return dataclasses.replace(base, refusals=(refusal,))
    old = rotate.OLD_NAMES[name]
    block = blocks.split(data, source=request.path).get(name)
    assert block is not None  # password_refusal checked it is there
    ops = rotate_ca.PASSWORD_OPS[name]
    reads = Manifest(
        sources=tuple(o.name for o in ops),
        variables={},
        references=frozenset().union(*(manifest.references(o.text.encode(), source=o.name) for o in ops)),
    )
    proof, written = edit(
        request.path,
        data,
        store,
        [blocks.Remove(name=name), blocks.Set(name=old, value=block.value)],
        rotate.Expected(removed=frozenset({name}), added=frozenset({old})),
        now=context.now,
        dry_run=request.dry_run,
        classifier=context.classifier,
        reads=reads,
    )
    return dataclasses.replace(
        base,
        summary=f"{name}: its value moved to {old}"
        + (f" (backup of the old version: {written.backup})" if written is not None else " (nothing written)"),
        proof=proof,
        written=written,
        ops_printed=ops,
        next_steps=tuple(step.replace("FILE", request.path) for step in rotate_ca.PASSWORD_STEPS[name]),
    )


STEPS: dict[str, Callable[[Request, Context], Outcome]] = {"leaf": run_leaf, "ca": run_ca, "password": run_password}


def main(plan: Plan) -> int:
    """``creds-lint rotate ...`` on its plan (FILE, the configuration of its folder, the manifests, one clock):
    print the outcome, return the exit code (bad input raises, for the caller)."""
    from creds_lint.reporters import rotation as reporter

    request = plan.invocation.request
    assert isinstance(request, Request)
    options = plan.options
    context = Context(now=request.now or plan.now, manifest=options.manifest, classifier=options.classifier)
    if request.step == "plan":
        planned = run_plan(request, context)
        sys.stdout.write(reporter.plan_json(planned) if request.output == "json" else reporter.plan_text(planned))
        return 0
    outcome = STEPS[request.step](request, context)
    sys.stdout.write(reporter.json(outcome) if request.output == "json" else reporter.text(outcome))
    if outcome.refused:
        print(f"creds-lint: error: {request.path}: rotate {request.step} refused; nothing written", file=sys.stderr)
    elif outcome.written is not None:
        for warning in outcome.written.warnings:
            print(f"creds-lint: warning: {warning}", file=sys.stderr)
    return outcome.exit_code
