"""The state of the new file: values that bosh would keep although they are broken, and edits that hide others.

A change that no rule claims is not a rule's finding: the engine reports it as ``unexplained-change``
(:mod:`creds_lint.rules.verdicts`)."""

from __future__ import annotations

from collections.abc import Iterator

from creds_lint.findings import Severity
from creds_lint.model import field_label, is_empty
from creds_lint.rules.base import MODIFIED, Context, Hit, rule
from creds_lint.rules.describe import what


@rule(
    code="CL301",
    name="empty-value",
    severity=Severity.ERROR,
    summary="A secret in the new var-store is null or empty.",
    remedy="Restore the value from version control, or delete the key entirely if you want bosh to generate it.",
    claims=MODIFIED,
)
def empty_value(ctx: Context) -> Iterator[Hit]:
    """bosh keeps a present variable as it is, even with a null or empty value, and never validates it: an
    empty password or certificate field is deployed as is, and the jobs that use it fail or run unprotected."""
    for entry in ctx.subjects:
        if is_empty(entry.value):
            yield Hit(
                variable=entry.name,
                line=entry.line,
                message=f"{what(ctx, entry)} is empty: bosh keeps it as it is and deploys an empty secret.",
            )
            continue
        for field, value in entry.fields.items():
            if is_empty(value):
                yield Hit(
                    variable=entry.name,
                    field=field,
                    line=entry.field_line(field),
                    message=(
                        f"{what(ctx, entry)} has an empty '{field_label(field)}': bosh keeps it and deploys it "
                        "as it is."
                    ),
                )


@rule(
    code="CL302",
    name="duplicate-key",
    severity=Severity.ERROR,
    summary="A key appears more than once in the new var-store.",
    remedy="Keep one occurrence: decide which value is the right one, restoring it from version control.",
)
def duplicate_key(ctx: Context) -> Iterator[Hit]:
    """YAML loaders used by bosh keep the last value of a duplicated key, silently. A reader (or a reviewer)
    sees the first one, so a duplicate can hide a changed secret; it is usually the trace of a bad merge or a
    paste."""
    for duplicate in ctx.new.duplicates:
        where = ", ".join(str(line) for line in duplicate.lines)
        subject = f"{duplicate.name}.{field_label(duplicate.field)}" if duplicate.field else duplicate.name
        yield Hit(
            variable=duplicate.name,
            field=duplicate.field,
            line=duplicate.lines[-1],
            message=f"{subject} appears {len(duplicate.lines)} times (lines {where}): bosh uses the last one.",
            details={"lines": where},
        )


@rule(
    code="CL303",
    name="edited-without-sops",
    severity=Severity.ERROR,
    summary="A sops-encrypted var-store fails its MAC: it was edited without sops (seen with --decrypt).",
    remedy=(
        "Restore the file from version control and make the change with `sops edit` or `sops set` (see "
        "docs/encrypted.md), then check it again."
    ),
)
def edited_without_sops(ctx: Context) -> Iterator[Hit]:
    """sops signs every value with a MAC over the whole file. A file that fails it was changed by something
    other than sops: a key deleted by hand, a merge, a value pasted from another file. sops refuses to decrypt
    it, and so does whatever decrypts it for the deploy; creds-lint reads it anyway (``--ignore-mac``) to judge
    what changed, and reports the edit itself."""
    seal = ctx.new.seal
    if seal is not None and seal.mac_mismatch:
        yield Hit(
            variable=None,
            line=1,
            message=(
                "sops reports a MAC mismatch: the file was edited without sops, and `sops decrypt` refuses it "
                "until it is restored or re-signed."
            ),
        )


RULES = (empty_value, duplicate_key, edited_without_sops)
