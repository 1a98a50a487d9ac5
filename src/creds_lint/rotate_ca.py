"""The transitional procedures of ``creds-lint rotate ca`` and ``rotate password`` (docs-bosh, content/*.md).

* A CA whose key must change is rotated with ``_2`` variables: ``add`` gives bosh the ops file that declares
  ``NAME_2`` and a ``_2`` for each leaf (bosh generates them on ``create-env``) and makes the director trust both
  CAs; ``remove`` switches to the ``_2`` certificates; ``cleanup`` copies each ``_2`` value over the original and
  deletes the ``_2`` entries. Built in for ``nats_ca`` and ``blobstore_ca`` (the docs' ops files, verbatim);
  another CA is built from the manifest's ``variables:``, every option of each ``_2`` copied from its original.
* ``credhub_encryption_password`` and ``blobstore_agent_password`` are rotated by renaming the value to the
  documented old name, with the docs' ops files.

Plain data and checks here; :mod:`creds_lint.rotate_cli` writes, each step proven by
:func:`creds_lint.rotate.prove`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING

from creds_lint import pki, rotate, x509
from creds_lint.errors import CredsLintError
from creds_lint.model import Kind, VarStore

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

    from creds_lint.manifest import Manifest

SECOND = "_2"


class Stage(enum.Enum):
    ADD = "add"
    REMOVE = "remove"
    CLEANUP = "cleanup"


@dataclass(frozen=True, kw_only=True)
class OpsFile:
    name: str
    text: str


@dataclass(frozen=True, kw_only=True)
class Procedure:
    """A CA's transitional rotation: the CA and the leaves it signs (``members``, the CA first), the ops files of
    the ``add`` and ``remove`` stages, and what the operator must know (``warnings``)."""

    ca: str
    members: tuple[str, ...]
    add: OpsFile
    remove: OpsFile | None
    warnings: tuple[str, ...] = ()
    builtin: bool = True

    @property
    def seconds(self) -> tuple[str, ...]:
        return tuple(name + SECOND for name in self.members)


NATS_ADD = """\
---
- type: replace
  path: /instance_groups/name=bosh/properties/nats/tls/ca?
  value: ((nats_server_tls.ca))((nats_server_tls_2.ca))

- type: replace
  path: /instance_groups/name=bosh/properties/nats/tls/client_ca?
  value:
    certificate: ((nats_ca_2.certificate))
    private_key: ((nats_ca_2.private_key))

- type: replace
  path: /instance_groups/name=bosh/properties/nats/tls/director?
  value:
    certificate: ((nats_clients_director_tls_2.certificate))
    private_key: ((nats_clients_director_tls_2.private_key))

- type: replace
  path: /instance_groups/name=bosh/properties/nats/tls/health_monitor?
  value:
    certificate: ((nats_clients_health_monitor_tls_2.certificate))
    private_key: ((nats_clients_health_monitor_tls_2.private_key))

- type: replace
  path: /variables/name=nats_ca_2?
  value:
    name: nats_ca_2
    type: certificate
    options:
      is_ca: true
      common_name: default.nats-ca.bosh-internal

- type: replace
  path: /variables/name=nats_server_tls_2?
  value:
    name: nats_server_tls_2
    type: certificate
    options:
      ca: nats_ca_2
      common_name: default.nats.bosh-internal
      alternative_names: [((internal_ip))]
      extended_key_usage:
      - server_auth

- type: replace
  path: /variables/name=nats_clients_director_tls_2?
  value:
    name: nats_clients_director_tls_2
    type: certificate
    options:
      ca: nats_ca_2
      common_name: default.director.bosh-internal
      extended_key_usage:
      - client_auth

- type: replace
  path: /variables/name=nats_clients_health_monitor_tls_2?
  value:
    name: nats_clients_health_monitor_tls_2
    type: certificate
    options:
      ca: nats_ca_2
      common_name: default.hm.bosh-internal
      extended_key_usage:
      - client_auth
"""

NATS_REMOVE = """\
---
- type: replace
  path: /instance_groups/name=bosh/properties/nats/tls/ca?
  value: ((nats_server_tls_2.ca))

- type: replace
  path: /instance_groups/name=bosh/properties/nats/tls/server?
  value:
    certificate: ((nats_server_tls_2.certificate))
    private_key: ((nats_server_tls_2.private_key))

- type: replace
  path: /instance_groups/name=bosh/properties/nats/tls/client_ca?
  value:
    certificate: ((nats_ca_2.certificate))
    private_key: ((nats_ca_2.private_key))

- type: replace
  path: /instance_groups/name=bosh/properties/nats/tls/director?
  value:
    certificate: ((nats_clients_director_tls_2.certificate))
    private_key: ((nats_clients_director_tls_2.private_key))

- type: replace
  path: /instance_groups/name=bosh/properties/nats/tls/health_monitor?
  value:
    certificate: ((nats_clients_health_monitor_tls_2.certificate))
    private_key: ((nats_clients_health_monitor_tls_2.private_key))
"""

BLOBSTORE_VARIABLES = """\
- type: replace
  path: /variables/-
  value:
    name: blobstore_ca_2
    type: certificate
    options:
      is_ca: true
      common_name: default.blobstore-ca.bosh-internal

- type: replace
  path: /variables/-
  value:
    name: blobstore_server_tls_2
    type: certificate
    options:
      ca: blobstore_ca_2
      common_name: ((internal_ip))
      alternative_names: [((internal_ip))]
"""

BLOBSTORE_ADD = (
    """\
---
- type: replace
  path: /instance_groups/name=bosh/properties/agent/env/bosh/blobstores?/provider=dav/options/tls/cert/ca
  value: ((blobstore_server_tls_2.ca))((blobstore_server_tls.ca))

- type: replace
  path: /instance_groups/name=bosh/properties/blobstore/tls?/cert/ca
  value: ((blobstore_server_tls_2.ca))((blobstore_server_tls.ca))

"""
    + BLOBSTORE_VARIABLES
)

BLOBSTORE_REMOVE = (
    """\
---
- type: replace
  path: /instance_groups/name=bosh/properties/agent/env/bosh/blobstores?/provider=dav/options/tls/cert/ca
  value: ((blobstore_server_tls_2.ca))

- type: replace
  path: /instance_groups/name=bosh/properties/blobstore/tls?/cert
  value:
    ca: ((blobstore_server_tls_2.ca))
    certificate: ((blobstore_server_tls_2.certificate))
    private_key: ((blobstore_server_tls_2.private_key))

"""
    + BLOBSTORE_VARIABLES
)

#: The server certificates whose ``_2`` the docs generate with ``((internal_ip))`` as their only SAN.
_INTERNAL_IP_ONLY = ("nats_server_tls", "blobstore_server_tls")

BUILT_IN: Mapping[str, tuple[tuple[str, ...], OpsFile, OpsFile]] = MappingProxyType(
    {
        "nats_ca": (
            ("nats_ca", "nats_server_tls", "nats_clients_director_tls", "nats_clients_health_monitor_tls"),
            OpsFile(name="add-new-ca.yml", text=NATS_ADD),
            OpsFile(name="remove-old-ca.yml", text=NATS_REMOVE),
        ),
        "blobstore_ca": (
            ("blobstore_ca", "blobstore_server_tls"),
            OpsFile(name="add-new-blobstore-ca.yml", text=BLOBSTORE_ADD),
            OpsFile(name="remove-old-blobstore-ca.yml", text=BLOBSTORE_REMOVE),
        ),
    }
)


def procedure(ca: str, store: VarStore, manifest: Manifest | None) -> Procedure:
    """The transitional rotation of ``ca``: built in, or from the manifest's variables (which it then needs)."""
    if ca in BUILT_IN:
        members, add, remove = BUILT_IN[ca]
        return Procedure(ca=ca, members=members, add=add, remove=remove, warnings=_san_warnings(store, members))
    if manifest is None:
        raise CredsLintError(
            f"{ca}: no built-in procedure (nats_ca, blobstore_ca): give --manifest, whose variables: the _2 "
            "declarations are copied from"
        )
    return _from_manifest(ca, manifest)


def _san_warnings(store: VarStore, members: Sequence[str]) -> tuple[str, ...]:
    warnings = []
    for name in members:
        entry = store.get(name)
        cert = pki.certificate(entry) if entry is not None else None
        if name not in _INTERNAL_IP_ONLY or cert is None:
            continue
        sans = _sans(cert)
        warnings.append(
            f"{name}{SECOND}: the docs' ops file generates it with ((internal_ip)) as its only subject alternative "
            f"name, while {name} has {', '.join(sans) or 'none'}: add the others to its alternative_names in the "
            "ops file before create-env, or clients that connect by another name reject it"
        )
    return tuple(warnings)


def _sans(cert: Certificate) -> list[str]:
    from cryptography import x509 as cx509

    try:
        names = cert.extensions.get_extension_for_class(cx509.SubjectAlternativeName).value
    except cx509.ExtensionNotFound:
        return []
    return [str(n.value) for n in names]


def _raw_variables(manifest: Manifest) -> dict[str, dict[str, object]]:
    """Each declared variable as the manifests write it (every option, unresolved ones too), by name."""
    from creds_lint.manifest import written

    found: dict[str, dict[str, object]] = {}
    for source in manifest.sources:
        for item in written(source):
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                found[item["name"]] = item
    return found


def _from_manifest(ca: str, manifest: Manifest) -> Procedure:
    import yaml

    raw = _raw_variables(manifest)
    if ca not in raw:
        raise CredsLintError(f"{ca}: the manifest ({manifest.label}) does not declare it")
    members = [ca] + [name for name, declared in manifest.variables.items() if declared.ca == ca and name != ca]
    operations = []
    for name in members:
        value = dict(raw[name])
        options = dict(value.get("options") or {})  # type: ignore[call-overload]
        if name != ca:
            options["ca"] = ca + SECOND
        value["name"] = name + SECOND
        value["options"] = options
        operations.append({"type": "replace", "path": f"/variables/name={name}{SECOND}?", "value": value})
    text = "---\n" + yaml.safe_dump(operations, default_flow_style=False, sort_keys=False)
    warning = (
        f"{ca}: built from the manifest's variables (every option copied, SANs included). creds-lint does not "
        f"know where the jobs use {ca}: make what trusts it trust ((LEAF.ca))((LEAF{SECOND}.ca)) in this stage, "
        f"and switch to the {SECOND} certificates before --stage remove"
    )
    return Procedure(
        ca=ca,
        members=tuple(members),
        add=OpsFile(name=f"add-new-{ca}.yml", text=text),
        remove=None,
        warnings=(warning,),
        builtin=False,
    )


# --- where the store stands -----------------------------------------------------------------------------------

_RECORD = re.compile(r"^# (\w+) was (sha256:[0-9a-f]{8})$", re.MULTILINE)


def record(proc: Procedure, store: VarStore) -> str:
    """The comment that heads the ``add`` ops file: the fingerprint of each member as it was (no value)."""
    lines = [f"# written by creds-lint rotate ca {proc.ca} --stage add: the later stages check these are unchanged"]
    lines += [f"# {name} was {entry.fingerprint}" for name in proc.members if (entry := store.get(name)) is not None]
    return "\n".join(lines) + "\n"


def recorded(text: str) -> dict[str, str]:
    return dict(_RECORD.findall(text))


def add_problems(proc: Procedure, store: VarStore, *, now: datetime) -> list[str]:
    """Why the ``add`` stage cannot start."""
    problems = [f"{name}: not in the var-store" for name in proc.members if name not in store]
    present = [name for name in proc.seconds if name in store]
    if present:
        problems.append(f"{', '.join(present)} already in the var-store: the rotation was added; run --stage remove")
    entry = store.get(proc.ca)
    cert = pki.certificate(entry) if entry is not None else None
    if entry is not None and (cert is None or not x509.is_ca(cert)):
        problems.append(f"{proc.ca}: not a CA certificate")
    if cert is not None and cert.not_valid_after_utc <= now:
        problems.append(
            f"{proc.ca}: expired on {cert.not_valid_after_utc:%Y-%m-%d}: the transitional procedure cannot reach "
            "agents any more; use the expired-CA procedure (delete the CA and its leaves, create-env, bosh recreate "
            "--fix)"
        )
    return problems


def stage_problems(proc: Procedure, store: VarStore, before: Mapping[str, str]) -> list[str]:
    """Why the store is not where ``remove`` and ``cleanup`` expect it: every ``_2`` entry exists and chains to
    ``CA_2``, a new key; every original is unchanged (the fingerprints the ``add`` ops file recorded) and still
    chains to ``CA``."""
    graph = pki.Graph(store)
    problems = [
        f"{name}: not in the var-store (run create-env with the add ops file)"
        for name in proc.seconds
        if name not in store
    ]
    problems += [f"{name}: not in the var-store" for name in proc.members if name not in store]
    if problems:
        return problems
    second_ca = proc.ca + SECOND
    old_ca, new_ca = store.get(proc.ca), store.get(second_ca)
    assert old_ca is not None
    assert new_ca is not None
    old_cert, new_cert = pki.certificate(old_ca), pki.certificate(new_ca)
    if new_cert is None or not x509.is_ca(new_cert):
        problems.append(f"{second_ca}: not a CA certificate")
    elif old_cert is not None and x509.same_key_pair(old_cert.public_key(), new_cert.public_key()):
        problems.append(f"{second_ca}: has the key of {proc.ca}; the rotation needs a new key")
    for name in proc.members:
        for own, signer in ((name, proc.ca), (name + SECOND, second_ca)):
            entry = store.get(own)
            assert entry is not None
            if entry.kind is not Kind.CERTIFICATE:
                problems.append(f"{own}: not a certificate")
                continue
            chain = graph.chain(entry)
            expected = own if name == proc.ca else signer
            if chain.trust is not pki.Trust.VALID or chain.signer != expected:
                problems.append(f"{own}: does not chain to {expected}")
        was = before.get(name)
        entry = store.get(name)
        if was is not None and entry is not None and entry.fingerprint != was:
            problems.append(f"{name}: changed since --stage add ({was} -> {entry.fingerprint}), which it must not")
    return problems


# --- passwords ------------------------------------------------------------------------------------------------

PASSWORD_OPS: Mapping[str, tuple[OpsFile, ...]] = MappingProxyType(
    {
        "credhub_encryption_password": (
            OpsFile(
                name="add-old-credhub-encryption-password.yml",
                text="""\
---
- type: replace
  path: /instance_groups/name=bosh/jobs/name=credhub/properties/credhub/encryption/keys/-
  value:
    active: false
    key_properties:
      encryption_password: ((credhub_encryption_password_old))
    provider_name: internal
""",
            ),
        ),
        "blobstore_agent_password": (
            OpsFile(
                name="rotate-blobstore-agent-password.yml",
                text="""\
---
- type: replace
  path: /instance_groups/name=bosh/properties/agent/env/bosh/blobstores?/provider=dav/options/user
  value: agent-new

- type: replace
  path: /instance_groups/name=bosh/properties/blobstore/agent/user
  value: agent-new

- type: replace
  path: /instance_groups/name=bosh/properties/blobstore/agent/additional_users?
  value:
    - user: agent
      password: ((blobstore_agent_old_password))
""",
            ),
        ),
    }
)

#: What to do after the rename, for each documented password (docs-bosh).
PASSWORD_STEPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "credhub_encryption_password": (
            "bosh create-env ... -o add-old-credhub-encryption-password.yml --vars-store FILE: bosh generates a new "
            "credhub_encryption_password, CredHub re-encrypts with it and keeps decrypting with the old one",
            "then remove credhub_encryption_password_old from FILE and run create-env without the ops file",
        ),
        "blobstore_agent_password": (
            "bosh create-env ... -o rotate-blobstore-agent-password.yml --vars-store FILE: a new user agent-new "
            "with a new password; the old one stays as an additional user",
            "bosh -d DEPLOYMENT recreate, for each deployment (agents get the new credentials)",
            "then remove blobstore_agent_old_password from FILE and run create-env with rename-default-agent-user.yml",
        ),
    }
)


def password_refusal(name: str, store: VarStore) -> str | None:
    """Why ``rotate password`` does not rename ``name``, with the docs' advice, or ``None``."""
    if name not in rotate.OLD_NAMES:
        if name in rotate.DROP_SAFE:
            return f"{name}: documented as safe to delete: delete it and run create-env (no transitional step)"
        return (
            f"{name}: no documented transitional rotation (only credhub_encryption_password and "
            "blobstore_agent_password): see docs-bosh credential-rotation for what must get the new value first"
        )
    entry = store.get(name)
    if entry is None:
        return f"{name}: not in the var-store"
    if entry.kind is not Kind.PASSWORD:
        return f"{name}: not a password ({entry.kind.value})"
    old = rotate.OLD_NAMES[name]
    if old in store:
        return f"{old}: already in the var-store: a rotation is under way; finish it first"
    return None
