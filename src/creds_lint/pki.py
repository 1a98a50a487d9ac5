"""The PKI inside one var-store: which CA signed each certificate, whether keys match, what expires when.

A certificate's signer is found the way bosh records it: first through its ``ca`` field (a copy of the signer's
``certificate`` as it was when the certificate was generated, compared as PEM without whitespace), and only when
that field does not identify a CA of the store, by verifying the signature against the CAs of the store whose
subject is the certificate's issuer, as verifiers find a parent (those whose subject key identifier equals the
certificate's authority key identifier first, each key once). A ``ca`` field may hold several certificates (a CA
rotation concatenates the old and the new CA): any of them may be the signer. CAs are told apart by subject and
key, never by name or text, and every store's CAs are indexed by both once (:func:`graph`): no check walks the
store for each certificate.

Everything here returns metadata (variable names, subjects, serials, dates, key fingerprints), never PEM or keys.
Parsing is cached by :mod:`creds_lint.x509`, so each certificate and key is parsed once per run.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from creds_lint import x509
from creds_lint.findings import CertificateRecord
from creds_lint.memo import cached
from creds_lint.model import Entry, Kind, VarStore, is_ciphertext, is_empty

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
    from cryptography.x509 import Certificate

#: The smallest RSA key that is not weak.
MIN_RSA_BITS = 2048

#: Suffixes of the variable that holds the next version of a CA during a rotation by file (``nats_ca_2``).
NEXT_SUFFIXES = ("_2", "_new")


class Link(enum.Enum):
    """How a certificate's signer was found."""

    SELF = "self-signed"
    CA_FIELD = "ca field"
    CA_NAME = "ca_name"  # a CredHub export names the signer
    SIGNATURE = "signature"


class Trust(enum.Enum):
    """The state of a certificate's chain within its store."""

    VALID = "valid"  # signed by a CA of the store (or self-signed), consistent with its ca field
    STALE = "stale"  # signed by a CA (version) that is no longer in the store
    NOT_SIGNED = "not signed"  # the CA in its own ca field did not sign it
    UNKNOWN = "unknown"  # the certificate does not parse: malformed-certificate speaks for it


@dataclass(frozen=True, kw_only=True)
class Chain:
    """Where a certificate stands in its store's CA graph.

    ``signer`` is the variable whose certificate verifies the signature (the certificate's own variable for a
    root), ``claimed`` the variables whose certificate its ``ca`` field holds, ``issuer`` — for a stale chain —
    the certificate from the ``ca`` field that did sign it but is in no variable of the store, and ``foreign``
    every certificate of the ``ca`` field that is in no variable of the store.
    """

    variable: str
    trust: Trust
    signer: str | None = None
    link: Link | None = None
    claimed: tuple[str, ...] = ()
    issuer: Certificate | None = None
    foreign: tuple[Certificate, ...] = ()

    def __reduce__(self) -> tuple[Callable[..., Chain], tuple[object, ...]]:
        """Pickled with its certificates as DER (a chain resolved on another CPU, :func:`warm`)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        issuer = x509.certificate_der(self.issuer) if self.issuer is not None else None
        return _chain, (
            {**fields, "issuer": issuer, "foreign": tuple(x509.certificate_der(cert) for cert in self.foreign)},
        )

    def signed(self, signer: str, link: Link) -> Chain:
        """This chain with its signer found: what :func:`dataclasses.replace` gives, built directly (it is built
        for nearly every certificate of a store)."""
        return Chain(
            variable=self.variable,
            trust=self.trust,
            signer=signer,
            link=link,
            claimed=self.claimed,
            issuer=self.issuer,
            foreign=self.foreign,
        )


def _chain(fields: dict[str, Any]) -> Chain:
    from cryptography.x509 import load_der_x509_certificate

    issuer, foreign = fields["issuer"], fields["foreign"]
    return Chain(
        **{
            **fields,
            "issuer": load_der_x509_certificate(issuer) if issuer is not None else None,
            "foreign": tuple(load_der_x509_certificate(der) for der in foreign),
        }
    )


@dataclass(frozen=True, kw_only=True)
class Warmed:
    """What :func:`warm` worked out for a store, as values: the plain facts of each certificate text of the store
    (:func:`creds_lint.x509.shipped`), in the order of :func:`_texts` (the texts themselves stay where they are:
    both processes hold the store), and the chains of the variables it was asked for."""

    facts: tuple[dict[str, object] | None, ...]
    chains: dict[str, Chain]


def warm(graph: Graph, names: Iterable[str]) -> dict[str, Chain]:
    """Every certificate of ``graph``'s store decoded (and whether it is self-signed, where every chain starts)
    and the chains of ``names`` resolved, which the rules would otherwise do on first use: a check of a large
    store does this for its two versions at once (:func:`shipped`)."""
    for _ in decoding(graph.store):
        pass
    chains: dict[str, Chain] = {}
    for name in names:
        entry = graph.store.get(name)
        if entry is not None and entry.kind is Kind.CERTIFICATE:
            chains[name] = graph.chain(entry)
    return chains


def decoding(store: VarStore) -> Iterator[None]:
    """Every certificate of ``store`` decoded and whether it is self-signed found, one at a time: the first part
    of :func:`warm`, and a piece of work to fill a wait with (the graph of the store decodes them all when first
    asked)."""
    for entry in store:
        if entry.kind is Kind.CERTIFICATE:
            facts = certificate_info(entry)
            if facts is not None:
                _ = facts.self_signed
            yield


def describing(graph: Graph, names: Iterable[str]) -> Iterator[None]:
    """Every fact a rule may ask of the changed certificates ``names`` (:attr:`creds_lint.x509.CertInfo.SHIPPED`),
    one certificate at a time (a piece of work to fill a wait with)."""
    for name in names:
        entry = graph.store.get(name)
        facts = certificate_info(entry) if entry is not None and entry.kind is Kind.CERTIFICATE else None
        if facts is not None:
            for fact in x509.CertInfo.SHIPPED:
                getattr(facts, fact)
            yield


def shipped(graph: Graph, names: frozenset[str]) -> Warmed:
    """:func:`warm`, and what it worked out as values, to send to the process that will :meth:`Graph.adopt` it:
    a second CPU warms the old version of a large store while the check warms the new one
    (:mod:`creds_lint.background`). Each text of a certificate or trust field is shipped (each block of a bundle
    too, so that nothing a rule looks up by its text is decoded again): with every fact a rule may ask for when
    its variable is one of ``names``, else with the facts that warming worked out."""
    chains = warm(graph, names)
    texts = _texts(graph.store)
    facts = tuple(x509.shipped(pem, every=not names.isdisjoint(found_in)) for pem, found_in in texts.items())
    return Warmed(facts=facts, chains=chains)


def _texts(store: VarStore) -> dict[str, list[str]]:
    """Every text of a certificate or trust field of ``store`` and each of its blocks, in the store's order, with
    the variables it is found in (a CA's certificate is in the trust field of each certificate it signed)."""
    texts: dict[str, list[str]] = {}
    for entry in store:
        if entry.kind is Kind.CERTIFICATE:
            for text in (entry.text("certificate"), entry.text("ca")):
                if text:
                    for found in dict.fromkeys((text, *x509.split_pem_certificates(text))):
                        texts.setdefault(found, []).append(entry.name)
    return texts


@dataclass(frozen=True, kw_only=True)
class Defect:
    """Something wrong with one field of an entry; ``message`` quotes nothing from the value."""

    field: str
    message: str


def pem_key(block: str) -> str:
    """A PEM block without any whitespace: the same certificate whatever the line endings and indentation."""
    return "".join(block.split())


def first_block(text: str | None) -> str | None:
    blocks = x509.split_pem_certificates(text) if text else ()
    return blocks[0] if blocks else None


class Graph:
    """The CA graph of one store. Subjects and keys are indexed once per store; chains are worked out on demand,
    once per certificate. :func:`graph` gives the one graph of a store."""

    def __init__(self, store: VarStore) -> None:
        self.store = store
        self._chains: dict[str, Chain] = {}
        self._trust_fields: dict[str, dict[str, x509.CertInfo | None]] = {}
        self._foreign: dict[tuple[Graph, str, str, str | None, str | None], tuple[Certificate, ...]] = {}

    @cached
    def _by_pem(self) -> dict[str, str]:
        """Variable of every certificate entry, by its certificate's PEM (no parsing needed)."""
        index: dict[str, str] = {}
        for entry in self.store:
            if entry.kind is Kind.CERTIFICATE and (block := first_block(entry.text("certificate"))):
                index.setdefault(pem_key(block), entry.name)
        return index

    @cached
    def facts(self) -> dict[str, x509.CertInfo]:
        """The facts of every certificate of the store that parses, by variable."""
        found: dict[str, x509.CertInfo] = {}
        for entry in self.store:
            if entry.kind is Kind.CERTIFICATE and (facts := certificate_info(entry)) is not None:
                found[entry.name] = facts
        return found

    @cached
    def certificates(self) -> dict[str, Certificate]:
        """Every certificate of the store that parses, by variable."""
        return {name: facts.cert for name, facts in self.facts.items()}

    @cached
    def cas(self) -> dict[str, Certificate]:
        """Every CA certificate of the store (BasicConstraints CA=true), by variable."""
        return {name: facts.cert for name, facts in self.facts.items() if facts.is_ca}

    @cached
    def _holders(self) -> dict[Certificate, str]:
        holders: dict[Certificate, str] = {}
        for name, cert in self.cas.items():
            holders.setdefault(cert, name)
        return holders

    @cached
    def _by_subject(self) -> dict[bytes, list[tuple[str, Certificate]]]:
        """The CAs by subject (DER): the candidates for the issuer of a certificate, as verifiers find them."""
        index: dict[bytes, list[tuple[str, Certificate]]] = {}
        for name, cert in self.cas.items():
            index.setdefault(self.facts[name].subject_der, []).append((name, cert))
        return index

    @cached
    def ca_keys(self) -> dict[bytes, tuple[str, ...]]:
        """The CAs by the DER of their public key."""
        index: dict[bytes, list[str]] = {}
        for name in self.cas:
            index.setdefault(self.facts[name].key_der, []).append(name)
        return {key: tuple(names) for key, names in index.items()}

    def trust_field(self, text: str) -> dict[str, x509.CertInfo | None]:
        """Each certificate block of ``text`` (a ``ca`` field of this store) by its whitespace-free PEM, with its
        certificate's facts (``None`` when it does not parse): worked out once per text, which the certificates
        a CA signed share."""
        blocks = self._trust_fields.get(text)
        if blocks is None:
            blocks = self._trust_fields[text] = {
                pem_key(block): x509.certificate_info(block) for block in x509.split_pem_certificates(text)
            }
        return blocks

    def holder_of(self, pem: str | None) -> str | None:
        """The variable whose certificate is the first certificate of ``pem`` (a ``ca`` field), by its text:
        nothing is parsed or verified."""
        block = first_block(pem)
        return self._by_pem.get(pem_key(block)) if block else None

    def variable_of(self, key: str) -> str | None:
        """The variable whose certificate has this :func:`pem_key`."""
        return self._by_pem.get(key)

    def holder(self, cert: Certificate) -> str | None:
        """The CA variable whose certificate is ``cert``."""
        return self._holders.get(cert)

    def cas_with_subject(self, cert: Certificate) -> tuple[str, ...]:
        """The CA variables whose certificate has ``cert``'s subject (whatever their key)."""
        return tuple(name for name, _ in self._by_subject.get(x509.info(cert).subject_der, ()))

    def own_certificate(self, name: str) -> Certificate | None:
        """The certificate of ``name`` when its private key is the certificate's key (a CA that can sign)."""
        facts = self.facts.get(name)
        entry = self.store.get(name)
        pem = entry.text("private_key") if entry is not None else None
        if facts is None or not pem or x509.private_key_der(pem) != facts.key_der:
            return None
        return facts.cert

    def adopt(self, warmed: Warmed) -> None:
        """Take what :func:`warm` worked out for this store elsewhere: facts and chains worked out here already
        are kept (they are the same)."""
        x509.adopt(dict(zip(_texts(self.store), warmed.facts, strict=True)))
        for name, chain in warmed.chains.items():
            self._chains.setdefault(name, chain)

    def chain(self, entry: Entry) -> Chain:
        chain = self._chains.get(entry.name)
        if chain is None:
            chain = self._chains[entry.name] = self._resolve(entry)
        return chain

    def signer(self, entry: Entry) -> str | None:
        return self.chain(entry).signer

    def foreign_trust(self, old: Entry, new: Entry, *, old_graph: Graph) -> tuple[Certificate, ...]:
        """:func:`foreign_trust` of ``new`` (an entry of this store) against ``old`` (of ``old_graph``'s), the
        CAs that signed either version trusted. It depends on nothing else than the two ``ca`` fields and the two
        signers, so it is worked out once for the certificates that share them (those a CA re-issued)."""
        old_text, new_text = old.text("ca") or "", new.text("ca") or ""
        if old_text == new_text:
            return ()
        old_signer, new_signer = old_graph.signer(old), self.signer(new)
        key = (old_graph, old_text, new_text, old_signer, new_signer)
        found = self._foreign.get(key)
        if found is None:
            signers = [
                (name, facts)
                for graph_, name in ((old_graph, old_signer), (self, new_signer))
                if name is not None and (facts := graph_.facts.get(name)) is not None
            ]
            found = self._foreign[key] = foreign_trust(old, new, signers=signers, old_graph=old_graph, new_graph=self)
        return found

    def _resolve(self, entry: Entry) -> Chain:
        facts = certificate_info(entry)
        if facts is None:
            return Chain(variable=entry.name, trust=Trust.UNKNOWN)
        cert = facts.cert
        claimed: list[tuple[str, Certificate]] = []
        foreign: list[Certificate] = []
        for block in x509.split_pem_certificates(entry.text("ca") or ""):
            trusted = x509.load_certificate(block)
            if trusted is None:
                continue  # malformed-certificate reports it
            name = self._by_pem.get(pem_key(block))
            if name is not None:
                claimed.append((name, trusted))
            else:
                foreign.append(trusted)
        base = Chain(
            variable=entry.name,
            trust=Trust.VALID,
            claimed=tuple(name for name, _ in claimed),
            foreign=tuple(foreign),
        )
        named = entry.text("ca_name")
        if named is not None and not claimed and not foreign:
            return self._named(base, cert, entry, named)
        if facts.self_signed:
            trusted_certs = [c for _, c in claimed] + foreign
            if not trusted_certs or any(c == cert or x509.signed_by(cert, c) for c in trusted_certs):
                return base.signed(entry.name, Link.SELF)
            return replace(base, trust=Trust.NOT_SIGNED)
        return self._issued(base, cert, entry, claimed)

    def _issued(self, base: Chain, cert: Certificate, entry: Entry, claimed: list[tuple[str, Certificate]]) -> Chain:
        """The chain of a certificate that is not self-signed: its ``ca`` field first, then every CA."""
        name = entry.name
        for ca_name, trusted in claimed:
            if x509.signed_by(cert, trusted):
                return base.signed(ca_name, Link.CA_FIELD)
        bundled = x509.load_certificates(entry.text("certificate") or "") or ()
        through = _through(cert, bundled[1:], claimed)
        if through is not None:
            direct, anchor = through
            return base.signed(self.holder(direct) or anchor, Link.CA_FIELD)
        issuer = next((c for c in base.foreign if x509.signed_by(cert, c)), None)
        signer = self._search(cert, exclude=name)
        link = Link.SIGNATURE if signer is not None else None
        if issuer is not None:
            trust = Trust.STALE
        elif claimed or base.foreign:
            trust = Trust.NOT_SIGNED
        else:  # no usable ca field: the signature alone says who signed it
            trust = Trust.VALID if signer is not None else Trust.STALE
        return replace(base, trust=trust, signer=signer, link=link, issuer=issuer)

    def _named(self, base: Chain, cert: Certificate, entry: Entry, named: str) -> Chain:
        """The chain of a certificate of a CredHub export whose ``ca_name`` names its signer. CredHub signed it
        with that credential's key: when the current version no longer verifies it, an earlier version did (the
        CA was regenerated since), which is a stale chain. A signer outside the export (``export -p PATH``) leaves
        it unknown unless another CA of the export verifies it."""
        holder = self.store.get(named)
        signer_cert = certificate(holder) if holder is not None and holder.kind is Kind.CERTIFICATE else None
        if holder is None:
            found = self._search(cert, exclude=entry.name)
            if found is None:
                return replace(base, trust=Trust.UNKNOWN)
            return replace(base, signer=found, link=Link.SIGNATURE)
        base = replace(base, claimed=(named,))
        if signer_cert is not None and (named == entry.name or x509.signed_by(cert, signer_cert)):
            return replace(base, signer=named, link=Link.CA_NAME)
        found = self._search(cert, exclude=entry.name)
        if found is not None:
            return replace(base, trust=Trust.NOT_SIGNED, signer=found, link=Link.SIGNATURE)
        return replace(base, trust=Trust.STALE)

    def _search(self, cert: Certificate, *, exclude: str) -> str | None:
        """The CA of the store whose key verifies ``cert``: only CAs whose subject is the certificate's issuer can
        (as verifiers match them), those whose SKID is the certificate's AKID first, each key tried once."""
        _, akid = x509.key_identifiers(cert)
        candidates = [(n, ca) for n, ca in self._by_subject.get(x509.info(cert).issuer_der, ()) if n != exclude]
        if akid is not None:
            candidates.sort(key=lambda item: x509.key_identifiers(item[1])[0] != akid)
        tried: set[bytes] = set()
        for name, ca in candidates:
            key = x509.info(ca).key_der
            if key not in tried:
                tried.add(key)
                if x509.signed_by(cert, ca):
                    return name
        return None


#: The graph of every store that something still holds one for (a rule's context), by the store's id: a graph
#: holds its store, so the id cannot be reused while the entry lives, and the entry goes with the last holder.
_GRAPHS: weakref.WeakValueDictionary[int, Graph] = weakref.WeakValueDictionary()


def graph(store: VarStore) -> Graph:
    """The graph of ``store``, built once while it is held: the rules and the documented rotations of a check
    share its indexes."""
    found = _GRAPHS.get(id(store))
    if found is None or found.store is not store:
        found = _GRAPHS[id(store)] = Graph(store)
    return found


def _through(
    cert: Certificate, bundled: tuple[Certificate, ...], anchors: list[tuple[str, Certificate]]
) -> tuple[Certificate, str] | None:
    """When the ``certificate`` field carries intermediates after the certificate (a chain, as hand-made stores
    do), the path from ``cert`` through them to a CA of the ``ca`` field: ``(direct issuer, anchor variable)``.
    Issuers are looked up by subject, each certificate of the bundle used once."""
    by_subject: dict[bytes, list[Certificate]] = {}
    for candidate in bundled:
        by_subject.setdefault(x509.info(candidate).subject_der, []).append(candidate)
    used: set[Certificate] = set()
    current, direct = cert, None
    while True:
        wanted = x509.info(current).issuer_der
        issuer = next(
            (c for c in by_subject.get(wanted, ()) if c not in used and x509.signed_by(current, c)),
            None,
        )
        if issuer is None:
            return None
        used.add(issuer)
        direct = direct or issuer
        above = x509.info(issuer).issuer_der
        anchor = next(
            (
                name
                for name, ca in anchors
                if ca == issuer or (x509.info(ca).subject_der == above and x509.signed_by(issuer, ca))
            ),
            None,
        )
        if anchor is not None:
            return direct, anchor
        current = issuer


def certificate(entry: Entry) -> Certificate | None:
    pem = entry.text("certificate")
    return x509.load_certificate(pem) if pem else None


def certificate_info(entry: Entry) -> x509.CertInfo | None:
    """The facts of an entry's certificate (:func:`creds_lint.x509.certificate_info`), or ``None``."""
    pem = entry.text("certificate")
    return x509.certificate_info(pem) if pem else None


def lost_names(old: Entry, new: Entry) -> tuple[str | None, tuple[str, ...]]:
    """``(new common name if it changed, alternative names it lost)`` for a re-issued leaf certificate."""
    before, after = certificate_info(old), certificate_info(new)
    if before is None or after is None or after.is_ca or x509.same_certificate(before, after):
        return None, ()
    cn = after.common_name if after.common_name != before.common_name else None
    kept = set(after.sans)
    return cn, tuple(name for name in before.sans if name not in kept)


# --- trust fields ---------------------------------------------------------------------------------------------


def _certificates(blocks: Iterable[str]) -> dict[str, Certificate | None]:
    """Each block by its whitespace-free PEM, parsed (``None`` when it does not parse)."""
    return {pem_key(block): x509.load_certificate(block) for block in blocks}


def bundle_change(old: Entry, new: Entry) -> tuple[tuple[Certificate | None, ...], tuple[Certificate | None, ...]]:
    """``(gained, lost)``: the certificates after the first one in the ``certificate`` field that entered or left it.

    A CA's ``certificate`` field is what its clients trust (``((nats_ca.certificate))``): every certificate in it
    is a trust anchor, not only the first one that the CA's own checks read. ``None`` stands for a block that does
    not parse (``malformed-certificate`` reports it)."""
    own = first_block(new.text("certificate"))
    skip = {pem_key(own)} if own is not None else set()
    before = _certificates(x509.split_pem_certificates(old.text("certificate") or "")[1:])
    after = _certificates(x509.split_pem_certificates(new.text("certificate") or "")[1:])
    gained = tuple(cert for key, cert in after.items() if key not in before and key not in skip)
    lost = tuple(cert for key, cert in before.items() if key not in after and key not in skip)
    return gained, lost


def identity(facts: x509.CertInfo) -> tuple[bytes, bytes]:
    """``(subject DER, public key DER)``: two certificates of one CA share both; a look-alike shares only the first."""
    return facts.subject_der, facts.key_der


def foreign_trust(
    old: Entry,
    new: Entry,
    *,
    signers: Iterable[tuple[str, x509.CertInfo]],
    old_graph: Graph,
    new_graph: Graph,
) -> tuple[Certificate, ...]:
    """The CA certificates that entered ``new``'s ``ca`` field and are no version of a CA it trusted before.

    CAs are told apart by their subject and their key, never by name or text. A version of a trusted CA has its
    subject and its key (a renewal, or a copy of it), or is the certificate of its next version ``NAME_2`` /
    ``NAME_new`` in either store, with that variable's own key (the next CA of a rotation by file). The trusted
    CAs are those of the old ``ca`` field and ``signers`` (``(variable, certificate facts)`` of the CA that signed
    the old version and of the one that signed the new one: ``signer-changed`` speaks for a new signer). Anything else
    — another CA, or one that copies a trusted CA's subject with another key — makes every client given
    ``((name.ca))`` accept what another CA signs. Costs one dictionary look-up per certificate of the two fields;
    the next versions are looked up only for a certificate that neither the old field nor a signer explains."""
    old_text, new_text = old.text("ca") or "", new.text("ca") or ""
    if old_text == new_text:
        return ()
    before = old_graph.trust_field(old_text)
    added = [facts for key, facts in new_graph.trust_field(new_text).items() if key not in before and facts is not None]
    if not added:
        return ()
    signers = tuple(signers)
    known = {identity(facts) for facts in before.values() if facts is not None}
    known |= {identity(facts) for _, facts in signers}
    if all(identity(facts) in known for facts in added):
        return ()
    names = {name for name, _ in signers}
    graphs = (old_graph, new_graph)
    names |= {name for store_graph in graphs for key in before if (name := store_graph.variable_of(key)) is not None}
    for store_graph in graphs:
        for name in names:
            for suffix in NEXT_SUFFIXES:
                following = store_graph.own_certificate(name + suffix)
                if following is not None:
                    known.add(identity(x509.info(following)))
    return tuple(facts.cert for facts in added if identity(facts) not in known)


# --- malformed values and key pairs ---------------------------------------------------------------------------

_PEM_FIELDS = {
    Kind.CERTIFICATE: ("certificate", "ca", "private_key"),
    Kind.RSA: ("private_key", "public_key"),
    Kind.SSH: ("private_key", "public_key"),
}


def defects(entry: Entry) -> tuple[Defect, ...]:
    """Fields of a certificate, rsa or ssh entry that do not parse (truncated, corrupted or encrypted).

    Empty fields are left to ``empty-value``.
    """
    found: list[Defect] = []
    fields = entry.fields
    for name in _PEM_FIELDS.get(entry.kind, ()):
        value = fields.get(name)
        if is_empty(value) or is_ciphertext(value):  # absent or empty (empty-value's), or sops without keys
            continue
        if not isinstance(value, str):
            found.append(Defect(field=name, message=f"'{name}' is not PEM text"))
        elif name in ("certificate", "ca") and x509.load_certificates(value) is None:
            found.append(Defect(field=name, message=f"'{name}' does not parse as a PEM certificate (truncated?)"))
        elif name == "private_key" and x509.load_private_key(value) is None:
            found.append(
                Defect(field=name, message="'private_key' does not parse as an unencrypted PEM key (truncated?)")
            )
        elif name == "public_key" and x509.load_public_key(value) is None:
            found.append(Defect(field=name, message="'public_key' does not parse as a public key (truncated?)"))
        elif (extra := _extra_material(name, value)) is not None:
            found.append(Defect(field=name, message=extra))
    return tuple(found)


def _extra_material(name: str, text: str) -> str | None:
    """What a field that parses holds besides what belongs in it, or ``None``.

    The parsers read the first block and ignore the rest: another CA's key pasted after a private key, a key
    pasted into a trust field, a second ssh key after a public key, a password after a certificate would all be
    deployed unseen. Blocks are described by their type and key id, never quoted."""
    blocks = x509.pem_blocks(text)
    if name in ("certificate", "ca"):
        others = [label for label, _ in blocks if label != "CERTIFICATE"]
        if others:
            return f"'{name}' holds a {_kinds(others)} besides certificates (handed to whoever reads it)"
    elif name == "public_key" and not blocks:  # an OpenSSH line: one key per line
        lines = [line for line in text.splitlines() if line.strip()]
        if len(lines) > 1:
            return f"'public_key' holds {len(lines)} lines where one key belongs (each one is an authorized key)"
        return None
    elif len(blocks) > 1:
        return f"'{name}' holds {len(blocks)} PEM blocks where one key belongs ({_described(blocks)})"
    if x509.text_outside_pem(text):
        return f"'{name}' holds text outside its PEM blocks (a pasted value?)"
    return None


def _kinds(labels: Iterable[str]) -> str:
    return ", ".join(sorted({x509.pem_kind(label) for label in labels}))


def _described(blocks: tuple[tuple[str, str], ...]) -> str:
    """Each block of a key field by algorithm, size and key id (or by its type when it is not a private key)."""
    shown = []
    for label, block in blocks:
        key = x509.describe_private_key(block) if "PRIVATE KEY" in label else None
        if key is not None:
            algorithm, bits, key_id = key
            shown.append(f"{algorithm}{f' {bits}' if bits else ''} {key_id}")
        else:
            shown.append(x509.pem_kind(label))
    return ", ".join(shown)


def mismatches(entry: Entry) -> tuple[Defect, ...]:
    """Key material of an entry that does not belong together: a private key that is not the certificate's or
    the public key's, an ssh fingerprint of another key. Fields that do not parse are left to :func:`defects`."""
    private_pem = entry.text("private_key")
    private = x509.load_private_key(private_pem) if private_pem else None
    if private_pem is None or private is None:
        return ()
    found: list[Defect] = []
    if entry.kind is Kind.CERTIFICATE:
        facts = certificate_info(entry)  # a certificate that loads has read its key
        if facts is not None and x509.private_key_der(private_pem) != facts.key_der:
            found.append(
                Defect(
                    field="private_key",
                    message=f"the private key ({x509.key_id(private)}) is not the certificate's ({facts.key_id})",
                )
            )
    elif entry.kind in (Kind.RSA, Kind.SSH):
        public_text = entry.text("public_key")
        public = x509.load_public_key(public_text) if public_text else None
        if public is not None and not x509.same_key_pair(private, public):
            found.append(
                Defect(
                    field="public_key",
                    message=(
                        f"public_key ({x509.key_id(public)}) does not belong to private_key ({x509.key_id(private)})"
                    ),
                )
            )
    if entry.kind is Kind.SSH:
        shown = entry.text("public_key_fingerprint")
        prints = x509.ssh_fingerprints(private)
        if shown and prints is not None and _normal_fingerprint(shown) not in prints:
            found.append(
                Defect(
                    field="public_key_fingerprint",
                    message=f"public_key_fingerprint is not the fingerprint of private_key ({prints[0]})",
                )
            )
    return tuple(found)


def _normal_fingerprint(text: str) -> str:
    text = text.strip()
    if text.upper().startswith("MD5:"):
        text = text[4:]
    if text.upper().startswith("SHA256:"):
        return "SHA256:" + text[7:].rstrip("=")
    if _BARE_SHA256.fullmatch(text):  # CredHub writes the SHA-256 without its prefix
        return "SHA256:" + text.rstrip("=")
    return text.lower()


#: A base64 SHA-256 digest (43 characters, padding optional): CredHub's ``public_key_fingerprint``.
_BARE_SHA256 = re.compile(r"[A-Za-z0-9+/]{43}=?")


def entry_key(entry: Entry) -> PublicKeyTypes | PrivateKeyTypes | None:
    """The key of an entry's key pair: its private key, or else its certificate's public key (both tell the
    algorithm and the size of the pair)."""
    private_pem = entry.text("private_key")
    private = x509.load_private_key(private_pem) if private_pem else None
    if private is not None:
        return private
    cert = certificate(entry)
    return x509.certificate_key(cert) if cert is not None else None


# --- what expires when ----------------------------------------------------------------------------------------


def inventory(store: VarStore, *, now: datetime, graph: Graph | None = None) -> tuple[CertificateRecord, ...]:
    """Every certificate of ``store`` that parses, with its signer and expiry: soonest expiry first."""
    graph = graph or Graph(store)
    records: list[CertificateRecord] = []
    for entry in store:
        if entry.kind is not Kind.CERTIFICATE:
            continue
        info = certificate_info(entry)
        if info is None:
            continue
        records.append(
            CertificateRecord(
                file=store.source,
                variable=entry.name,
                line=entry.field_line("certificate"),
                common_name=info.common_name,
                serial=info.serial,
                signer=graph.signer(entry),
                is_ca=info.is_ca,
                not_after=info.not_after,
                days_left=info.days_left(now),
                fingerprint=info.fingerprint,
            )
        )
    return tuple(sorted(records, key=lambda r: (r.not_after, r.variable)))
