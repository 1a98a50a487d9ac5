"""Invocation -> :class:`Plan`: everything a run needs, worked out before any var-store is read.

Building a plan does all the configuration, manifest and git I/O of a run, once: the configuration file (on disk,
or at the base revision for ``--base``) with the flags applied, the manifests, the targets of the mode (which
files, which two versions; git is asked here), the clock, and how the report will be shown. What is left for the
engine is reading each var-store version the plan names (each exactly once) and judging it.

Every command runs on a plan: ``lint`` and ``check`` hand it to :func:`creds_lint.engine.run`; ``diff`` names
each variable with the plan's classifier, so that the same variable has the same name in every command.
A command that writes (``restore``, ``renew``, ``rotate``) builds its plan here too (docs/architecture.md).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from creds_lint import config, x509
from creds_lint.config import Config, Configurations
from creds_lint.engine import Options
from creds_lint.errors import CredsLintError
from creds_lint.findings import Severity
from creds_lint.globs import Globs
from creds_lint.invocation import Audit, Color, Diff, DiffMode, Invocation, Lint, Mode, Output, Request, Restore
from creds_lint.loader import read_file
from creds_lint.origin import STDIN_ARGUMENT, Origin
from creds_lint.redacted import DEV_NULL
from creds_lint.reporters import resolve
from creds_lint.reporters.style import Style
from creds_lint.sources import Source, Target


class ConfigurationError(CredsLintError):
    """The configuration or a manifest could not be read: a run with a report (JSON and SARIF still get a
    document), unlike a file or git error, which is one line on stderr."""


@dataclass(frozen=True, kw_only=True)
class Plan:
    """One run, decided: the var-store versions to read (``targets``), the configuration of each (``per_target``:
    the options its configuration gives; ``configs``: the distinct configurations used, the run's own first),
    the run's options (with the one reading of the clock, and the head's configurations that were not applied),
    the severity that fails the run, and how the report is shown (``format``, resolved from ``auto``; ``style``).
    """

    invocation: Invocation
    configs: tuple[Config, ...]
    options: Options
    targets: tuple[Target, ...]
    per_target: tuple[Options, ...]
    fail_on: Severity
    format: str
    style: Style

    @property
    def config(self) -> Config:
        """The run's own configuration (the first var-store's, or the top's)."""
        return self.configs[0]

    @property
    def now(self) -> datetime:
        assert self.options.now is not None  # read once, when the plan was built
        return self.options.now


def use_color(choice: Color, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """``always``/``never`` as said; ``auto``: never while ``NO_COLOR`` is set to anything non-empty, always while
    ``FORCE_COLOR`` or ``CLICOLOR_FORCE`` is (other than ``0``: CI logs that render colours), else on a terminal."""
    if choice is not Color.AUTO:
        return choice is Color.ALWAYS
    if environ.get("NO_COLOR"):
        return False
    if any(environ.get(name, "0") not in ("", "0") for name in ("FORCE_COLOR", "CLICOLOR_FORCE")):
        return True
    return stream.isatty()


def presentation(output: Output, *, stdout: TextIO | None = None, environ: Mapping[str, str] = os.environ) -> Style:
    """How a report is shown, from the flags and the terminal."""
    color = use_color(output.color, stdout or sys.stdout, environ)
    return Style(color=color, quiet=output.quiet, verbose=output.verbose, suggest_allow=output.suggest_allow)


def configurations(invocation: Invocation) -> Configurations:
    """Where each var-store's configuration comes from, the flags applied: the disk (``OLD NEW``, a pre-flight,
    ``check``, ``diff``), the index (``--staged``, ``--hook``), or the base revision with the head's allowances
    (``--base``, and the hook given a range): one walker (:mod:`creds_lint.config`) for all of them."""
    settings, request = invocation.settings, invocation.request
    flags = config.from_flags(
        fail_on=settings.fail_on,
        expiry_days=settings.expiry_days,
        severities=settings.severities,
        allow=settings.allow,
        var_stores=settings.var_store_globs,
        manifests=settings.manifests,
    )
    explicit, disabled = settings.config, settings.no_config and settings.config is None
    if isinstance(request, Lint) and request.mode in _IN_GIT:
        from creds_lint import targets
        from creds_lint.git import Repo

        refs = targets.hook_range() if request.mode is Mode.HOOK else None
        if request.mode is Mode.RANGE:
            assert request.base is not None
            refs = (request.base, request.head or "HEAD")
        repo = Repo.discover()
        if refs is not None:
            return config.in_range(repo, base=refs[0], head=refs[1], flags=flags, explicit=explicit, disabled=disabled)
        return config.in_index(repo, flags=flags, explicit=explicit, disabled=disabled)
    paths = _diff_start(request) if isinstance(request, Diff) else _paths(request)
    start = config.start_directory(paths[-1:])
    return config.on_disk(flags=flags, explicit=explicit, disabled=disabled, start=start)


#: The ``lint`` modes whose var-stores are named by their path from the top of the work tree (read from git).
_IN_GIT = frozenset({Mode.STAGED, Mode.HOOK, Mode.RANGE})


def _paths(request: Request) -> tuple[str, ...]:
    if isinstance(request, Lint):
        return request.paths
    if isinstance(request, Audit):
        return request.files
    if isinstance(request, Restore):
        return (request.file,)
    if request.command == "renew":
        from creds_lint import renew_cli

        assert isinstance(request, renew_cli.Request)
        return (request.path,)
    if request.command == "rotate":
        from creds_lint import rotate_cli

        assert isinstance(request, rotate_cli.Request)
        return (request.path,)
    return ()


def _options(
    settings: Config, *, check_all: bool, now: datetime, manifests: bool = True, decrypt: bool = False
) -> Options:
    from creds_lint import manifest

    return Options(
        check_all=check_all,
        expiry_days=settings.expiry_days if settings.expiry_days is not None else Options.expiry_days,
        classifier=settings.classifier,
        severities=settings.severities,
        allowances=settings.allow,
        manifest=manifest.load(settings.manifests) if manifests else None,
        decrypt=decrypt,
        now=now,
    )


def lint_targets(request: Lint, configurations: Configurations) -> list[Target]:
    """The targets of the mode a ``lint`` request selects (see :mod:`creds_lint.targets` for the git modes);
    without PATHs, each file is a var-store by the globs of its own folder's configuration."""
    if request.mode is Mode.FILES:
        return [Target(old=Source.argument(request.paths[0]), new=Source.argument(request.paths[1]))]
    from creds_lint import targets

    def globs(path: str) -> Globs:
        found = configurations.globs(path)
        return found if found is not None else targets.DEFAULT_VAR_STORE_GLOBS

    paths = list(request.paths)
    if request.mode is Mode.HOOK:
        return targets.hook_targets(paths, globs=globs)
    if request.mode is Mode.STAGED:
        return targets.staged_targets(paths or None, globs=globs)
    if request.mode is Mode.RANGE:
        assert request.base is not None
        return targets.range_targets(request.base, request.head, paths or None, globs=globs)
    return targets.preflight_targets(paths, rev=request.rev or "HEAD")


def build(invocation: Invocation, *, stdout: TextIO | None = None, environ: Mapping[str, str] = os.environ) -> Plan:
    """The plan of a ``lint``, ``check``, ``diff``, ``restore``, ``renew`` or ``rotate`` invocation. A configuration or
    manifest that cannot be read raises :class:`ConfigurationError`; a file or git problem found while choosing the
    targets, a :class:`CredsLintError`.

    Each target has the configuration found from its own directory (in the git modes a target is named by its
    path from the top of the work tree, on disk by its path); the first configuration is the run's own (the
    top's when there is no target)."""
    request = invocation.request
    now = invocation.settings.now or x509.now_utc()
    try:
        found = configurations(invocation)
    except CredsLintError as exc:
        raise ConfigurationError(exc.message, source=exc.source) from None
    if isinstance(request, Lint):
        chosen = lint_targets(request, found)
    elif isinstance(request, Audit):
        chosen = [Target(new=Source.argument(path)) for path in request.files]
    elif isinstance(request, Diff):
        chosen = diff_targets(request)
    elif isinstance(request, Restore):
        from creds_lint import restore_cli

        chosen = [restore_cli.target_of(request.file, request.source)]
    elif request.command in ("renew", "rotate"):
        chosen = [Target(new=Source.file(_paths(request)[0]))]
    else:
        raise TypeError(f"no plan for {type(request).__name__}")
    in_git = isinstance(request, Lint) and request.mode in _IN_GIT
    check_all = request.check_all if isinstance(request, Lint) else isinstance(request, Audit)
    try:
        if isinstance(request, Diff):  # a diff names variables with its file's configuration; it needs no manifest
            own = found.for_disk(_diff_start(request)[0] if _diff_start(request) else Path.cwd() / "-")
            each = [own]
        else:
            each = [found.for_file(t.origin.path) if in_git else found.for_disk(t.origin.path) for t in chosen]
        used: list[Config] = []
        made: list[Options] = []
        for settings in each or [found.at("")]:
            if settings not in used:
                used.append(settings)
                manifests = not isinstance(request, Diff)
                decrypt = invocation.settings.decrypt
                made.append(_options(settings, check_all=check_all, now=now, manifests=manifests, decrypt=decrypt))
    except CredsLintError as exc:
        raise ConfigurationError(exc.message, source=exc.source) from None
    per_target = () if isinstance(request, Diff) else tuple(made[used.index(settings)] for settings in each)
    return Plan(
        invocation=invocation,
        configs=tuple(used),
        options=dataclasses.replace(made[0], unapplied=found.ignored),
        targets=tuple(chosen),
        per_target=per_target,
        fail_on=config.fail_on_of(used),
        format=resolve(invocation.output.format, environ),
        style=presentation(invocation.output, stdout=stdout, environ=environ),
    )


# --- diff -----------------------------------------------------------------------------------------------------


def _diff_start(request: Diff) -> list[str]:
    """Where the configuration of a diff is looked for: the repository path git names for a diff driver, the file
    for OLD NEW, and for ``--textconv`` the file when it is under the working directory (git hands textconv a
    temporary copy elsewhere; it runs at the top of the work tree)."""
    if request.mode is DiffMode.EXTERNAL:
        return [request.files[0]]
    if request.mode is DiffMode.TEXTCONV:
        path = Path(request.files[0]).resolve()
        return [request.files[0]] if path.is_relative_to(Path.cwd().resolve()) else []
    return [request.files[0]]


def _version(path: str, label: str) -> Source:
    """One side of a diff: the file at ``path`` named ``label``; ``/dev/null`` is an empty file."""
    if path == DEV_NULL:
        return Source(origin=Origin(path=label), read=lambda: b"")
    return Source(origin=Origin(path=label), read=lambda: read_file(path))


def _given(path: str) -> Source:
    """A version named on the command line: a file, ``/dev/null``, or ``-`` (standard input)."""
    return Source.stdin() if path == STDIN_ARGUMENT else _version(path, path)


def diff_targets(request: Diff) -> list[Target]:
    """``diff``'s versions: OLD and NEW; the one file of ``--textconv``; or, for git's diff driver (path, old
    file, old hex, old mode, new file, new hex, new mode, and for a rename the new path and a score),
    ``a/PATH`` and ``b/PATH``."""
    files = request.files
    if request.mode is DiffMode.TEXTCONV:
        return [Target(new=_given(files[0]))]
    if request.mode is DiffMode.FILES:
        return [Target(old=_given(files[0]), new=_given(files[1]))]
    path, old_file, new_file = files[0], files[1], files[4]
    new_path = files[7] if len(files) == 9 else path
    old = _version(old_file, f"a/{path}" if old_file != DEV_NULL else DEV_NULL)
    new = _version(new_file, f"b/{new_path}" if new_file != DEV_NULL else DEV_NULL)
    return [Target(old=old, new=new, name=path)]
