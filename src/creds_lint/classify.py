"""Classification, a stage of its own: what each variable of a store is, worked out once per store before the
rules run, and read by every rule and every command (``lint``, ``check``, ``diff``, ``restore``), so that the same
variable has the same name everywhere under the same configuration.

A variable's :class:`~creds_lint.model.Identity` comes from its value's shape (the kind), its certificate (a CA
by BasicConstraints) and the configuration's classifier (the role, from the name). The engine classifies the
variables a run looks at (every changed variable in both versions, and every variable whose state is checked)
before any rule runs; a rule that looks further (a CA graph walks every certificate) gets the same answer from
the same function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from creds_lint import x509
from creds_lint.model import DEFAULT_CLASSIFIER, Classifier, Entry, Identity, Kind


def is_ca(entry: Entry, classifier: Classifier = DEFAULT_CLASSIFIER) -> bool:
    """A CA by its certificate (BasicConstraints), or — when the certificate does not parse — because it is
    self-signed in the bosh sense (``ca`` equals ``certificate``) or its name says so."""
    if entry.kind is not Kind.CERTIFICATE:
        return False
    pem = entry.text("certificate")
    facts = x509.certificate_info(pem) if pem else None
    if facts is not None:
        return facts.is_ca
    return (pem is not None and pem == entry.text("ca")) or classifier.matches("ca", entry.name)


def identify(entry: Entry, classifier: Classifier = DEFAULT_CLASSIFIER) -> Identity:
    """What ``entry`` is under ``classifier``."""
    return classifier.identify(entry.name, entry.kind, is_ca=is_ca(entry, classifier))


@dataclass(frozen=True, kw_only=True)
class Classification:
    """The identities of a store's variables by name, under one classifier."""

    classifier: Classifier = DEFAULT_CLASSIFIER
    identities: Mapping[str, Identity] = field(default_factory=lambda: MappingProxyType({}))

    def of(self, entry: Entry) -> Identity:
        """The identity of ``entry``: as classified, or worked out by the same rules for one not classified."""
        found = self.identities.get(entry.name)
        if found is not None and found.kind is entry.kind:
            return found
        return identify(entry, self.classifier)


def classify(
    entries: Iterable[Entry], classifier: Classifier = DEFAULT_CLASSIFIER, *, other: Classification | None = None
) -> Classification:
    """The classification of ``entries`` (of one store). ``other``: the classification of the other version of the
    store, under the same classifier. A variable that has the same kind and CA status there has the same identity
    (the rest comes from its name), which is not worked out again: the old versions of ten thousand changed
    variables would each match their name against every role's patterns once more."""
    known = other.identities if other is not None and other.classifier is classifier else {}
    identities: dict[str, Identity] = {}
    for entry in entries:
        ca = is_ca(entry, classifier)
        same = known.get(entry.name)
        if same is None or same.kind is not entry.kind or same.ca != (entry.kind is Kind.CERTIFICATE and ca):
            same = classifier.identify(entry.name, entry.kind, is_ca=ca)
        identities[entry.name] = same
    return Classification(classifier=classifier, identities=MappingProxyType(identities))
