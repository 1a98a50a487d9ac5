"""``--format text``: for people. Grouped by file; errors first, then warnings, then what was allowed; each
finding on one line, then what to do about it; a summary.

A finding's message already says what happened and what breaks; the ``fix:`` line below it gives the rule's
remedy (``creds-lint --explain CODE`` gives the whole rationale). An allowed finding starts with ``allowed`` and
shows its reason instead. Info findings are one count line per file unless ``--verbose``, which says whether they
are safe changes or depend on a problem their messages name (a leaf re-issued by a regenerated CA). Pages of
the documentation are named by their URL: a hook's or a CI job's reader has no docs folder.
"""

from __future__ import annotations

import functools
import json
import shlex
import textwrap
from collections.abc import Collection, Mapping, Sequence
from itertools import groupby

from creds_lint.findings import WITHHELD, CertificateRecord, ConfigurationNote, Finding, Report, RuleInfo, Severity
from creds_lint.origin import STDIN, Origin
from creds_lint.reporters.style import PLAIN, SEVERITY_COLOR, Color, Style, clean, linked, paragraphs

_WIDTH = 100
_INDENT = "      "


def location(finding: Finding) -> str:
    """``file:line`` of a finding: the new file, or the old one for something that was removed."""
    if finding.line is not None:
        return f"{finding.file}:{finding.line}"
    if finding.old_line is not None and finding.old_file is not None:
        return f"{finding.old_file}:{finding.old_line}"
    return str(finding.file)


def line(finding: Finding, style: Style = PLAIN) -> str:
    subject = finding.variable or ""
    if finding.field:
        subject += f".{finding.field}"
    if finding.allowed:
        status = style.paint("allowed", Color.GREEN)
        reason = f" (allowed: {finding.reason})" if finding.reason else " (allowed)"
    else:
        status, reason = style.paint(finding.severity.value, SEVERITY_COLOR[finding.severity]), ""
    rule = style.paint(f"{finding.code} {finding.rule}", Color.BOLD)
    return (
        f"{clean(location(finding))}: {status} {rule}: "
        f"{clean(subject) + ': ' if subject else ''}{clean(linked(finding.message) + reason)}"
    )


def _rank(finding: Finding) -> int:
    """The order within a file: errors, warnings, what was allowed, information."""
    if finding.allowed:
        return 3
    return {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 4}[finding.severity]


#: What the summaries say of info findings that depend on a problem (:attr:`Finding.depends_on_problem`).
NOT_SAFE_ALONE = "not safe on their own, each message says why"


def info_verdict(findings: Sequence[Finding]) -> str:
    """What info findings are, in words: safe changes, or not safe on their own when their change depends on a
    problem their message names (a leaf re-issued by a regenerated CA); both counted when they are mixed."""
    depending = sum(1 for f in findings if f.depends_on_problem)
    if not depending:
        return "safe changes"
    if depending == len(findings):
        return NOT_SAFE_ALONE
    return f"{len(findings) - depending} safe changes, {depending} {NOT_SAFE_ALONE}"


def info_line(findings: Sequence[Finding]) -> str:
    """The info findings of one file as one line: how many, of which rules, and whether they are safe."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.rule] = counts.get(finding.rule, 0) + 1
    rules = ", ".join(f"{n} {rule}" for rule, n in counts.items())
    return f"  {len(findings)} info ({rules}): {info_verdict(findings)}, listed with -v"


#: The rules of a report's catalogue by name.
Catalogue = Mapping[str, RuleInfo]


def fix(finding: Finding, rule: RuleInfo | None) -> str | None:
    """What to do: the rule's remedy, less the sentences the message already says; ``None`` for nothing to do."""
    if finding.allowed or finding.severity is Severity.INFO or rule is None:
        return None
    sentences = [s.strip() + "." for s in (finding.remedy or rule.remedy).split(". ") if s.strip()]
    remaining = [s for s in sentences if s.rstrip(".") not in finding.message]
    text = " ".join(remaining).replace("..", ".")
    return linked(text) or None


def allow_entry(finding: Finding, rule: RuleInfo | None) -> str | None:
    """The ``allow:`` entry that would cover exactly this change, as one line of YAML; ``None`` for a finding
    that is allowed, information, or about an allowance (allowing those makes no sense)."""
    if finding.allowed or finding.severity is Severity.INFO or (rule is not None and rule.about_allowances):
        return None
    if finding.variable is None:  # about the whole file: allowed by file
        return f'- {{rule: {finding.rule}, file: {json.dumps(finding.file.path)}, reason: "..."}}'
    fields = [f"rule: {finding.rule}", f"variable: {json.dumps(finding.variable)}"]
    if finding.fingerprint and finding.fingerprint != WITHHELD:
        fields.append(f'fingerprint: "{finding.fingerprint}"')
    fields.append('reason: "..."')
    entry = f"- {{{', '.join(fields)}}}"
    # a value too short or plain to fingerprint is allowed by rule and variable alone
    return entry + "  # fingerprint withheld" if finding.fingerprint == WITHHELD else entry


def _destructive(finding: Finding, rules: Catalogue) -> bool:
    rule = rules.get(finding.rule)
    return rule is not None and rule.destructive


def _renewable(finding: Finding, rules: Catalogue) -> bool:
    rule = rules.get(finding.rule)
    return rule is not None and rule.renewable


def allow_block(findings: tuple[Finding, ...], rules: Catalogue, *, suggest_allow: bool = False) -> list[str]:
    """For the changes that may be deliberate: the ``allow:`` entries to paste into ``.creds-lint.yml``. Findings
    of destructive rules get one only with ``suggest_allow`` (``--suggest-allow``): pasted to unblock a deploy, they
    would make the loss permanent; nor do those of renewable rules, whose fix is ``creds-lint renew``
    (:func:`renew_block`): allowed, a certificate that expires soon is silent until it has expired."""
    entries = list(
        dict.fromkeys(
            e
            for f in findings
            if (suggest_allow or not (_destructive(f, rules) or _renewable(f, rules)))
            and (e := allow_entry(f, rules.get(f.rule))) is not None
        )
    )
    if not entries:
        return []
    return [
        linked(
            "If a change above is deliberate, allow exactly it in .creds-lint.yml with the reason "
            "(docs/configuration.md):"
        ),
        "  allow:",
        *(f"    {clean(e)}" for e in entries),
    ]


def restore_command(old_file: Origin | None) -> str:
    """How to get the old values back: a git command for a version read from a revision, else where they are."""
    if old_file is None:
        return "restore the old values from version control"
    if old_file.path == STDIN and old_file.rev is None:
        return "restore the old values from the version given on standard input (or from version control)"
    if old_file.rev is None:
        return f"restore the old values from {old_file} (or from version control)"
    command = f"git checkout {shlex.quote(old_file.rev)} -- {shlex.quote(old_file.path)}"
    return f"{command}   (at the top of the repository; it discards every change to the file)"


#: Where the import file of a CredHub restore goes, in the advice (``creds-lint restore ... --import-file``).
IMPORT_FILE = "restore.yml"


def restore_entries_command(lost: Sequence[Finding], exports: Collection[Origin] = ()) -> list[str]:
    """``creds-lint restore`` for each file whose entries were removed or regenerated: without names when the
    command's own selection (keys, passwords, key pairs) covers them, else with the names (CAs and certificates are
    restored only when named), and ``--with-dependents`` for a CA. For a CredHub export (in ``exports``) the
    command writes an import file, and ``credhub import`` puts the values back: the export is never written."""
    from creds_lint.restore import SELECTED_RULES

    by_file: dict[tuple[str, str], list[Finding]] = {}
    for finding in lost:
        old = finding.old_file
        restorable = finding.rule.startswith(("removed-", "regenerated-")) and finding.rule != "removed-file"
        if not restorable or old is None or finding.variable is None or STDIN in (old.path, finding.file.path):
            continue  # standard input is no file to write or to restore from
        if old.rev is not None and old.path != finding.file.path:  # renamed: --from REV reads FILE's own path
            continue
        source = old.rev if old.rev is not None else old.path
        by_file.setdefault((finding.file.path, source), []).append(finding)
    lines = []
    for (path, source), found in by_file.items():
        named = any(f.rule not in SELECTED_RULES for f in found)
        names = [shlex.quote(n) for n in dict.fromkeys(f.variable for f in found) if n is not None] if named else []
        cas = any(f.rule in ("removed-ca", "regenerated-ca") for f in found)
        export = any(f.file in exports for f in found)
        command = " ".join(
            ["creds-lint restore", shlex.quote(path), "--from", shlex.quote(source), *names]
            + (["--with-dependents"] if cas else [])
            + (["--import-file", IMPORT_FILE] if export else [])
        )
        if export:
            lines.append(f"{command}   (writes only these credentials: {linked('docs/credhub.md')})")
            lines.append(f"credhub import -f {IMPORT_FILE}   (then delete {IMPORT_FILE}: it holds the secrets)")
        else:
            lines.append(
                f"{command}   (puts back only these entries, with a backup: {linked('docs/usage.md#restore')})"
            )
    return lines


def restore_block(
    findings: tuple[Finding, ...], rules: Catalogue, *, suggested: bool, exports: Collection[Origin] = ()
) -> list[str]:
    """For findings of destructive rules: how to restore the old values, and where to read before allowing one;
    ``suggested``: the allowances are printed below anyway (``--suggest-allow``); ``exports``: the files that are
    CredHub exports, whose values go back into CredHub."""
    # an audit (no old version) has nothing to restore from: its findings' remedies say how to renew or rotate
    lost = [
        f
        for f in findings
        if _destructive(f, rules) and not f.allowed and f.severity is not Severity.INFO and f.old_file is not None
    ]
    if not lost:
        return []
    # checking out an old export restores a backup file, not CredHub: only the import puts the values back
    commands = dict.fromkeys(restore_command(f.old_file) for f in lost if f.file not in exports)
    commands.update(dict.fromkeys(restore_entries_command(lost, exports)))
    names = ", ".join(dict.fromkeys(f.rule for f in lost))
    allow = (
        "the allow: entries below cover exactly these changes"
        if suggested
        else "--suggest-allow prints allow: entries that cover exactly these changes"
    )
    advice = (
        f"Only if a change is deliberate: read creds-lint --explain RULE ({names}) and docs/configuration.md#allow; "
        f"{allow}."
    )
    in_credhub = all(f.file in exports for f in lost)
    heading = (
        "Set the old values back in CredHub before the next deploy, or the deployment uses the new ones:"
        if in_credhub
        else "Restore the old values before the next deploy, or BOSH generates new ones (or keeps broken ones):"
    )
    return [
        heading,
        *(f"  {clean(c)}" for c in commands),
        *_wrapped("", linked(advice), indent=""),
    ]


def renew_block(findings: tuple[Finding, ...], rules: Catalogue, *, exports: Collection[Origin] = ()) -> list[str]:
    """For the certificates that expire soon (findings of renewable rules): one ``creds-lint renew`` per file that
    renews them all with their own keys, CAs before what they signed. None for a CredHub export (renew writes bosh
    var-stores only; the finding's remedy says what to do in CredHub) or for standard input (no file to write)."""
    by_file: dict[str, list[str]] = {}
    for f in findings:
        if not _renewable(f, rules) or f.allowed or f.variable is None or f.file in exports or f.file.path == STDIN:
            continue
        by_file.setdefault(f.file.path, []).append(f.variable)
    if not by_file:
        return []
    commands = [
        " ".join(["creds-lint renew", shlex.quote(path), *(shlex.quote(n) for n in dict.fromkeys(names))])
        for path, names in by_file.items()
    ]
    return [
        linked("Renew the certificates that expire soon with their own keys, then deploy (docs/renew.md):"),
        *(f"  {clean(c)}   (--dry-run shows the renewal first)" for c in commands),
    ]


def _wrapped(label: str, text: str, *, indent: str = _INDENT) -> list[str]:
    return list(_wrap(label, text, indent))


@functools.lru_cache(maxsize=256)
def _wrap(label: str, text: str, indent: str) -> tuple[str, ...]:
    """Wrapped once per text: every finding of a rule has the same ``fix:`` (a regenerated CA per service of a
    large incident), and wrapping is most of the text output's time."""
    return tuple(
        textwrap.wrap(
            text,
            width=_WIDTH,
            initial_indent=f"{indent}{label}",
            subsequent_indent=indent + " " * len(label),
            break_on_hyphens=False,
        )
    )


def configuration_line(note: ConfigurationNote) -> str:
    """``configuration: FILE (rules off: ...; lowered: RULE -> LEVEL)``: which configuration the run used, and
    what it turned off or made less severe."""
    taken = [f"rules off: {', '.join(note.off)}"] if note.off else []
    if note.lowered:
        taken.append(f"lowered: {', '.join(f'{name} -> {level.value}' for name, level in note.lowered.items())}")
    if note.file is None and not taken:
        return "configuration: none (built-in defaults)"
    where = clean(note.file) if note.file is not None else "none"
    suffix = " (" + "; ".join(taken) + ")" if taken else ""
    return f"configuration: {where}{suffix}"


def summary(report: Report, style: Style = PLAIN) -> str:
    parts = []
    for s in reversed(Severity):
        n = report.count(s)
        part = f"{n} {s.value}{'s' if n != 1 and s is not Severity.INFO else ''}"
        parts.append(style.paint(part, SEVERITY_COLOR[s]) if n else part)
    allowed = sum(1 for f in report.findings if f.allowed)
    files = f"{report.files} file{'s' if report.files != 1 else ''}"
    text = f"{', '.join(parts)} in {files}"
    if allowed:
        text += f" ({allowed} allowed)"
    if report.errors:
        text += f"; {len(report.errors)} could not be checked"
    return text


def signer(record: CertificateRecord) -> str:
    if record.signer is None:
        return "(no CA in the store)"
    return "(self-signed)" if record.signer == record.variable else record.signer


_COLUMNS = ("VARIABLE", "COMMON NAME", "SIGNER", "NOT AFTER", "DAYS LEFT")


def certificate_table(records: tuple[CertificateRecord, ...]) -> list[str]:
    """The certificates of one file as aligned rows, soonest expiry first (the order of the report)."""
    rows = [_COLUMNS] + [
        (clean(r.variable), clean(r.common_name), clean(signer(r)), f"{r.not_after:%Y-%m-%d}", str(r.days_left))
        for r in records
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    return [
        "  "
        + "  ".join(
            cell.rjust(w) if i == len(widths) - 1 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def render(report: Report, style: Style = PLAIN) -> str:
    if report.errors and not report.findings and not report.certificates:
        return ""  # the one-line errors on stderr say it all
    shown = style.shown(report)
    if style.quiet and not shown:
        return ""
    rules = {r.name: r for r in report.rules}
    out: list[str] = []
    for file, group in groupby(shown, key=lambda f: f.file):
        out.append(style.paint(clean(str(file)), Color.BOLD))
        ordered = sorted(group, key=_rank)  # stable: the file's own order within each rank
        info = [f for f in ordered if f.severity is Severity.INFO and not f.allowed]
        listed = ordered if style.verbose else [f for f in ordered if f.severity is not Severity.INFO or f.allowed]
        for finding in listed:
            out.append(f"  {line(finding, style)}")
            remedy = None if style.quiet else fix(finding, rules.get(finding.rule))
            if remedy:
                out.extend(_wrapped("fix: ", remedy))
        if info and not style.verbose:
            out.append(info_line(info))
    if not style.quiet:
        out.extend(restore_block(shown, rules, suggested=style.suggest_allow, exports=report.exports))
        out.extend(renew_block(shown, rules, exports=report.exports))
        out.extend(allow_block(shown, rules, suggest_allow=style.suggest_allow))
        for file in dict.fromkeys(r.file for r in report.certificates):
            out.append(style.paint(f"Certificates in {clean(file)}, soonest expiry first:", Color.BOLD))
            out.extend(certificate_table(tuple(r for r in report.certificates if r.file == file)))
    note = report.configuration
    if note is not None and (not style.quiet or note.off or note.lowered):
        out.append(configuration_line(note))
    out.append(summary(report, style))
    return "\n".join(out) + "\n"


def explain(rule: RuleInfo) -> str:
    """A rule's page for the terminal: what it flags, why it matters, how to fix it."""
    out = [f"{rule.code} {rule.name} (default severity: {rule.severity.value})", "", rule.summary, "", "Why:"]
    for paragraph in paragraphs(rule.rationale):
        out.extend(_wrapped("", paragraph, indent="  "))
    out += ["", "How to fix:", *_wrapped("", rule.remedy, indent="  ")]
    out += [
        "",
        "How to allow a deliberate change:",
        f"  --allow {rule.name}:VARIABLE for one run, or an allow entry (rule: {rule.name}, variable, reason)",
        "  in .creds-lint.yml (docs/configuration.md).",
    ]
    return "\n".join(out) + "\n"
