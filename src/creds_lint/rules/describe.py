"""How rules name things in messages: variables with their role, certificates by name, serial and date.

Nothing here ever returns a value from the var-store: only fingerprints and certificate metadata.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING

from creds_lint import rotations, x509
from creds_lint.findings import Details
from creds_lint.model import CREDHUB_FIELDS, Entry, Kind, fingerprint, is_ciphertext, yaml_type
from creds_lint.rules.base import Context

if TYPE_CHECKING:
    from cryptography.x509 import Certificate


#: No extra details.
NO_DETAILS: Mapping[str, str] = MappingProxyType({})

#: What to do first about a secret that was lost or regenerated, in every message that needs it.
RESTORE = "Restore the old value from version control before the next deploy"


def what(ctx: Context, entry: Entry) -> str:
    """``name (what it is)``, e.g. ``credhub_encryption_password (encryption key)`` or ``nats_ca (CA)``: the
    identity's label (:mod:`creds_lint.classify`), the same in every command."""
    return f"{entry.name} ({ctx.identity(entry).label})"


def certificate_label(ctx: Context, entry: Entry) -> str:
    """``CN=..., serial ..., expires YYYY-MM-DD``, or a note that the certificate does not parse."""
    facts = ctx.certificate_info(entry)
    if facts is None:
        return "sops ciphertext" if sealed_certificate(entry) else "unparseable certificate"
    return facts.label


def sealed_certificate(entry: Entry) -> bool:
    """Whether an entry's certificate is sops ciphertext (read without keys): it cannot be parsed, only compared."""
    return is_ciphertext(entry.fields.get("certificate"))


def label(cert: Certificate) -> str:
    """``CN=..., serial ..., expires YYYY-MM-DD`` of a parsed certificate."""
    return x509.info(cert).label


def unread_copy(ctx: Context, old: Entry) -> str:
    """For a key or agent password removed or changed whose old value is kept under a documented name that nothing
    is shown to read: a sentence saying what evidence would make the change a rotation. Else nothing."""
    if not ctx.keeps_old(old):
        return ""
    kept = rotations.kept_copy(old.name, old, ctx.new)
    if kept is None:
        return ""
    shown = f"{ctx.manifest.label} does not reference (({kept.name}))" if ctx.manifest is not None else "no --manifest"
    return (
        f" Its old value is kept under {kept.name}, but nothing shows that anything reads it ({shown}): a copy "
        "nothing reads is the incident done by rename. It is the documented rotation when --manifest gives the "
        "full interpolated manifest (bosh int with the step's ops files and without --vars-store, so placeholders "
        f"stay) that references (({kept.name})), or when an allowance with a reason covers this finding."
    )


def read_as(old: Entry, new: Entry) -> str:
    """`` (bosh now reads it as an integer, not a string)`` when YAML resolves the two values to different types
    (``"0123"`` became ``0123``), else nothing."""
    was, now = yaml_type(old.value), yaml_type(new.value)
    if was == now:
        return ""
    return f" (bosh's YAML parser now reads it as {_a(now)}, not {_a(was)})"


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def entry_details(entry: Entry, *, prefix: str, extra: Mapping[str, str] = NO_DETAILS) -> Details:
    """Redacted facts about an entry for a finding's details, worked out when an output reads them: its
    fingerprint and, for a certificate, its subject, serial and expiry (each key starts with ``prefix``); then
    ``extra``. They hold on to the entry only, not to the run's context: a run over many files keeps every
    finding until the report is written."""
    return Details(partial(_details, ((prefix, entry),), extra))


def change_details(old: Entry, new: Entry, *, extra: Mapping[str, str] = NO_DETAILS) -> Details:
    """:func:`entry_details` of both versions of a changed entry (``old_...``, then ``new_...``), then ``extra``."""
    return Details(partial(_details, (("old", old), ("new", new)), extra))


def _details(versions: tuple[tuple[str, Entry], ...], extra: Mapping[str, str]) -> dict[str, str]:
    details: dict[str, str] = {}
    for prefix, entry in versions:
        details[f"{prefix}_fingerprint"] = entry.fingerprint
        pem = entry.text("certificate") if entry.kind is Kind.CERTIFICATE else None
        info = x509.certificate_info(pem) if pem else None
        if info is not None:
            details[f"{prefix}_subject"] = info.subject
            details[f"{prefix}_serial"] = info.serial
            details[f"{prefix}_not_after"] = info.not_after.isoformat()
    details.update(extra)
    return details


#: Fields of the values bosh generates: the only field names shown. Any other name could be a pasted secret.
BOSH_FIELDS = ("ca", "certificate", "private_key", "public_key", "public_key_fingerprint")


def field_name(ctx: Context, name: str) -> str:
    """A field by its name when it is a bosh field; else by the fingerprint of its name, or — when it is the name
    of a variable this change removed (a variable indented under another by mistake) — by that variable."""
    if name in BOSH_FIELDS or (ctx.new.export is not None and name in CREDHUB_FIELDS):
        return f"its '{name}'"
    if ctx.old is not None and name in ctx.old and name not in ctx.new:
        return f"a field named like the removed variable {name} (indented under it by mistake?)"
    return f"an unknown field (its name's fingerprint is {fingerprint(name)})"


def _pem_only(before: object, after: object) -> bool:
    """Whether two field values differ only in whitespace (line breaks of a PEM block)."""
    return isinstance(before, str) and isinstance(after, str) and "".join(before.split()) == "".join(after.split())


def changed_fields(ctx: Context, old: Entry, new: Entry) -> list[str]:
    """What happened to each field that both versions of a structured value have and that changed, in words; a
    field is named only as :func:`field_name` allows, a certificate field by the number of certificates it holds."""
    before, after = old.fields, new.fields
    changed: list[str] = []
    for name in sorted(before.keys() & after.keys()):
        was, now = before[name], after[name]
        if was == now:
            continue
        if _pem_only(was, now):
            changed.append(f"the formatting of {field_name(ctx, name)} changed")
            continue
        counts = (
            [len(x509.split_pem_certificates(v)) if isinstance(v, str) else 0 for v in (was, now)]
            if name in ("certificate", "ca")
            else None
        )
        if counts is not None and counts[0] != counts[1]:
            changed.append(f"its '{name}' now holds {counts[1]} certificates (was {counts[0]})")
        else:
            changed.append(f"{field_name(ctx, name)} changed")
    return changed


def structure_changes(ctx: Context, old: Entry, new: Entry) -> list[str]:
    """The fields that a structured value gained or lost, in words (named as :func:`field_name` allows)."""
    before, after = old.fields, new.fields
    if before.keys() == after.keys():  # most changes: no field gained or lost
        return []
    structure = [f"{field_name(ctx, name)} was added" for name in sorted(after.keys() - before.keys())]
    structure += [f"{field_name(ctx, name)} was removed" for name in sorted(before.keys() - after.keys())]
    return structure
