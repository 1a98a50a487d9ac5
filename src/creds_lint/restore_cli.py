"""``creds-lint restore FILE --from SOURCE [NAME...]``: the command around :func:`creds_lint.restore.plan`.

The request is parsed by :mod:`creds_lint.invocation` (:class:`~creds_lint.invocation.Restore`) and the run
prepared by :mod:`creds_lint.plan` (FILE against SOURCE, with the configuration of FILE's folder), as for every
command.

Reads FILE and SOURCE (a file, or a git revision read as the git modes read it: that revision's FILE), runs the
same check as ``creds-lint SOURCE FILE`` (the same configuration, classification and rules) to find what to
restore, plans, writes with :func:`creds_lint.atomic.write` (not with ``--dry-run``), checks SOURCE against the
result and prints it all. Exit codes: 0 written, planned (``--dry-run``) or nothing to restore; 2 refused or bad
input, nothing written.

A CredHub export is not rewritten: with ``--import-file OUT`` its restore is :mod:`creds_lint.credhub_restore`'s,
which writes OUT for ``credhub import -f OUT``. Other stores (sops' ``sops set``) plug in at :func:`write_result`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from creds_lint.errors import CredsLintError
from creds_lint.invocation import Restore
from creds_lint.sources import Source, Target

if TYPE_CHECKING:
    from creds_lint.atomic import Written
    from creds_lint.findings import Report
    from creds_lint.plan import Plan
    from creds_lint.reporters.style import Style


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
    if found.new is None or found.old is None:
        if found.new is not None:
            found.new.read()  # a version git cannot give: raises why (not in git at SOURCE, a symlink there)
        raise CredsLintError(f"has no version at {source} to restore from", source=file)
    return Target(new=_cached(found.new), old=_cached(found.old))


def write_result(file: str, *, before: bytes, after: bytes, plain_before: bytes | None = None) -> Written:
    """Write the restored store. A plain var-store is written block by block and atomically; a store that needs
    its own writer (a CredHub export, a sops file) is chosen here. For a sops file, ``before`` is its ciphertext,
    ``plain_before`` its decrypted text and ``after`` the planned text: ``sops set`` per changed entry gives the
    ciphertext that is written (:mod:`creds_lint.sops_write`)."""
    from creds_lint import atomic

    if plain_before is not None:
        from creds_lint import sops_write

        after = sops_write.restored(Path(file), before=before, plain_before=plain_before, plain_after=after)
    return atomic.write(Path(file), before=before, after=after)


def _plaintext(data: bytes, *, source: str) -> bytes:
    """A version to plan from: a sops file decrypted (in memory), anything else as it is."""
    from creds_lint import encrypted

    if encrypted.detect(data) is not encrypted.Cipher.SOPS:
        return data
    from creds_lint import sops

    return sops.plaintext(data, source=source)


def main(plan: Plan) -> int:
    """``creds-lint restore`` on its plan (FILE against SOURCE, the configuration of FILE's folder); the caller
    (:func:`creds_lint.cli.main`) turns errors into one line and exit 2."""
    from creds_lint import blocks, restore
    from creds_lint.engine import check
    from creds_lint.loader import parse_store
    from creds_lint.reporters.restore import render_json, render_text

    args = plan.invocation.request
    assert isinstance(args, Restore)
    (target,) = plan.targets
    options, each, now = plan.options, list(plan.per_target), plan.now
    assert target.new is not None
    assert target.old is not None
    from creds_lint import encrypted

    sealed = encrypted.detect(target.new.read()) is encrypted.Cipher.SOPS
    if sealed:  # a sops file is restored from its plaintext: both versions are decrypted, in memory
        options = dataclasses.replace(options, decrypt=True)
        each = [dataclasses.replace(o, decrypt=True) for o in each]
    found = check([target], options, per_target=each)
    if found.errors:
        raise CredsLintError(found.errors[0].message, source=str(found.errors[0].file))
    file_data, source_data = target.new.read(), target.old.read()
    file_text = _plaintext(file_data, source=target.new.label)
    source_text = _plaintext(source_data, source=target.old.label)
    file_store = parse_store(file_text, source=target.new.label)
    source_store = parse_store(source_text, source=target.old.label)
    if file_store.export is not None or args.import_file is not None:
        from creds_lint import credhub_restore

        origin = target.new.origin

        def recheck(data: bytes) -> Report:
            imported = Source(origin=origin, read=lambda: data)
            return check([Target(new=imported, old=target.old)], options, per_target=each)

        return credhub_restore.run(
            args,
            file=file_store,
            source=source_store,
            findings=found.findings,
            recheck=recheck,
            emit=functools.partial(emit, plan),
        )
    result = restore.plan(
        file=blocks.split(file_text, source=target.new.label),
        file_store=file_store,
        source=blocks.split(source_text, source=target.old.label),
        source_store=source_store,
        names=list(args.names),
        findings=found.findings,
        classifier=each[0].classifier,
        now=now,
        with_dependents=args.with_dependents,
        as_rotation=args.as_rotation,
        force=args.force,
    )
    written: Written | None = None
    if result.changes and not args.dry_run:
        written = write_result(
            args.file, before=file_data, after=result.after, plain_before=file_text if sealed else None
        )
    after = Source(origin=target.new.origin, read=lambda: result.after, mode=target.new.mode)
    checked = check([Target(new=after, old=target.old)], options, per_target=each)
    return emit(
        plan,
        json=lambda: render_json(result, written, checked, dry_run=args.dry_run),
        text=lambda style: render_text(result, written, checked, dry_run=args.dry_run, style=style),
    )


def emit(plan: Plan, *, json: Callable[[], str], text: Callable[[Style], str]) -> int:
    """Print the restore's document in the run's format (the text one in full, never quiet); exit code 0."""
    if plan.format == "json":
        sys.stdout.write(json())
    else:
        sys.stdout.write(text(dataclasses.replace(plan.style, quiet=False)))
    return 0
