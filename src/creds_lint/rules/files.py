"""Whole var-store files: a file that a commit or pull request deletes."""

from __future__ import annotations

from collections.abc import Iterator

from creds_lint.findings import Severity
from creds_lint.rules.base import Category, Context, Hit, rule
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
        "environment is decommissioned on purpose, allow it in .creds-lint.yml (rule: removed-file, file: the path, "
        "reason), commit with SKIP=creds-lint, or lower the rule for that check (--severity removed-file=warning)."
    ),
)
def removed_file(ctx: Context) -> Iterator[Hit]:
    """A deleted var-store loses every secret in it at once: the next ``bosh create-env`` or ``bosh deploy``
    with ``--vars-store`` generates all of them anew — new encryption keys (CredHub and UAA can no longer decrypt
    their data), new CAs (no agent or client trusts the director any more), new passwords — exactly the incident
    creds-lint exists for, for every variable together. A var-store renamed to a name that is not a var-store's
    counts as deleted: the path bosh reads no longer has it. So does a var-store replaced by a symlink (or a
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
    how = (
        ctx.removal.value
        if ctx.removal is Removal.DELETED
        else f"{ctx.removal.value}, which creds-lint does not {verb}, so it counts as deleted"
    )
    yield Hit(
        variable=None,
        message=f"the var-store {how}: {consequence}.",
        details={"variables": str(total), **{_plural(c): str(len(n)) for c, n in counts.items()}},
    )


RULES = (removed_file,)
