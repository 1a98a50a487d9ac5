"""Redacted views of var-stores: what each variable is and how it changed, never what it holds.

``creds-lint diff OLD NEW`` prints a structural diff: per variable added, removed or changed, with fingerprints
of values and, for certificates, subject, issuer, serial and validity instead of PEM. The same views serve git:

* as a ``textconv`` filter (``creds-lint diff --textconv FILE``), git diffs the redacted one-file views;
* as an external diff driver (``diff.<driver>.command = creds-lint diff``), git calls it with seven arguments
  (path, old file, old hex, old mode, new file, new hex, new mode; nine for a rename) and shows its output.

In both git modes a file that cannot be parsed is shown as a one-line note and the exit code stays 0 (a
non-zero exit makes git abort the whole diff); comparing two files directly exits 2 when one cannot be read.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING

from creds_lint import x509
from creds_lint.classify import classify
from creds_lint.diff import NO_CHANGES, ChangeKind
from creds_lint.errors import CredsLintError
from creds_lint.loader import parse_store
from creds_lint.model import (
    DEFAULT_CLASSIFIER,
    Classifier,
    Entry,
    Kind,
    VarStore,
    field_label,
    fingerprint,
    is_ciphertext,
    yaml_type,
)
from creds_lint.reporters.style import clean
from creds_lint.rules.base import Context
from creds_lint.rules.describe import what
from creds_lint.sources import Source, Target

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

#: What git passes for the missing side of an added or deleted file.
DEV_NULL = "/dev/null"


@dataclass(frozen=True, kw_only=True)
class Fact:
    """One thing that may be shown about a variable: ``field`` (``value`` for a password), an optional
    ``attribute`` of it (a certificate's ``serial``...), and its redacted text."""

    field: str
    text: str
    attribute: str = ""

    @property
    def key(self) -> str:
        return f"{self.field} {self.attribute}" if self.attribute else self.field


def _context(store: VarStore, classifier: Classifier) -> Context:
    """A store classified as the rules see it: every variable, under the configuration's classifier."""
    return Context(new=store, old=None, changes=NO_CHANGES, classifier=classifier, classes=classify(store, classifier))


def _certificate(field: str, cert: Certificate) -> list[Fact]:
    info = x509.info(cert)
    return [
        Fact(field=field, attribute="subject", text=info.subject + (" (CA)" if info.is_ca else "")),
        Fact(field=field, attribute="issuer", text="self-signed" if info.issuer == info.subject else info.issuer),
        Fact(field=field, attribute="serial", text=info.serial),
        Fact(field=field, attribute="validity", text=f"{info.not_before:%Y-%m-%d} to {info.not_after:%Y-%m-%d}"),
        Fact(field=field, attribute="fingerprint", text=info.fingerprint),
    ]


def _certificates(name: str, pem: str) -> list[Fact]:
    certs = x509.load_certificates(pem)
    if certs is None:
        return [Fact(field=name, text=f"not a parseable certificate, {fingerprint(pem)}")]
    out = []
    for i, cert in enumerate(certs, 1):
        out += _certificate(name if len(certs) == 1 else f"{name}[{i}]", cert)
    others = [(label, block) for label, block in x509.pem_blocks(pem) if label != "CERTIFICATE"]
    return out + _extras(name, others, pem)


def _pem_block(label: str, block: str) -> str:
    """One PEM block of any type in one line: a key by its algorithm, size and public key id, a certificate by
    its subject and fingerprint, anything else by its type and fingerprint; never its text."""
    if "PRIVATE KEY" in label or "PUBLIC KEY" in label:
        return f"{x509.pem_kind(label)}, {_key(block)}"
    if label == "CERTIFICATE" and (cert := x509.load_certificate(block)) is not None:
        info = x509.info(cert)
        return f"certificate {info.subject}, fingerprint {info.fingerprint}"
    return f"{x509.pem_kind(label)}, {fingerprint(block)}"


def _extras(name: str, blocks: Sequence[tuple[str, str]], text: str) -> list[Fact]:
    """Whatever a field holds besides what belongs in it, which the parsers ignore and bosh deploys: one fact
    per extra PEM block, and one for text outside the blocks, each by its fingerprint."""
    out = [Fact(field=f"{name}, extra PEM block {i}", text=_pem_block(*b)) for i, b in enumerate(blocks, 1)]
    if outside := x509.outside_pem(text):
        out.append(Fact(field=f"{name}, text outside PEM blocks", text=fingerprint(outside)))
    return out


def _keys(name: str, text: str) -> list[Fact]:
    """A key field: its key, then every PEM block pasted after the first (or, for OpenSSH public keys, one
    per line, every line after the first)."""
    blocks = x509.pem_blocks(text)
    if blocks:
        return [Fact(field=name, text=_key(blocks[0][1])), *_extras(name, blocks[1:], text)]
    lines = [line for line in text.splitlines() if line.strip()] or [text]
    return [
        Fact(field=name if i == 1 else f"{name}, extra line {i - 1}", text=_key(line))
        for i, line in enumerate(lines, 1)
    ]


def _key(text: str) -> str:
    described = x509.describe_private_key(text) if "PRIVATE KEY" in text else None
    if described is None:
        public = x509.load_public_key(text)
        if public is None:
            return f"not a parseable key, {fingerprint(text)}"
        name = type(public).__name__.removeprefix("_").replace("PublicKey", "").lower() or "key"
        described = (name, x509.key_bits(public), x509.key_id(public))
    algorithm, bits, key_id = described
    return f"{algorithm}{f' {bits} bits' if bits else ''}, public key {key_id}"


def _is_md5_hex(text: str) -> bool:
    parts = text.strip().split(":")
    return len(parts) == 16 and all(len(p) == 2 and all(c in "0123456789abcdef" for c in p.lower()) for p in parts)


def _text(value: object) -> str:
    """A value shown by its fingerprint, marked as sops ciphertext when it is one (read without keys)."""
    return f"sops ciphertext {fingerprint(value)}" if is_ciphertext(value) else fingerprint(value)


def _scalar(value: object) -> str:
    """A field that is not text to describe: null, a typed value, or sops ciphertext, by its fingerprint."""
    if value is None:
        return "null"
    return _text(value) if isinstance(value, str) else f"{yaml_type(value)} {fingerprint(value)}"


def _field(entry: Entry, name: str, value: object) -> list[Fact]:
    if not isinstance(value, str) or is_ciphertext(value):
        return [Fact(field=name, text=_scalar(value))]
    if entry.kind is Kind.CERTIFICATE and name in ("certificate", "ca"):
        if name == "ca" and value == entry.text("certificate"):
            return [Fact(field=name, text="same as certificate")]  # a root CA: its own signer
        return _certificates(name, value)
    if name == "public_key" or (name == "private_key" and "-----BEGIN" in value):
        return _keys(name, value)
    if _public(entry, name, value):
        return [Fact(field=name, text=value.strip())]
    return [Fact(field=name, text=fingerprint(value))]


def _public(entry: Entry, name: str, value: str) -> bool:
    """An ssh key's public MD5 fingerprint, or the credential name a CredHub certificate names its signer by."""
    if name == "public_key_fingerprint":
        return _is_md5_hex(value)
    return name == "ca_name" and entry.kind is Kind.CERTIFICATE and _CREDHUB_NAME.fullmatch(value) is not None


#: A CredHub credential name (``/director/deployment/name``), as ``ca_name`` holds it.
_CREDHUB_NAME = re.compile(r"/[A-Za-z0-9_./-]{1,500}")


def facts(entry: Entry) -> list[Fact]:
    """The redacted facts of one variable, field by field."""
    if entry.kind is Kind.PASSWORD or not isinstance(entry.value, Mapping):
        return [Fact(field="value", text="null" if entry.value is None else _text(entry.value))]
    return [fact for name in sorted(entry.fields) for fact in _field(entry, field_label(str(name)), entry.fields[name])]


def _block(facts_: list[Fact], indent: str) -> Iterator[str]:
    """Facts as nested lines: ``field: text``, or ``field:`` and its attributes below it."""
    for field, group in groupby(facts_, key=lambda f: f.field):
        items = list(group)
        if len(items) == 1 and not items[0].attribute:
            yield f"{indent}{field}: {items[0].text}"
        else:
            yield f"{indent}{field}:"
            yield from (f"{indent}  {f.attribute}: {f.text}" for f in items)


def view(store: VarStore, classifier: Classifier = DEFAULT_CLASSIFIER) -> str:
    """A redacted one-file view, one block per variable in file order (what ``textconv`` shows git), each
    variable named as every command names it under ``classifier`` (the configuration's)."""
    ctx = _context(store, classifier)
    out: list[str] = []
    for entry in store:
        entry_facts = facts(entry)
        if len(entry_facts) == 1 and entry_facts[0].field == "value":
            out.append(f"{what(ctx, entry)}: {entry_facts[0].text}")
        else:
            out.append(f"{what(ctx, entry)}:")
            out.extend(_block(entry_facts, "  "))
    for duplicate in store.duplicates:
        where = ", ".join(str(n) for n in duplicate.lines)
        subject = duplicate.name + (f".{duplicate.field}" if duplicate.field else "")
        out.append(f"# {subject} appears {len(duplicate.lines)} times (lines {where}); bosh uses the last one")
    return "\n".join(clean(line) for line in out) + ("\n" if out else "")


def _changed(old: list[Fact], new: list[Fact]) -> Iterator[str]:
    """``field attribute: old -> new`` for every fact that differs."""
    before = {f.key: f.text for f in old}
    after = {f.key: f.text for f in new}
    for key in [*before, *(k for k in after if k not in before)]:
        a, b = before.get(key, "(none)"), after.get(key, "(none)")
        if a != b:
            yield f"    {key}: {a} -> {b}"


def diff(old: VarStore, new: VarStore, classifier: Classifier = DEFAULT_CLASSIFIER) -> str:
    """The redacted structural diff from ``old`` to ``new``, with a summary line."""
    from creds_lint.engine import compare

    changes = compare(old, new)
    old_ctx, new_ctx = _context(old, classifier), _context(new, classifier)
    out = [f"--- {old.source}", f"+++ {new.source}"]
    counts = dict.fromkeys(ChangeKind, 0)
    for change in changes:
        counts[change.kind] += 1
        if change.kind is ChangeKind.ADDED and change.new is not None:
            out.append(f"+ {what(new_ctx, change.new)}, added at line {change.new.line}")
            out.extend(_block(facts(change.new), "    "))
        elif change.kind is ChangeKind.REMOVED and change.old is not None:
            out.append(f"- {what(old_ctx, change.old)}, removed (was line {change.old.line})")
            out.extend(_block(facts(change.old), "    "))
        elif change.old is not None and change.new is not None:
            old_name, new_name = what(old_ctx, change.old), what(new_ctx, change.new)
            title = old_name if old_name == new_name else f"{old_name} -> {new_name.removeprefix(change.name + ' ')}"
            out.append(f"~ {title}, changed at line {change.new.line}")
            out.extend(_changed(facts(change.old), facts(change.new)))
    unchanged = sum(1 for name in new.entries if name in old.entries) - counts[ChangeKind.MODIFIED]
    out.append(
        f"{counts[ChangeKind.ADDED]} added, {counts[ChangeKind.REMOVED]} removed, "
        f"{counts[ChangeKind.MODIFIED]} changed, {unchanged} unchanged"
    )
    return "\n".join(clean(line) for line in out) + "\n"


# ------------------------------------------------------------------------------------------------- git modes


def note(error: CredsLintError) -> str:
    """What the git modes show instead of what cannot be read (a file, or the configuration): one line."""
    return clean(f"# creds-lint: cannot show {error}") + "\n"


def load(source: Source) -> VarStore:
    """One version of a var-store, parsed."""
    return parse_store(source.read(), source=source.label)


def textconv(source: Source, classifier: Classifier = DEFAULT_CLASSIFIER) -> str:
    """What git shows for one version of a var-store; a file that does not parse becomes a one-line note."""
    try:
        return view(load(source), classifier)
    except CredsLintError as exc:
        return note(exc)


def external(target: Target, classifier: Classifier = DEFAULT_CLASSIFIER) -> str:
    """What git shows as the diff of a var-store when creds-lint is the diff driver (``GIT_EXTERNAL_DIFF``):
    ``target`` is named after the path git gives, its versions ``a/PATH`` and ``b/NEW-PATH`` (``/dev/null`` for
    the missing side of an added or deleted file)."""
    assert target.old is not None
    assert target.new is not None
    new_label = target.new.label
    new_path = new_label.removeprefix("b/") if new_label != DEV_NULL else target.label
    header = clean(f"diff --creds-lint a/{target.label} b/{new_path}") + "\n"
    try:
        old, new = load(target.old), load(target.new)
    except CredsLintError as exc:
        return header + note(exc)
    return header + diff(old, new, classifier)
