"""The var-store against the manifest (enabled by ``--manifest``): what bosh will generate, and what it will keep
although the manifest now says otherwise.

These rules describe the whole new file against the declarations, whatever changed: a manifest changes without
the var-store (after an IP change, ``director_ssl`` must be re-issued although nobody touched it). Without
``--manifest`` they find nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from creds_lint import x509
from creds_lint.findings import Severity
from creds_lint.manifest import Declaration, normalize_name
from creds_lint.model import Category, Entry, Identity, Kind, Role, is_empty
from creds_lint.rules.base import MODIFIED, Context, Definition, Hit, family, rule

RESTORE = "Restore it from version control or a backup before the next deploy; if bosh never deployed it, allow it"


def _declared(ctx: Context, declaration: Declaration) -> Identity:
    """What a declared variable will be once bosh generates it."""
    kind = declaration.kind or Kind.UNKNOWN
    return ctx.classifier.identify(declaration.name, kind, is_ca=bool(declaration.is_ca))


def _declared_category(ctx: Context, declaration: Declaration) -> Category:
    return _declared(ctx, declaration).category


def missing(ctx: Context, category: Category) -> Iterator[Declaration]:
    """Declared variables of one category that the new var-store lacks and bosh will generate. A variable the old
    version still had is left to the removal rules."""
    if ctx.manifest is None:
        return
    for declaration in ctx.manifest.variables.values():
        if declaration.kind is None or declaration.name in ctx.new:
            continue
        if ctx.old is not None and declaration.name in ctx.old:
            continue
        if _declared_category(ctx, declaration) is category:
            yield declaration


@dataclass(frozen=True, kw_only=True)
class Missing(Definition):
    """A rule of the ``missing-*`` family: a declared variable of one ``category`` that the var-store lacks.
    ``label`` names it in the message and ``outcome`` says what the generated value does; ``{type}`` (the
    declared type), ``{role}`` (the role its name gives it, ``password`` for a plain secret), ``{consequence}``,
    ``{signer}`` (`` from CA`` when the declaration names its CA) and ``{restore}`` are filled in."""

    category: Category
    label: str
    outcome: str = ". If a value of it was ever deployed, {consequence}. {restore}."


def missing_declared(row: Missing, ctx: Context) -> Iterator[Hit]:
    """The body of the ``missing-*`` family: every declared variable of the row's category that bosh will
    generate."""
    for declaration in missing(ctx, row.category):
        identity = _declared(ctx, declaration)
        fill = {
            "type": declaration.type,
            "role": "password" if identity.role is Role.PLAIN else identity.role.value,
            "consequence": identity.consequence,
            "signer": f" from {declaration.ca}" if declaration.ca else "",
            "restore": RESTORE,
        }
        label, outcome = row.label.format(**fill), row.outcome.format(**fill)
        yield Hit(
            variable=declaration.name,
            message=(
                f"{declaration.name} ({label}) is declared in {declaration.where} but missing from the var-store: BOSH "
                f"will generate a new one on the next deploy{outcome}"
            ),
            details={"declared": declaration.where, "type": declaration.type},
        )


MISSING_FAMILY = family(
    (
        Missing(
            code="CL630",
            name="missing-encryption-key",
            severity=Severity.ERROR,
            category=Category.ENCRYPTION_KEY,
            label="encryption key",
            summary="An encryption key declared in the manifest is missing from the var-store (enabled by --manifest).",
            rationale=(
                'The pre-flight answer to "what will ``create-env`` regenerate?": bosh generates every declared '
                "variable that the var-store lacks, silently. A new encryption key means data encrypted with the old "
                "one can no longer be decrypted — the incident creds-lint was written for. Enabled by ``--manifest``."
            ),
            remedy=f"{RESTORE}.",
        ),
        Missing(
            code="CL631",
            name="missing-ca",
            severity=Severity.ERROR,
            category=Category.CA,
            label="CA",
            summary="A CA declared in the manifest is missing from the var-store (enabled by --manifest).",
            rationale=(
                "A missing CA is generated with a new key pair: VMs and clients that trust the old one reject "
                "everything the new one signs, and certificates the old one signed do not verify against it. Enabled "
                "by ``--manifest``."
            ),
            remedy=f"{RESTORE}.",
        ),
        Missing(
            code="CL632",
            name="missing-keypair",
            severity=Severity.WARNING,
            category=Category.KEYPAIR,
            label="{type} key pair",
            summary=(
                "An rsa or ssh key pair declared in the manifest is missing from the var-store (enabled by --manifest)."
            ),
            rationale=(
                "A missing key pair is generated anew: tokens signed with the old key become invalid, and whoever "
                "logs in with the old ssh key or pinned the old host key is locked out. Enabled by ``--manifest``."
            ),
            remedy=f"{RESTORE}.",
        ),
        Missing(
            code="CL633",
            name="missing-password",
            severity=Severity.WARNING,
            category=Category.SECRET,
            label="{role}",
            summary="A password declared in the manifest is missing from the var-store (enabled by --manifest).",
            rationale=(
                "A missing password is generated anew; components configured with a previous value (agents, people, "
                "pipelines) fail to authenticate until they are redeployed. Passwords declared disposable are "
                "reported by ``disposable-changed`` instead. Enabled by ``--manifest``."
            ),
            remedy=f"{RESTORE}; list it under classify.disposable if bosh may regenerate it.",
        ),
        Missing(
            code="CL634",
            name="missing-certificate",
            severity=Severity.INFO,
            category=Category.CERTIFICATE,
            label="certificate",
            outcome="{signer}, which is safe while that CA stays unchanged.",
            summary=(
                "A leaf certificate declared in the manifest is missing from the var-store (enabled by --manifest)."
            ),
            rationale=(
                "A missing leaf certificate is issued by its CA on the next deploy; everything that trusts the CA "
                "accepts it. This is how a leaf rotation (or a re-issue after an IP change) is done. Enabled by "
                "``--manifest``."
            ),
            remedy="Nothing to do if its CA stays unchanged: bosh issues it from that CA.",
        ),
    ),
    missing_declared,
    claims=frozenset(),
)


def _declared_entries(ctx: Context) -> Iterator[tuple[Declaration, Entry]]:
    if ctx.manifest is None:
        return
    for declaration in ctx.manifest.variables.values():
        entry = ctx.new.get(declaration.name)
        if entry is not None and not is_empty(entry.value):
            yield declaration, entry


@rule(
    code="CL620",
    name="declared-type-mismatch",
    severity=Severity.ERROR,
    summary="A stored value's type differs from the manifest's declaration (enabled by --manifest).",
    remedy=(
        "Restore the value of the declared type from version control, or delete it so that bosh generates one; "
        "if the manifest is wrong, fix the manifest."
    ),
    claims=MODIFIED,
)
def declared_type_mismatch(ctx: Context) -> Iterator[Hit]:
    """bosh never checks a stored value against its declaration: a password where the manifest declares a
    certificate stays, and every job that reads ``((name.certificate))`` fails to render. Often the trace of a
    paste into the wrong key or an indentation slip. Enabled by ``--manifest``."""
    for declaration, entry in _declared_entries(ctx):
        if declaration.kind is None or entry.kind is declaration.kind:
            continue
        stored = _A_VALUE[entry.kind]
        yield Hit(
            variable=entry.name,
            line=entry.line,
            message=(
                f"{entry.name} is declared as {declaration.type} in {declaration.where} but the var-store holds "
                f"{stored}: bosh keeps it as it is and the jobs that read it fail."
            ),
            details={"declared": declaration.where, "declared_type": declaration.type, "stored": entry.kind.value},
        )


_A_VALUE = {
    Kind.PASSWORD: "a password",
    Kind.CERTIFICATE: "a certificate",
    Kind.RSA: "an rsa key pair",
    Kind.SSH: "an ssh key pair",
    Kind.UNKNOWN: "a value of no known shape",
}


def option_differences(ctx: Context, declaration: Declaration, entry: Entry) -> Iterator[tuple[str, str, str]]:
    """``(option, declared, stored)`` for every compared option of a certificate that differs."""
    cert = ctx.certificate(entry)
    if cert is None:
        return
    info = x509.info(cert)
    if declaration.common_name is not None and declaration.common_name != info.common_name:
        yield "common_name", declaration.common_name, info.common_name
    if declaration.alternative_names is not None:
        declared = sorted({normalize_name(n) for n in declaration.alternative_names})
        stored = sorted({normalize_name(n) for n in info.sans})
        if declared != stored:
            yield "alternative_names", ", ".join(declared) or "none", ", ".join(stored) or "none"
    declared_ca = bool(declaration.is_ca)
    if declared_ca != info.is_ca:
        yield "is_ca", str(declared_ca).lower(), str(info.is_ca).lower()
    if declaration.extended_key_usage is not None:
        declared = sorted(set(declaration.extended_key_usage))
        stored = sorted(x509.extended_key_usages(cert))
        if declared != stored:
            yield "extended_key_usage", ", ".join(declared) or "none", ", ".join(stored) or "none"
    if declaration.ca is not None:
        signer = ctx.certificate(ctx.new.get(declaration.ca))
        if signer is not None and not x509.signed_by(cert, signer):
            yield "ca", declaration.ca, f"a certificate signed by {info.issuer}"


@rule(
    code="CL621",
    name="certificate-options-mismatch",
    severity=Severity.ERROR,
    summary="A certificate's names, usages or signer differ from its options in the manifest (enabled by --manifest).",
    remedy=(
        "Delete the certificate from the var-store so that bosh re-issues it from its CA with the manifest's "
        "options on the next deploy (a leaf: its CA stays unchanged), or fix the manifest."
    ),
    claims=MODIFIED,
)
def certificate_options_mismatch(ctx: Context) -> Iterator[Hit]:
    """bosh generates a certificate once and keeps it: when the manifest's options change — a new director IP
    in ``alternative_names``, another ``common_name``, another signing ``ca`` — the stored certificate does not
    follow, and clients that connect by the new name, or trust the other CA, reject it. After an IP change,
    ``director_ssl``, ``mbus_bootstrap_ssl``, ``nats_server_tls`` and ``blobstore_server_tls`` must be
    re-issued. Enabled by ``--manifest``; options that still hold a ``((variable))`` are skipped."""
    for declaration, entry in _declared_entries(ctx):
        if declaration.kind is not Kind.CERTIFICATE or entry.kind is not Kind.CERTIFICATE:
            continue
        for option, declared, stored in option_differences(ctx, declaration, entry):
            yield Hit(
                variable=entry.name,
                field="certificate",
                line=entry.field_line("certificate"),
                message=(
                    f"{entry.name}: the manifest ({declaration.where}) says {option}: {declared}, the stored "
                    f"certificate has {stored}. bosh keeps the stored certificate as it is; delete it so that bosh "
                    "re-issues it, or fix the manifest."
                ),
                details={"option": option, "declared": declared, "stored": stored},
            )


@rule(
    code="CL640",
    name="orphaned-variable",
    severity=Severity.INFO,
    summary="A stored variable is not declared in the manifest (enabled by --manifest).",
    remedy="Remove it from the var-store once nothing refers to it any more (bosh never removes a variable).",
)
def orphaned_variable(ctx: Context) -> Iterator[Hit]:
    """bosh never removes a variable from a var-store: values of variables an old manifest declared stay,
    unused, and keep secrets around that nobody rotates. Reported for the variables a change adds or modifies,
    and for every variable when one file is audited (``creds-lint check``) or with ``--all``. Enabled by
    ``--manifest``."""
    if ctx.manifest is None:
        return
    for entry in ctx.subjects:
        if entry.name not in ctx.manifest.variables:
            yield Hit(
                variable=entry.name,
                line=entry.line,
                message=f"{entry.name} is not declared in {ctx.manifest.label}: bosh no longer uses it.",
            )


@rule(
    code="CL641",
    name="unresolved-manifest-option",
    severity=Severity.INFO,
    summary="Manifest options that still hold ((variables)) were not compared (enabled by --manifest).",
    remedy="Give the manifest as `bosh int` prints it with its variables (-v, -l) to compare these options too.",
)
def unresolved_manifest_option(ctx: Context) -> Iterator[Hit]:
    """A manifest straight from bosh-deployment says ``alternative_names: [((internal_ip))]``: such options
    cannot be compared with a certificate, so they are skipped, and said once here. Enabled by ``--manifest``."""
    if ctx.manifest is None or not ctx.manifest.unresolved:
        return
    skipped = ctx.manifest.unresolved
    yield Hit(
        variable=None,
        message=(
            f"{len(skipped)} option{'s' if len(skipped) != 1 else ''} of {ctx.manifest.label} still "
            f"hold{'s' if len(skipped) == 1 else ''} ((variables)) and {'were' if len(skipped) != 1 else 'was'} "
            f"not compared: {', '.join(skipped)}."
        ),
    )


RULES = (
    *MISSING_FAMILY,
    declared_type_mismatch,
    certificate_options_mismatch,
    orphaned_variable,
    unresolved_manifest_option,
)
