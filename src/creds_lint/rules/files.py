"""Whole var-store files: a file that a commit or pull request deletes."""

from __future__ import annotations

from collections.abc import Iterator

from creds_lint.findings import Severity
from creds_lint.model import Category
from creds_lint.rules.base import Context, Hit, rule
from creds_lint.sources import Removal

#: How many variable names a message lists per category before it says "and N more".
_NAMES_SHOWN = 5

#: How a message names each category (a secret of the var-store is a password).
_NOUNS = {category: category.value for category in Category} | {Category.SECRET: "password"}


def _plural(category: Category) -> str:
    return _NOUNS[category] + "s"


@rule(
    code="CL501",
    name="removed-file",
    severity=Severity.ERROR,
    summary="A var-store file was deleted (or replaced by a symlink).",
    remedy=(
        "Restore the file from version control (git restore --source=HEAD --staged --worktree -- FILE). If the "
        "environment is decommissioned on purpose, allow it in .creds-lint.yml in the same commit (rule: "
        "removed-file, file: the path, reason), so that the reviewer sees why."
    ),
)
def removed_file(ctx: Context) -> Iterator[Hit]:
    """A deleted var-store loses every secret in it at once: the next ``bosh create-env`` or ``bosh deploy``
    with ``--vars-store`` generates all of them anew — new encryption keys (CredHub and UAA can no longer decrypt
    their data), new CAs (no agent or client trusts the director any more), new passwords — exactly the incident
    creds-lint exists for, for every variable together. A var-store renamed to a name that is not a var-store's
    counts as deleted: the path bosh reads no longer has it; so does one moved to another var-store name or folder
    (the pipeline, the script or the operator still passes the old path), whether or not the path was named on the
    command line. So does a var-store replaced by a symlink (or a
    submodule, or a directory): creds-lint reads regular files only and does not follow the link, so it cannot
    tell whether what the link points to keeps the values; checking the file the link points to, and allowing the
    change by file, is the reviewer's call."""
    if not ctx.deleted or ctx.old is None:
        return
    counts: dict[Category, list[str]] = {}
    for entry in ctx.old:
        counts.setdefault(ctx.category(entry), []).append(entry.name)
    parts = []
    shown_order = (
        Category.ENCRYPTION_KEY,
        Category.CA,
        Category.KEYPAIR,
        Category.SECRET,
        Category.CERTIFICATE,
        Category.DISPOSABLE,
    )
    for category in shown_order:
        names = counts.get(category, [])
        if names:
            shown = ", ".join(names[:_NAMES_SHOWN]) + (
                f" and {len(names) - _NAMES_SHOWN} more" if len(names) > _NAMES_SHOWN else ""
            )
            parts.append(f"{len(names)} {_plural(category) if len(names) != 1 else _NOUNS[category]} ({shown})")
    total = len(ctx.old)
    consequence = (
        f"bosh will generate all {total} of its variables anew on the next deploy: {'; '.join(parts)}"
        if total
        else "it had no variables"
    )
    verb = "follow" if ctx.removal is Removal.SYMLINK else "read"
    if ctx.removal is Removal.DELETED:
        how = ctx.removal.value
    elif ctx.removal is Removal.MOVED:
        how = f"{ctx.removal.value} (bosh reads a var-store by its --vars-store path), so it counts as deleted"
    else:
        how = f"{ctx.removal.value}, which creds-lint does not {verb}, so it counts as deleted"
    yield Hit(
        variable=None,
        message=f"the var-store {how}: {consequence}.",
        details={"variables": str(total), **{_plural(c): str(len(n)) for c, n in counts.items()}},
    )


@rule(
    code="CL502",
    name="unnamed-var-store",
    severity=Severity.WARNING,
    summary="A changed YAML file reads as a bosh var-store but no var-store glob names it: it was checked anyway.",
    remedy=(
        "Add a glob for it to var-stores: in .creds-lint.yml (docs/git.md#which-files-are-var-stores), so that "
        "every tool that picks var-stores by name (the pre-commit hook's files: pattern too) sees it."
    ),
)
def unnamed_var_store(ctx: Context) -> Iterator[Hit]:
    """Without paths, the git modes pick var-stores by name. A var-store named otherwise (``director.yml``,
    ``bosh-state/prod.yml``) would be passed over, and the run would say "0 files" and pass while the var-store
    lost its keys. So a changed YAML file whose top level reads as a var-store (every value a certificate with its
    key, an rsa or ssh key pair, or a password, and at least one key pair, certificate or bosh-generated
    password) is checked whatever its name, and this rule names it so that the configuration can say so."""
    if not ctx.by_content:
        return
    yield Hit(
        variable=None,
        message=(
            "checked because its content reads as a bosh var-store, though no var-store glob names it: add a glob "
            "for it to var-stores: in .creds-lint.yml (or --var-store-glob) so that it is always picked"
        ),
    )


RULES = (removed_file, unnamed_var_store)
