from __future__ import annotations

# No false all-clear: random mutations of a real bosh-deployment var-store whose verdict is known beforehand.
# Forbidden (a secret removed or changed, a CA regenerated, keys or values swapped, a leaf moved to another CA,
# a field lost, a PEM truncated...) must fail with an error on one of the variables involved; harmless (keys
# reordered or re-quoted, `|` versus `|-`, CRLF, additions, a proper leaf rotation, a CA renewed with its key and
# the leaves' `ca` fields updated, a leaf removed for bosh to re-issue) must not. Thousands of cases run
# in-process on parsed stores; a smaller number through the CLI on real files, with text-level reformatting.
# Kept copies (NAME_old, blobstore_agent_old_password) are a rotation only when the manifest reads them, and
# removing the retired copy is a warning; through the CLI, quoting and tags change values as yaml.v2 reads them.
# The seed changes every run and is part of every failure message (CREDS_LINT_SEED=N replays a run).
import base64
import functools
import os
import random
import string
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import pytest
import yaml
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import RunCli
from creds_lint import yamlv2
from creds_lint.diff import _deepdiff_paths, _field_paths
from creds_lint.engine import Options, lint
from creds_lint.findings import Severity
from creds_lint.manifest import Manifest
from creds_lint.model import Entry, VarStore, normalize
from creds_lint.rotations import kept_names
from factory import (
    BOSH_CAS,
    BOSH_LEAVES,
    BOSH_PASSWORDS,
    bosh_store,
    cert_from_value,
    dump_store,
    leaf_rotation,
    make_ca,
    make_leaf,
    make_rsa,
    make_ssh,
    renew,
)
from measure import run_measured

pytestmark = pytest.mark.slow  # thousands of random mutations, some through a real process

SEED = int(os.environ.get("CREDS_LINT_SEED") or random.SystemRandom().randrange(2**32))
BULK_CASES = 3000
CLI_CASES = 60
PROCESS_CASES = 6

Store = dict[str, object]


def seeded(offset: int = 0) -> random.Random:
    return random.Random(SEED + offset)  # noqa: S311 - test data, replayable from the seed; no secret is made here


@dataclass(frozen=True)
class Pool:
    """The base store and, generated once, everything a mutation may put in it."""

    base: Store
    rotated: Store
    regenerated_cas: Store
    renewed_cas: Store
    other_ca_leaves: Store
    keypairs: Store
    new_cas: tuple[Store, ...]
    next_cas: Store
    # attacks on trust (issue 10, classes 1 and 2), each built from the base store's own CAs and keys
    intruder_ca: Store
    intruder_leaves: Store
    look_alikes: Store
    next_look_alikes: Store
    ca_key_leaves: Store
    became_cas: Store
    not_cas: Store
    future_leaves: Store
    next_leaves: Store  # each leaf as bosh generates its NAME_2 from its CA's NAME_2 (next_cas)


@functools.cache
def pool() -> Pool:
    base = bosh_store()
    cas = {name: cert_from_value(base[name]) for name in BOSH_CAS}  # type: ignore[arg-type]
    other_ca_leaves: Store = {}
    for i, (name, (ca_name, cn, sans, eku)) in enumerate(BOSH_LEAVES.items()):
        other = next(n for n in BOSH_CAS if n != ca_name)
        other_ca_leaves[name] = make_leaf(
            cn, cas[other], key_slot=610 + i % 3, sans=sans, extended_key_usage=eku
        ).as_value()
    new_ca = make_ca("extra-ca", key_slot=620)
    intruder = make_ca("intruder-ca", key_slot=650)
    ca_slots = {name: i for i, name in enumerate(BOSH_CAS)}  # the key slots of bosh_store()'s CAs
    later = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    leaves: dict[str, Store] = {
        "intruder": {},
        "ca_key": {},
        "became_ca": {},
        "future": {},
    }
    for i, (name, (ca_name, cn, sans, eku)) in enumerate(BOSH_LEAVES.items()):
        leaf = cert_from_value(base[name])  # type: ignore[arg-type]
        signer = cas[ca_name]
        leaves["intruder"][name] = make_leaf(
            cn, intruder, key_slot=651 + i % 3, sans=sans, extended_key_usage=eku
        ).as_value()
        holder = make_leaf(cn, signer, key_slot=ca_slots[ca_name], sans=sans, extended_key_usage=eku)
        assert holder.key_obj.public_key() == signer.key_obj.public_key()
        leaves["ca_key"][name] = holder.as_value()
        leaves["became_ca"][name] = renew(
            leaf, signer, replace=(x509.BasicConstraints(ca=True, path_length=None), _key_usage(ca=True))
        ).as_value()
        leaves["future"][name] = renew(leaf, signer, not_before=later).as_value()
    next_cas = {f"{name}_2": make_ca(f"{cn}-2", key_slot=640 + i) for i, (name, cn) in enumerate(BOSH_CAS.items())}
    not_cas: Store = {}
    for i, (name, cert) in enumerate(cas.items()):
        lost = x509.BasicConstraints(ca=False, path_length=None) if i % 2 else _key_usage(ca=False)
        not_cas[name] = renew(cert, replace=(lost,)).as_value()
    return Pool(
        base=base,
        rotated=leaf_rotation(base),
        regenerated_cas={
            name: make_ca(cn, key_slot=600 + i).as_value() for i, (name, cn) in enumerate(BOSH_CAS.items())
        },
        renewed_cas={name: renew(cert).as_value() for name, cert in cas.items()},
        other_ca_leaves=other_ca_leaves,
        keypairs={"uaa_jwt_signing_key": make_rsa(630), "jumpbox_ssh": make_ssh(631)},
        new_cas=(
            {"extra_ca": new_ca.as_value()},
            {"extra_ca": new_ca.as_value(), "extra_tls": make_leaf("extra", new_ca, key_slot=621).as_value()},
        ),
        next_cas={name: cert.as_value() for name, cert in next_cas.items()},
        intruder_ca={"intruder_ca": intruder.as_value()},
        intruder_leaves=leaves["intruder"],
        look_alikes={name: make_ca(cn, key_slot=660 + i).as_value() for i, (name, cn) in enumerate(BOSH_CAS.items())},
        next_look_alikes={
            f"{name}_2": make_ca(f"{cn}-2", key_slot=670 + i).as_value()
            for i, (name, cn) in enumerate(BOSH_CAS.items())
        },
        ca_key_leaves=leaves["ca_key"],
        became_cas=leaves["became_ca"],
        not_cas=not_cas,
        future_leaves=leaves["future"],
        next_leaves={
            f"{name}_2": make_leaf(
                cn, next_cas[f"{ca_name}_2"], key_slot=680 + i % 3, sans=sans, extended_key_usage=eku
            ).as_value()
            for i, (name, (ca_name, cn, sans, eku)) in enumerate(BOSH_LEAVES.items())
        },
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


# --- mutations ----------------------------------------------------------------------------------------------


@dataclass
class Case:
    """A mutated copy of the base store, what was done to it, and the variables an error must name."""

    new: Store
    old: Store = field(default_factory=lambda: dict(pool().base))
    reads: set[str] = field(default_factory=set)  # what the manifest of the case references
    touched: set[str] = field(default_factory=set)
    done: list[str] = field(default_factory=list)
    forbidden: list[tuple[str, ...]] = field(default_factory=list)
    renewed: dict[object, str] = field(default_factory=dict)  # old CA certificate (normalized) -> renewed one

    @property
    def verdict(self) -> str:
        return "forbidden" if self.forbidden else "harmless"


def secret(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=20))


def _free(case: Case, names: Iterator[str] | tuple[str, ...]) -> list[str]:
    return [n for n in names if n in case.new and n not in case.touched]


def _pick(case: Case, rng: random.Random, names: Iterator[str] | tuple[str, ...]) -> str | None:
    """One variable of ``names`` that no earlier mutation of the case touched, or ``None``."""
    free = _free(case, names)
    return rng.choice(free) if free else None


def _field(case: Case, name: str, key: str, value: object) -> None:
    current = case.new[name]
    assert isinstance(current, dict)
    case.new[name] = {**current, key: value}


Mutation = Callable[[Case, random.Random], bool]
LEAVES = tuple(BOSH_LEAVES)
CAS = tuple(BOSH_CAS)
KEYPAIRS = ("uaa_jwt_signing_key", "jumpbox_ssh")
NOT_LEAVES = (*BOSH_PASSWORDS, *CAS, *KEYPAIRS)


def forbidden(*targets: str) -> Callable[[Case], None]:
    def mark(case: Case) -> None:
        case.forbidden.append(targets)
        case.touched.update(targets)

    return mark


def remove_secret(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, NOT_LEAVES)
    if name is None:
        return False
    del case.new[name]
    forbidden(name)(case)
    return True


def change_password(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, BOSH_PASSWORDS)
    if name is None:
        return False
    case.new[name] = secret(rng)
    forbidden(name)(case)
    return True


def empty_a_value(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, NOT_LEAVES + LEAVES)
    if name is None:
        return False
    if isinstance(case.new[name], dict):
        _field(case, name, rng.choice(["private_key", "public_key" if name in KEYPAIRS else "certificate"]), "")
    else:
        case.new[name] = rng.choice(["", None])
    forbidden(name)(case)
    return True


def regenerate_ca(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, CAS)
    if name is None:
        return False
    case.new[name] = pool().regenerated_cas[name]
    forbidden(name)(case)
    return True


def regenerate_keypair(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, KEYPAIRS)
    if name is None:
        return False
    case.new[name] = pool().keypairs[name]
    forbidden(name)(case)
    return True


def swap_values(case: Case, rng: random.Random) -> bool:
    names = _free(case, rng.choice([BOSH_PASSWORDS, CAS]))
    if len(names) < 2:
        return False
    a, b = rng.sample(names, 2)
    case.new[a], case.new[b] = case.new[b], case.new[a]
    forbidden(a, b)(case)
    return True


def swap_private_keys(case: Case, rng: random.Random) -> bool:
    names = _free(case, LEAVES)
    keys = {n: case.new[n]["private_key"] for n in names}  # type: ignore[index]
    pairs = [(a, b) for a in names for b in names if a < b and normalize(keys[a]) != normalize(keys[b])]
    if not pairs:
        return False
    a, b = rng.choice(pairs)
    _field(case, a, "private_key", keys[b])
    _field(case, b, "private_key", keys[a])
    forbidden(a, b)(case)
    return True


def drop_a_field(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, (*CAS, *LEAVES, *KEYPAIRS))
    if name is None:
        return False
    value = case.new[name]
    assert isinstance(value, dict)
    case.new[name] = {k: v for k, v in value.items() if k != rng.choice(["private_key", "public_key", "ca"])}
    if case.new[name] == value:
        case.new[name] = {k: v for k, v in value.items() if k != "private_key"}
    forbidden(name)(case)
    return True


def change_type(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, BOSH_PASSWORDS)
    if name is None:
        return False
    case.new[name] = {"value": case.new[name]}
    forbidden(name)(case)
    return True


def truncate_a_pem(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, (*LEAVES, *CAS))
    if name is None:
        return False
    key = rng.choice(["certificate", "private_key"])
    text = case.new[name][key]  # type: ignore[index]
    _field(case, name, key, text[: rng.randrange(40, len(text) - 40)])
    forbidden(name)(case)
    return True


def move_leaf_to_another_ca(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, LEAVES)
    if name is None:
        return False
    case.new[name] = pool().other_ca_leaves[name]
    forbidden(name)(case)
    return True


def _base_text(name: str, key: str) -> str:
    value = pool().base[name]
    assert isinstance(value, dict)
    text = value[key]
    assert isinstance(text, str)
    return text


def append_another_ca(case: Case, rng: random.Random) -> bool:
    """Another CA's certificate pasted after a CA's own certificate, or into a trust (``ca``) field."""
    name = _pick(case, rng, (*CAS, *LEAVES))
    if name is None:
        return False
    value = case.new[name]
    assert isinstance(value, dict)
    field = "certificate" if name in CAS and rng.random() < 0.5 else "ca"
    present = f"{normalize(value['certificate'])}\n{normalize(value['ca'])}"
    other = rng.choice([n for n in CAS if str(normalize(_base_text(n, "certificate"))) not in present])
    _field(case, name, field, value[field] + _base_text(other, "certificate"))
    forbidden(name)(case)
    return True


def append_a_key(case: Case, rng: random.Random) -> bool:
    """Another key pasted after a private key."""
    name = _pick(case, rng, (*CAS, *LEAVES, *KEYPAIRS))
    if name is None:
        return False
    value = case.new[name]
    assert isinstance(value, dict)
    _field(case, name, "private_key", value["private_key"] + _base_text("uaa_jwt_signing_key", "private_key"))
    forbidden(name)(case)
    return True


def start_ca_rotation(case: Case, rng: random.Random) -> bool:
    """The trust step of a CA rotation by file: NAME_2 added, its certificate appended to the leaves' ``ca``."""
    name = _pick(case, rng, CAS)
    if name is None:
        return False
    following = pool().next_cas[f"{name}_2"]
    assert isinstance(following, dict)
    case.new[f"{name}_2"] = following
    case.touched.add(name)
    own = normalize(_base_text(name, "certificate"))
    for leaf in _free(case, (*LEAVES, name)):
        value = case.new[leaf]
        assert isinstance(value, dict)
        if normalize(value["ca"]) == own:
            _field(case, leaf, "ca", value["ca"] + following["certificate"])
            case.touched.add(leaf)
    return True


def finish_ca_rotation(case: Case, rng: random.Random) -> bool:
    """The clean-up of a CA rotation by file (docs-bosh): the old store holds NAME_2 and the NAME_2 of each of its
    leaves, generated from it, the leaves trusting both CAs; each NAME_2 is promoted over NAME and removed."""
    name = _pick(case, rng, CAS)
    mine = [leaf for leaf, (ca_name, *_) in BOSH_LEAVES.items() if ca_name == name]
    if name is None or _free(case, tuple(mine)) != mine:
        return False
    following = pool().next_cas[f"{name}_2"]
    assert isinstance(following, dict)
    case.old[f"{name}_2"] = case.new[name] = following
    for leaf in mine:
        value = case.old[leaf]
        assert isinstance(value, dict)
        case.old[leaf] = {**value, "ca": value["ca"] + following["certificate"]}
        case.old[f"{leaf}_2"] = case.new[leaf] = pool().next_leaves[f"{leaf}_2"]
    case.touched.update((name, *mine))
    return True


def rotate_leaf(case: Case, rng: random.Random) -> bool:
    names = _free(case, LEAVES)
    if not names:
        return False
    for name in rng.sample(names, rng.randint(1, len(names))):
        case.new[name] = pool().rotated[name]
        case.touched.add(name)
    return True


def renew_ca(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, CAS)
    if name is None:
        return False
    old, new = pool().base[name], pool().renewed_cas[name]
    assert isinstance(old, dict)
    assert isinstance(new, dict)
    case.new[name] = new
    case.renewed[normalize(old["certificate"])] = new["certificate"]
    case.touched.add(name)
    return True


def remove_leaf(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, LEAVES)
    if name is None:
        return False
    del case.new[name]
    case.touched.add(name)
    return True


def add_variables(case: Case, rng: random.Random) -> bool:
    for i in range(rng.randint(1, 3)):
        case.new[f"added_password_{i}"] = secret(rng)
    if "extra_ca" not in case.new:
        case.new.update(rng.choice(pool().new_cas))
    return True


def reorder(case: Case, rng: random.Random) -> bool:
    items = list(case.new.items())
    rng.shuffle(items)
    case.new = dict(items)
    return True


def strip_final_newlines(case: Case, rng: random.Random) -> bool:
    """``|`` to ``|-`` and back, and CRLF inside values: formatting, not content."""
    for name, value in list(case.new.items()):
        if isinstance(value, dict) and rng.random() < 0.5:
            case.new[name] = {
                k: (v.rstrip("\n") if rng.random() < 0.5 else v.replace("\n", "\r\n")) if isinstance(v, str) else v
                for k, v in value.items()
            }
    return True


#: Keys and agent passwords whose old value a documented procedure keeps under a kept name.
KEPT = ("credhub_encryption_password", "uaa_encryption_key_1", "blobstore_agent_password", "uaa_jwt_signing_key")


def _keep_old(case: Case, rng: random.Random) -> tuple[str, str] | None:
    """The old value of a key moved to one of its kept names; the key removed or given a new value."""
    name = _pick(case, rng, KEPT)
    if name is None:
        return None
    kept = rng.choice(kept_names(name))
    case.new[kept] = case.new[name]
    if rng.random() < 0.5:
        del case.new[name]
    else:
        case.new[name] = pool().keypairs[name] if name in KEYPAIRS else secret(rng)
    case.touched.update((name, kept))
    return name, kept


def keep_old_unread(case: Case, rng: random.Random) -> bool:
    """The incident done by rename: the old value under NAME_old, and nothing that reads it."""
    moved = _keep_old(case, rng)
    if moved is not None:
        forbidden(moved[0])(case)
    return moved is not None


def keep_old_read(case: Case, rng: random.Random) -> bool:
    """The documented rotation: the old value under NAME_old, and the manifest reads it."""
    moved = _keep_old(case, rng)
    if moved is not None:
        case.reads.add(moved[1])
    return moved is not None


def retire_kept_copy(case: Case, rng: random.Random) -> bool:
    """The last step: the kept copy, present in the old store, removed while the key keeps its value."""
    name = _pick(case, rng, KEPT)
    if name is None:
        return False
    kept = rng.choice(kept_names(name))
    case.old[kept] = pool().keypairs[name] if name in KEYPAIRS else secret(rng)
    case.touched.update((name, kept))
    return True


#: Plain scalars that yaml.v2 reads as numbers or booleans, each with another text bosh reads as the same value.
SAME_READING = (("0123", "83"), ("0x1F", "31"), ("1e5", "100000"), ("yes", "true"), ("on", "True"), ("1_000", "1000"))


def read_as_a_number(case: Case, rng: random.Random) -> bool:
    """A password that was a string is now read as a number or a boolean (the quotes went)."""
    name = _pick(case, rng, BOSH_PASSWORDS)
    if name is None:
        return False
    text = rng.choice(SAME_READING)[0]
    case.old[name] = text
    case.new[name] = yamlv2.resolve(text, tag=None, plain=True)
    forbidden(name)(case)
    return True


def same_number_written_anew(case: Case, rng: random.Random) -> bool:
    """A number written another way that bosh reads as the same value."""
    name = _pick(case, rng, BOSH_PASSWORDS)
    if name is None:
        return False
    before, after = rng.choice(SAME_READING)
    case.old[name] = yamlv2.resolve(before, tag=None, plain=True)
    case.new[name] = yamlv2.resolve(after, tag=None, plain=True)
    case.touched.add(name)
    return True


# --- attacks on trust: judged by keys, never by names or text; what makes a certificate work ---------------------


def _pem(store: Store, name: str) -> str:
    value = store[name]
    assert isinstance(value, dict)
    text = value["certificate"]
    assert isinstance(text, str)
    return text


def reissue_by_another_ca(case: Case, rng: random.Random) -> bool:
    """A leaf re-issued by another CA of the store or by one added in the same change, its ``ca`` field holding
    the old CA and the new one (in either order): a change of signer whatever the field says."""
    name = _pick(case, rng, LEAVES)
    if name is None:
        return False
    if rng.random() < 0.5:
        leaf, signer = pool().other_ca_leaves[name], _pem(pool().base, _other_ca(name))
    else:
        leaf, signer = pool().intruder_leaves[name], _pem(pool().intruder_ca, "intruder_ca")
        case.new.update(pool().intruder_ca)
    assert isinstance(leaf, dict)
    old = _base_text(name, "ca")
    case.new[name] = {**leaf, "ca": old + signer if rng.random() < 0.5 else signer + old}
    forbidden(name)(case)
    return True


def _other_ca(name: str) -> str:
    """The CA that signed ``pool().other_ca_leaves[name]``."""
    return next(n for n in BOSH_CAS if n != BOSH_LEAVES[name][0])


def trust_a_look_alike(case: Case, rng: random.Random) -> bool:
    """A certificate with the subject of a CA that a trust field holds, and another key, added to the field."""
    name = _pick(case, rng, (*LEAVES, *CAS))
    if name is None:
        return False
    trusted = BOSH_LEAVES[name][0] if name in BOSH_LEAVES else name
    value = case.new[name]
    assert isinstance(value, dict)
    _field(case, name, "ca", value["ca"] + _pem(pool().look_alikes, trusted))
    forbidden(name)(case)
    return True


def trust_a_look_alike_of_name_2(case: Case, rng: random.Random) -> bool:
    """The trust step of a CA rotation with a certificate that copies NAME_2's subject under another key."""
    name = _pick(case, rng, CAS)
    own = normalize(_base_text(name, "certificate")) if name is not None else None
    leaves = [n for n in _free(case, LEAVES) if own is not None and normalize(case.new[n]["ca"]) == own]  # type: ignore[index]
    if name is None or not leaves:
        return False
    case.new[f"{name}_2"] = pool().next_cas[f"{name}_2"]
    case.touched.add(name)
    for leaf in leaves:
        _field(case, leaf, "ca", _base_text(leaf, "ca") + _pem(pool().next_look_alikes, f"{name}_2"))
    forbidden(*leaves)(case)
    return True


def leaf_holds_a_ca_key(case: Case, rng: random.Random) -> bool:
    """A leaf re-issued by its own CA with that CA's private key (the key would ship to its VMs)."""
    name = _pick(case, rng, LEAVES)
    if name is None:
        return False
    case.new[name] = pool().ca_key_leaves[name]
    forbidden(name, BOSH_LEAVES[name][0])(case)
    return True


def leaf_becomes_a_ca(case: Case, rng: random.Random) -> bool:
    name = _pick(case, rng, LEAVES)
    if name is None:
        return False
    case.new[name] = pool().became_cas[name]
    forbidden(name)(case)
    return True


def ca_no_longer_signs(case: Case, rng: random.Random) -> bool:
    """A CA renewed with its key, without CA=true or keyCertSign; the leaves' ``ca`` fields updated to it."""
    name = _pick(case, rng, CAS)
    if name is None:
        return False
    new = pool().not_cas[name]
    assert isinstance(new, dict)
    case.new[name] = new
    case.renewed[normalize(_base_text(name, "certificate"))] = new["certificate"]
    forbidden(name)(case)
    return True


def valid_only_later(case: Case, rng: random.Random) -> bool:
    """A leaf re-issued by its CA with a validity that starts in two days."""
    name = _pick(case, rng, LEAVES)
    if name is None:
        return False
    case.new[name] = pool().future_leaves[name]
    forbidden(name)(case)
    return True


FORBIDDEN: tuple[Mutation, ...] = (
    remove_secret,
    change_password,
    empty_a_value,
    regenerate_ca,
    regenerate_keypair,
    swap_values,
    swap_private_keys,
    drop_a_field,
    change_type,
    truncate_a_pem,
    move_leaf_to_another_ca,
    append_another_ca,
    append_a_key,
    reissue_by_another_ca,
    trust_a_look_alike,
    trust_a_look_alike_of_name_2,
    leaf_holds_a_ca_key,
    leaf_becomes_a_ca,
    ca_no_longer_signs,
    valid_only_later,
    keep_old_unread,
    read_as_a_number,
)
HARMLESS: tuple[Mutation, ...] = (
    rotate_leaf,
    finish_ca_rotation,
    renew_ca,
    remove_leaf,
    add_variables,
    reorder,
    strip_final_newlines,
    start_ca_rotation,
    keep_old_read,
    retire_kept_copy,
    same_number_written_anew,
)


def make_case(rng: random.Random) -> Case:
    case = Case(new=dict(pool().base))
    mutations = list(rng.sample(HARMLESS, rng.randint(1, 3)))
    if rng.random() < 0.6:
        mutations += rng.sample(FORBIDDEN, rng.randint(1, 2))
    rng.shuffle(mutations)
    for mutation in mutations:
        if mutation(case, rng):
            case.done.append(mutation.__name__)
    # A renewed CA is harmless when the leaves' `ca` fields are updated to it (bosh-deployment's rotation docs).
    for name, value in case.new.items():
        if isinstance(value, dict) and (trusted := normalize(value.get("ca"))) in case.renewed:
            case.new[name] = {**value, "ca": case.renewed[trusted]}
    return case


def store(values: Store, source: str) -> VarStore:
    entries = {
        name: Entry(name=name, value=normalize(value), line=i) for i, (name, value) in enumerate(values.items(), 1)
    }
    return VarStore(source=source, entries=MappingProxyType(entries))


def manifest(reads: set[str]) -> Manifest | None:
    """A manifest that references ``reads`` (and declares nothing), or none."""
    if not reads:
        return None
    return Manifest(sources=("manifest.yml",), variables=MappingProxyType({}), references=frozenset(reads))


def errors(old: Store, new: Store, reads: set[str] | None = None) -> set[str | None]:
    findings = lint(store(old, "old.yml"), store(new, "new.yml"), Options(manifest=manifest(reads or set())))
    return {f.variable for f in findings if f.severity is Severity.ERROR and not f.allowed}


def check_verdict(case: Case, flagged: set[str | None], context: str) -> None:
    where = f"{context}, seed {SEED}: {case.verdict} case {case.done}"
    if case.forbidden:
        # Two forbidden changes may overlap (a leaf moved to a CA that is removed as well: removed-ca speaks for
        # both); an error must then name one of the variables involved. Alone, each is named.
        involved = {name for targets in case.forbidden for name in targets}
        assert flagged & involved, f"{where}: no error on {sorted(involved)}; errors on {sorted(map(str, flagged))}"
    else:
        assert flagged == set(), f"{where}: errors on {sorted(map(str, flagged))}"


def test_random_mutations_get_the_known_verdict() -> None:
    rng = seeded()
    verdicts = {"forbidden": 0, "harmless": 0}
    for i in range(BULK_CASES):
        case = make_case(rng)
        verdicts[case.verdict] += 1
        check_verdict(case, errors(case.old, case.new, case.reads), f"case {i}")
    assert min(verdicts.values()) > BULK_CASES // 4, verdicts


# --- through the CLI, with the YAML written in every way bosh or an editor may write it -------------------------


def _string(plain: str) -> bool:
    """Whether bosh reads this plain scalar as the string it spells: only then is quoting it harmless."""
    return yamlv2.resolve(plain, tag=None, plain=True) == plain


def reformat(text: str, rng: random.Random) -> bytes:
    """Harmless rewrites of the text: quotes (of what bosh reads as a string), top-level order, CRLF, a BOM."""
    lines = text.splitlines(keepends=True)
    blocks: list[list[str]] = []
    for line in lines:
        if not line.startswith(" ") or not blocks:
            blocks.append([line])
        else:
            blocks[-1].append(line)
    if rng.random() < 0.5:
        rng.shuffle(blocks)
    out = []
    for block in blocks:
        first = block[0]
        name, _, rest = first.partition(": ")
        value = rest.rstrip("\n")
        if rest and not value.startswith(("|", '"', "'", "!")) and _string(value) and rng.random() < 0.5:
            quoted = f"'{value}'" if rng.random() < 0.5 else f'"{value}"'
            first = f"{name}: {quoted}\n"
        out.append(first + "".join(block[1:]))
    result = "".join(out)
    if rng.random() < 0.3:
        result = result.replace("\n", "\r\n")
    data = result.encode()
    return b"\xef\xbb\xbf" + data if rng.random() < 0.2 else data


def test_reformatting_is_faithful() -> None:
    rng = seeded()
    text = dump_store(pool().base)
    for _ in range(20):
        assert yaml.safe_load(reformat(text, rng).decode("utf-8-sig")) == yaml.safe_load(text)


def _plain_password(case: Case, text: str, rng: random.Random) -> tuple[str, str] | None:
    """A password that no mutation touched, written plain on one line of ``text``: (its line, its value)."""
    lines = [
        line
        for line in text.splitlines(keepends=True)
        if (name := line.partition(": ")[0]) in BOSH_PASSWORDS and name not in case.touched
    ]
    lines = [line for line in lines if _string(value := line.partition(": ")[2].rstrip("\n")) and value]
    if not lines:
        return None
    line = rng.choice(lines)
    return line, line.partition(": ")[2].rstrip("\n")


def retext(case: Case, old_text: str, new_text: str, rng: random.Random) -> tuple[str, str]:
    """Rewrites that change, or keep, what bosh's yaml.v2 reads: quotes dropped from a number, a number written
    another way, a value tagged ``!!str`` or written as ``!!binary`` base64, a value's own text taken as base64."""
    choice = rng.randrange(5)
    if choice == 0:  # "0123" became 0123: another value
        text = rng.choice(SAME_READING)[0]
        case.done.append("quotes_dropped")
        case.forbidden.append(("pin_password",))
        return f'{old_text}pin_password: "{text}"\n', f"{new_text}pin_password: {text}\n"
    if choice == 1:  # 0123 became 83: the same value
        before, after = rng.choice(SAME_READING)
        case.done.append("same_number")
        return f"{old_text}pin_password: {before}\n", f"{new_text}pin_password: {after}\n"
    found = _plain_password(case, new_text, rng)
    if found is None:
        return old_text, new_text
    line, value = found
    name = line.partition(": ")[0]
    case.touched.add(name)
    if choice == 2:
        tagged = f"!!str {value}"
    elif choice == 3:
        tagged = f"!!binary {base64.b64encode(value.encode()).decode()}"
    else:  # the text itself read as base64: other bytes
        tagged = f"!!binary {value}"
        case.forbidden.append((name,))
    case.done.append(f"tagged {tagged.split()[0]}{' text' if choice == 4 else ''}")
    return old_text, new_text.replace(line, f"{name}: {tagged}\n", 1)


def cli_case(rng: random.Random, tmp_path: Path, i: int) -> tuple[Case, Path, Path, list[str]]:
    """A case written to files, and the arguments it needs (``--manifest`` when its manifest reads something)."""
    case = make_case(rng)
    old, new = tmp_path / f"old-{i}.yml", tmp_path / f"new-{i}.yml"
    old_text, text = dump_store(case.old), dump_store(case.new)
    if not case.forbidden and rng.random() < 0.3:
        # a key written twice is forbidden even with the same value: a reader sees the first, bosh the last
        name = rng.choice([n for n in BOSH_PASSWORDS if n in case.new and isinstance(case.new[n], str)])
        text += f"{name}: {case.new[name]}\n"
        case.forbidden.append((name,))
        case.done.append("duplicate_key")
    if rng.random() < 0.5:
        old_text, text = retext(case, old_text, text, rng)
    old.write_text(old_text)
    new.write_bytes(reformat(text, rng))
    args = []
    if case.reads:
        reading = tmp_path / f"manifest-{i}.yml"
        reads = "".join(f"  - (({name}))\n" for name in sorted(case.reads))
        reading.write_text(f"name: bosh\nproperties:\n  keys:\n{reads}variables: []\n")
        args = ["--manifest", str(reading)]
    return case, old, new, args


def test_random_mutations_through_the_cli(cli: RunCli, tmp_path: Path) -> None:
    rng = seeded(1)
    for i in range(CLI_CASES):
        case, old, new, args = cli_case(rng, tmp_path, i)
        result = cli(old, new, "--format", "json", *args)
        assert result.code == (1 if case.forbidden else 0), f"seed {SEED}: {case.done}\n{result.out}{result.err}"
        flagged = {f["variable"] for f in result.json["findings"] if f["severity"] == "error"}
        check_verdict(case, flagged, f"cli case {i}")


def test_random_mutations_through_a_real_process(tmp_path: Path) -> None:
    rng = seeded(2)
    for i in range(PROCESS_CASES):
        case, old, new, args = cli_case(rng, tmp_path, i)
        command: list[str | Path] = [sys.executable, "-m", "creds_lint", old, new, "--format", "github", *args]
        result = run_measured(command, timeout=120)
        assert result.code == (1 if case.forbidden else 0), f"seed {SEED}: {case.done}\n{result.out}{result.err}"


# --- the changed fields: read directly for bosh's shapes, by DeepDiff for the rest --------------------------------

flat_values = st.one_of(
    st.none(),
    st.text(max_size=5),
    st.dictionaries(
        st.sampled_from(["ca", "certificate", "private_key", "x"]), st.one_of(st.none(), st.text(max_size=3))
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    old=st.dictionaries(st.sampled_from("abcde"), flat_values, max_size=5),
    new=st.dictionaries(st.sampled_from("abcde"), flat_values, max_size=5),
)
def test_field_paths_are_what_deepdiff_reports(old: dict[str, object], new: dict[str, object]) -> None:
    # DeepDiff also lists variables added or removed as a whole, with no field: the same as no entry for compare()
    assert _field_paths(old, new) == {name: paths for name, paths in _deepdiff_paths(old, new).items() if paths}


def test_nested_values_go_to_deepdiff() -> None:
    old: dict[str, object] = {"a": {"k": ["x"]}}
    new: dict[str, object] = {"a": {"k": ["y"]}}
    assert _field_paths(old, new) is None
    assert _deepdiff_paths(old, new) == {"a": {"changed": {"k"}}}


@pytest.mark.parametrize("mutation", FORBIDDEN, ids=lambda m: m.__name__)
def test_each_forbidden_mutation_alone_is_an_error(mutation: Mutation) -> None:
    rng = seeded()
    case = Case(new=dict(pool().base))
    assert mutation(case, rng)
    check_verdict(case, errors(case.old, case.new, case.reads), mutation.__name__)


def test_a_leaf_moved_to_another_ca_is_signer_changed_even_when_both_cas_are_trusted() -> None:
    base = pool().base
    moved = {**base, "director_ssl": pool().other_ca_leaves["director_ssl"]}
    findings = lint(store(base, "old.yml"), store(moved, "new.yml"), Options())
    assert [(f.rule, f.variable, f.severity) for f in findings] == [
        ("rotated-certificate", "director_ssl", Severity.INFO),
        ("signer-changed", "director_ssl", Severity.ERROR),
    ]
    leaf = moved["director_ssl"]
    assert isinstance(leaf, dict)
    default_ca, nats_ca = base["default_ca"], base["nats_ca"]
    assert isinstance(default_ca, dict)
    assert isinstance(nats_ca, dict)
    assert leaf["ca"] == nats_ca["certificate"]
    both = {**moved, "director_ssl": {**leaf, "ca": default_ca["certificate"] + nats_ca["certificate"]}}
    findings = lint(store(base, "old.yml"), store(both, "new.yml"), Options())
    assert [(f.rule, f.variable) for f in findings] == [
        ("rotated-certificate", "director_ssl"),
        ("signer-changed", "director_ssl"),
    ]
