from __future__ import annotations

# Builders for REAL CredHub export files, shaped like what `credhub export` writes (credhub-cli
# models/credential_bulk_export.go, commands/export.go):
# - YAML (go.yaml.in/yaml/v3): `credentials:` list of name/type/value (metadata omitted when empty), 4-space
#   indent with the list indented under its key, multi-line strings as literal blocks (`|`, `|-`).
# - JSON (`-j`, encoding/json.Marshal): one line, keys capitalised (Credentials, Name, Type, Value), `<`, `>`,
#   `&` escaped as \u003c..., no spaces.
# - A certificate signed by another credential carries `ca_name: SIGNER` and no `ca`; a root keeps `ca`.
# - user: username, password, password_hash; ssh: public_key, private_key, public_key_fingerprint (CredHub's:
#   base64 SHA-256 of the key blob, no padding).
# The values come from var-stores made by tests/factory.py (real CAs, leaves, keys) or written by the real
# bosh CLI: `from_var_store` maps a var-store to CredHub names under a deployment path.
import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

Credential = dict[str, Any]


def credhub_fingerprint(public_key_line: str) -> str:
    blob = base64.b64decode(public_key_line.split()[1])
    return base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


def from_var_store(
    store: Mapping[str, object], *, prefix: str = "/bosh-lite/cf", signers: Mapping[str, str] | None = None
) -> list[Credential]:
    """The credentials CredHub would hold for a var-store's variables, named ``PREFIX/NAME``. ``signers`` maps
    a certificate to the variable of its CA (``options.ca`` of its declaration); without it, a certificate's
    signer is the CA whose certificate its ``ca`` field holds."""
    by_pem = {
        value["certificate"]: name
        for name, value in store.items()
        if isinstance(value, Mapping) and "certificate" in value and value.get("ca") == value["certificate"]
    }
    out: list[Credential] = []
    for name, value in store.items():
        full = f"{prefix}/{name}"
        if isinstance(value, str):
            out.append({"name": full, "type": "password", "value": value})
        elif isinstance(value, Mapping) and "certificate" in value:
            cert = dict(value)
            signer = (signers or {}).get(name) or by_pem.get(str(cert.get("ca")))
            if signer is not None and signer != name:
                cert.pop("ca", None)
                cert["ca_name"] = f"{prefix}/{signer}"
            out.append({"name": full, "type": "certificate", "value": cert})
        elif isinstance(value, Mapping) and "public_key_fingerprint" in value:
            ssh = dict(value)
            ssh["public_key"] = str(ssh["public_key"]).rstrip("\n")
            ssh["public_key_fingerprint"] = credhub_fingerprint(str(ssh["public_key"]))
            out.append({"name": full, "type": "ssh", "value": ssh})
        elif isinstance(value, Mapping) and "private_key" in value:
            out.append({"name": full, "type": "rsa", "value": dict(value)})
        else:
            raise ValueError(f"{name}: no CredHub type for this value")
    return out


def user(name: str, username: str, password: str, *, salt: str = "abcdefgh") -> Credential:
    digest = hashlib.sha512(f"{salt}{password}".encode()).hexdigest()[:43]
    return {
        "name": name,
        "type": "user",
        "value": {"username": username, "password": password, "password_hash": f"$6${salt}${digest}"},
    }


_PLAIN = re.compile(r"[A-Za-z/_][A-Za-z0-9/_.@-]*")
_RESOLVES = re.compile(r"(?i)true|false|yes|no|on|off|null|~|y|n")


def _scalar(text: str) -> str:
    if _PLAIN.fullmatch(text) and not _RESOLVES.fullmatch(text):
        return text
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _emit(key: str, value: object, column: int) -> list[str]:
    """``key: value`` at ``column``, as yaml.v3 (4-space indent) writes it."""
    pad = " " * column
    if isinstance(value, Mapping):
        if not value:
            return [f"{pad}{key}: {{}}"]
        lines = [f"{pad}{key}:"]
        for k, v in value.items():
            lines += _emit(str(k), v, column + 4)
        return lines
    if isinstance(value, str) and "\n" in value:
        body = value[:-1] if value.endswith("\n") else value
        indicator = "|" if value.endswith("\n") and not value.endswith("\n\n") else "|-"
        return [f"{pad}{key}: {indicator}", *(f"{pad}    {line}" if line else "" for line in body.split("\n"))]
    return [f"{pad}{key}: {_scalar(str(value))}"]


def export_yaml(credentials: Sequence[Credential]) -> str:
    if not credentials:
        return "credentials: []\n"
    lines = ["credentials:"]
    for credential in credentials:
        item: list[str] = []
        for key in ("name", "type", "value", "metadata"):
            if key in credential and (key != "metadata" or credential[key]):
                item += _emit(key, credential[key], 6)
        lines += ["    - " + item[0].lstrip(), *item[1:]]
    return "\n".join(lines) + "\n"


def _capitalised(credential: Credential) -> dict[str, Any]:
    out = {"Name": credential["name"], "Type": credential["type"], "Value": credential["value"]}
    if credential.get("metadata"):
        out["Metadata"] = credential["metadata"]
    return out


def export_json(credentials: Sequence[Credential]) -> str:
    text = json.dumps({"Credentials": [_capitalised(c) for c in credentials]}, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


EXPORTERS = {"yaml": export_yaml, "json": export_json}


def replaced(credentials: Sequence[Credential], name: str, value: object) -> list[Credential]:
    """The credentials with ``name``'s value replaced (a new version, as ``credhub regenerate`` or ``set``)."""
    out = [dict(c) for c in credentials]
    hits = [c for c in out if c["name"] == name]
    assert hits, name
    for c in hits:
        c["value"] = value
    return out
