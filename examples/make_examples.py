"""Regenerate the bundled example var-stores (throwaway keys, valid for 100 years).

    python examples/make_examples.py

The files reproduce the incident in docs/incident.md with a bosh-deployment-shaped store: `incident/creds.yml`
is the fresh install; `incident/creds-after-edit.yml` is the file after the `vi` session (certificates and
`credhub_encryption_password` deleted); `incident/creds-after-create-env.yml` is what `bosh create-env` wrote
next (everything missing regenerated); `leaf-rotation/creds-after-rotation.yml` is the safe rotation (only the
leaf certificates re-issued by their unchanged CAs).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from factory import (  # noqa: E402 - the factory lives with the tests
    BOSH_CAS,
    BOSH_LEAVES,
    BOSH_PASSWORDS,
    dump_store,
    incident,
    leaf_rotation,
    make_ca,
    make_leaf,
    make_rsa,
    make_ssh,
    password,
)

DAYS = 36500


def fresh_install() -> dict[str, object]:
    store: dict[str, object] = {name: password(name) for name in BOSH_PASSWORDS}
    cas = {name: make_ca(cn, key_slot=100 + i, days=DAYS) for i, (name, cn) in enumerate(BOSH_CAS.items())}
    store.update({name: ca.as_value() for name, ca in cas.items()})
    for i, (name, (ca_name, cn, sans, eku)) in enumerate(BOSH_LEAVES.items()):
        leaf = make_leaf(cn, cas[ca_name], key_slot=110 + i % 3, sans=sans, extended_key_usage=eku, days=DAYS)
        store[name] = leaf.as_value()
    store["uaa_jwt_signing_key"] = make_rsa(120)
    store["jumpbox_ssh"] = make_ssh(121)
    return store


def main() -> None:
    store = fresh_install()
    certificates = [name for name, value in store.items() if isinstance(value, dict) and "certificate" in value]
    edited = {k: v for k, v in store.items() if k not in certificates and k != "credhub_encryption_password"}
    files = {
        HERE / "incident" / "creds.yml": store,
        HERE / "incident" / "creds-after-edit.yml": edited,
        HERE / "incident" / "creds-after-create-env.yml": incident(store),
        HERE / "leaf-rotation" / "creds.yml": store,
        HERE / "leaf-rotation" / "creds-after-rotation.yml": leaf_rotation(store),
    }
    for path, content in files.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(dump_store(content), encoding="utf-8")
        print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
