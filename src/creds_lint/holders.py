"""Who holds a copy of a CA outside the director VM: what a renewal has to reach, and before when.

From the bosh-deployment manifests and the director and agent source (see docs/renew.md). A CA that is not
listed is held by whatever the manifests give ``((NAME.ca))`` or ``((NAME.certificate))``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: How many days ahead a CA that agents hold is warned about (at least; ``--expiry-days`` when it is longer).
#: Agents get a renewed copy only with a deploy of every deployment, and after expiry only ``bosh recreate --fix``
#: reaches them.
AGENT_CA_EXPIRY_DAYS = 60


@dataclass(frozen=True, kw_only=True)
class Copies:
    """Who holds copies of a CA certificate (``who``, in an operator's words); ``agents``: every agent does."""

    who: str
    agents: bool = False


KNOWN: Mapping[str, Copies] = MappingProxyType(
    {
        "nats_ca": Copies(who="every agent (env.bosh.mbus.cert.ca), through each deployment's VMs", agents=True),
        "blobstore_ca": Copies(who="every agent (the blobstore's CA in the agent settings)", agents=True),
        "default_ca": Copies(
            who="CLI users and pipelines (BOSH_CA_CERT), VMs that call the director, CredHub's trust of UAA"
        ),
        "credhub_ca": Copies(who="VMs and pipelines that call CredHub (their CredHub CA copy)"),
        "mbus_bootstrap_ssl": Copies(who="only the create-env CLI"),
    }
)


def copies(name: str) -> Copies:
    """Who holds copies of the CA in variable ``name``."""
    return KNOWN.get(name) or Copies(
        who=f"whatever the manifests give (({name}.ca)) or (({name}.certificate)): jobs and clients that trust it"
    )


def held_by_agents(name: str) -> bool:
    return copies(name).agents
