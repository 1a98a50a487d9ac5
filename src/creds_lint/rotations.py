"""Documented rotations: changes that look like a regeneration but follow the procedure the docs describe.

* **Old value kept** — ``X`` has a new value (or was removed, for bosh to generate anew) and its old value is now
  under the documented name (:func:`kept_names`): ``credhub_encryption_password_old``, and, for a password, the
  infix form ``blobstore_agent_old_password`` that docs-bosh uses for the blobstore agent. Only for variables where
  a kept old value keeps things working (the caller says which: encryption and signing keys, agent passwords; a
  CA moved to ``X_old`` is still a regenerated CA), and only with evidence that something reads the copy (the
  caller's ``reads``: the interpolated manifest references ``((X_old))``). A copy nothing reads is the incident
  done by rename: the old value sits in the file while bosh generates a new key and nothing decrypts with the old.
* **Retired copy removed** — the kept copy is removed while ``X`` keeps its value: the last step of the procedure
  (bosh does not regenerate a name nothing declares). Reported as a warning by the caller, never as a removed key:
  it is only safe once the deploy that made the new value active has finished.
* **Promoted** — ``X`` now holds the value that ``X_2`` (or ``X_new``) held: the last step of a CA rotation by
  file. ``X_2`` removed in the same change, its value now under ``X``, is **retired**. Only for certificates (CAs
  and leaves): an encryption key, signing key or password promoted from ``X_2`` leaves the old value nowhere in the
  new file (data encrypted with it becomes unreadable), so it stays a regeneration.
* **Trust extended or narrowed** — only a certificate's ``ca`` field changed, it now holds several CA certificates
  (old and new CA concatenated, as during a CA rotation) or fewer, the certificate is still signed by one of
  them, and every CA added is a version of one it trusted (same subject and key, or the certificate of its
  ``NAME_2`` with that variable's own key): nothing it presents changed. Any other CA added, one that copies a
  trusted CA's subject with another key included, is ``changed-trust``.

Values are compared after normalisation (YAML formatting is no change); nothing here ever shows a value.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from creds_lint import pki, x509
from creds_lint.diff import Change, ChangeKind, Changes
from creds_lint.model import Entry, Kind, VarStore, is_empty

#: The transitional name that keeps an old value, and those that hold the next one.
OLD_SUFFIX = "_old"
NEXT_SUFFIXES = pki.NEXT_SUFFIXES
_PASSWORD = "_password"  # noqa: S105 - a name suffix, not a password


def kept_names(name: str) -> tuple[str, ...]:
    """The documented names of ``name``'s kept old value: ``NAME_old`` (``credhub_encryption_password_old``) and,
    for ``X_password``, ``X_old_password`` (docs-bosh's ``blobstore_agent_old_password``)."""
    if name.endswith(_PASSWORD) and len(name) > len(_PASSWORD):
        return (name + OLD_SUFFIX, name.removesuffix(_PASSWORD) + OLD_SUFFIX + _PASSWORD)
    return (name + OLD_SUFFIX,)


def active_names(kept: str) -> tuple[str, ...]:
    """The variables whose kept old value ``kept`` may be (the inverse of :func:`kept_names`)."""
    names = []
    if kept.endswith(OLD_SUFFIX) and len(kept) > len(OLD_SUFFIX):
        names.append(kept.removesuffix(OLD_SUFFIX))
    infix = OLD_SUFFIX + _PASSWORD
    if kept.endswith(infix) and len(kept) > len(infix):
        names.append(kept.removesuffix(infix) + _PASSWORD)
    return tuple(names)


def kept_copy(name: str, before: Entry, new: VarStore) -> Entry | None:
    """The entry of ``new`` that keeps ``before`` (the old value of ``name``) under a documented name, if any."""
    for kept_name in kept_names(name):
        kept = new.get(kept_name)
        if kept is not None and kept.value == before.value:
            return kept
    return None


class Step(enum.Enum):
    KEPT = "old value kept"
    MOVED = "old value moved"
    PROMOTED = "promoted"
    RETIRED = "retired"
    TRUST = "trust changed"
    COMPLETED = "retired copy removed"


@dataclass(frozen=True, kw_only=True)
class Rotation:
    """How one changed variable follows a documented rotation. ``partner`` is the other variable involved
    (``X_old``, ``X_2``, or ``X`` for a retired ``X_2``); for a trust change, ``added`` and ``removed`` name the CA
    certificates (by common name) that entered or left the ``ca`` field."""

    name: str
    step: Step
    partner: str | None = None
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class _Judge:
    """What decides whether a kept copy counts: for which entries one keeps things working, and whether the
    deployment reads a variable (the evidence)."""

    keeps_old: Callable[[Entry], bool]
    reads: Callable[[str], bool]


def find(
    old: VarStore | None,
    new: VarStore,
    changes: Changes,
    *,
    keeps_old: Callable[[Entry], bool],
    reads: Callable[[str], bool],
) -> Mapping[str, Rotation]:
    """The documented rotations among ``changes``, by the name of the variable each explains. ``keeps_old`` says
    for which variables keeping the old value under a kept name is a rotation, ``reads`` whether the deployment
    is shown to read a variable (the evidence a kept copy needs)."""
    if old is None:
        return MappingProxyType({})
    judge = _Judge(keeps_old=keeps_old, reads=reads)
    found: dict[str, Rotation] = {}
    for change in changes:
        rotation = _rotation(change, old, new, judge)
        if rotation is not None:
            found[change.name] = rotation
    return MappingProxyType(found)


def _rotation(change: Change, old: VarStore, new: VarStore, judge: _Judge) -> Rotation | None:
    before, after = change.old, change.new
    if before is None or is_empty(before.value):
        return None
    kept = _kept(change.name, before, after, new, judge) if judge.keeps_old(before) else None
    if after is None:
        return kept or _retired(change.name, before, new) or _completed(change.name, old, new, judge)
    if change.kind is not ChangeKind.MODIFIED or is_empty(after.value):
        return None
    return kept or _promoted(change.name, after, old) or _trust(change, before, after, (old, new))


def _kept(name: str, before: Entry, after: Entry | None, new: VarStore, judge: _Judge) -> Rotation | None:
    """``name`` removed or set anew, its old value now under a kept name that the deployment reads."""
    kept = kept_copy(name, before, new)
    if kept is None or not judge.reads(kept.name):
        return None
    if after is None:
        return Rotation(name=name, step=Step.MOVED, partner=kept.name)
    return Rotation(name=name, step=Step.KEPT, partner=kept.name) if after.kind is before.kind else None


def _completed(name: str, old: VarStore, new: VarStore, judge: _Judge) -> Rotation | None:
    """``name``, a kept copy, removed while the variable it kept the old value of has the same value as before."""
    for active_name in active_names(name):
        before, after = old.get(active_name), new.get(active_name)
        if before is None or after is None or before.value != after.value or is_empty(after.value):
            continue
        if judge.keeps_old(after):
            return Rotation(name=name, step=Step.COMPLETED, partner=active_name)
    return None


def _promoted(name: str, after: Entry, old: VarStore) -> Rotation | None:
    """``name`` (a certificate) now holds what ``name_2`` (or ``name_new``) held."""
    if after.kind is not Kind.CERTIFICATE:
        return None
    for suffix in NEXT_SUFFIXES:
        following = old.get(name + suffix)
        if following is not None and following.value == after.value:
            return Rotation(name=name, step=Step.PROMOTED, partner=following.name)
    return None


def _retired(name: str, before: Entry, new: VarStore) -> Rotation | None:
    """``name_2`` (a certificate) removed, its value now under ``name``."""
    if before.kind is not Kind.CERTIFICATE:
        return None
    for suffix in NEXT_SUFFIXES:
        base = name.removesuffix(suffix)
        successor = new.get(base) if base != name else None
        if successor is not None and successor.value == before.value:
            return Rotation(name=name, step=Step.RETIRED, partner=base)
    return None


def _trust(change: Change, before: Entry, after: Entry, stores: tuple[VarStore, VarStore]) -> Rotation | None:
    """A certificate whose only change is its ``ca`` field, still signed by a CA in it, and whose added CAs are
    versions of CAs it trusted before (``pki.foreign_trust``: a renewal, or ``NAME_2``)."""
    if before.kind is not Kind.CERTIFICATE or after.kind is not Kind.CERTIFICATE:
        return None
    if change.type_changed or change.changed_fields + change.added_fields + change.removed_fields != ("ca",):
        return None
    own_pem, old_ca, new_ca = after.text("certificate"), before.text("ca"), after.text("ca")
    own = x509.load_certificate(own_pem) if own_pem else None
    old_trust = x509.load_certificates(old_ca) if old_ca else None
    new_trust = x509.load_certificates(new_ca) if new_ca else None
    old_graph, new_graph = pki.graph(stores[0]), pki.graph(stores[1])
    if (
        own is None
        or new_trust is None
        or pki.foreign_trust(before, after, signers=(), old_graph=old_graph, new_graph=new_graph)
    ):
        return None
    facts = x509.info(own)
    if not any(x509.signed_by(own, ca) for ca in new_trust) and not (facts.is_ca and facts.self_signed):
        return None
    before_set = {x509.info(c).fingerprint for c in old_trust or ()}
    after_set = {x509.info(c).fingerprint for c in new_trust}
    return Rotation(
        name=change.name,
        step=Step.TRUST,
        added=tuple(x509.info(c).common_name for c in new_trust if x509.info(c).fingerprint not in before_set),
        removed=tuple(x509.info(c).common_name for c in old_trust or () if x509.info(c).fingerprint not in after_set),
    )
