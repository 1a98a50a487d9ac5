"""Writing into a sops-encrypted var-store: one ``sops set`` (or ``sops unset``) per top-level entry that changes,
so that every other value keeps its ciphertext and the file keeps its data key.

``restore`` plans on the decrypted text (in memory) as it does for a plaintext var-store; :func:`restored` then
applies the difference between the decrypted file and the planned text to a copy of the ciphertext, next to the
file (ciphertext only: no plaintext is written anywhere), and checks the result before anything replaces the
file: decrypted, it holds exactly the planned values, and every entry it did not set keeps its ciphertext. Values
go to sops on its stdin (``--value-stdin``), never on a command line where other users could read them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import yaml

from creds_lint import sops
from creds_lint.errors import CredsLintError
from creds_lint.loader import parse_plain

#: The copy's name says nothing about its format: tell sops.
_YAML = ("--input-type", "yaml", "--output-type", "yaml")


def restored(path: Path, *, before: bytes, plain_before: bytes, plain_after: bytes) -> bytes:
    """The sops file ``before`` (at ``path``) with the top-level entries that differ between its decrypted text
    ``plain_before`` and the planned text ``plain_after`` set, or unset, by sops. Nothing is written to ``path``:
    the caller writes the result (atomically, with a backup)."""
    source = str(path)
    old, new = _values(plain_before, source), _values(plain_after, source)
    changed = [name for name, value in new.items() if name not in old or old[name] != value]
    removed = [name for name in old if name not in new]
    command = sops.program(source)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".sops.tmp")
    copy = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(before)
        for key in changed:
            _sops(
                command, ["set", *_YAML, "--value-stdin", str(copy), _index(key)], _json(new[key], key, source), source
            )
        for key in removed:
            _sops(command, ["unset", *_YAML, str(copy), _index(key)], b"", source)
        result = copy.read_bytes()
    finally:
        with contextlib.suppress(OSError):
            copy.unlink()
    _verify(result, plain_after, before, kept=[n for n in old if n in new and n not in changed], source=source)
    return result


def _values(text: bytes, source: str) -> Mapping[str, object]:
    """The top-level values of a decrypted var-store as sops' JSON takes them (the loader has read the same text
    safely before: no tag constructs anything here either)."""
    loaded = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise CredsLintError("the decrypted file is not a mapping of variables", source=source)
    return {str(key): value for key, value in loaded.items()}


def _index(key: str) -> str:
    """sops' index of a top-level key: ``["name"]``."""
    return f"[{json.dumps(key)}]"


def _json(value: object, key: str, source: str) -> bytes:
    try:
        return json.dumps(value).encode()
    except (TypeError, ValueError):
        message = f"{key} holds a value sops set cannot take (a date or binary YAML value)"
        raise CredsLintError(message, source=source) from None


def _sops(command: str, args: list[str], stdin: bytes, source: str) -> None:
    """One ``sops`` call on the ciphertext copy: no shell, no terminal, the value on stdin, a timeout. Its
    messages are not shown (they can quote values); its exit code is."""
    try:
        result = subprocess.run(
            [command, *args],
            input=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            timeout=sops.TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        message = f"sops {args[0]} did not finish within {sops.TIMEOUT_SECONDS} seconds"
        raise CredsLintError(message, source=source) from None
    except OSError as exc:
        raise CredsLintError(f"cannot run sops ({exc.strerror or type(exc).__name__})", source=source) from None
    if result.returncode != 0:
        raise CredsLintError(f"sops {args[0]} failed (exit code {result.returncode}); nothing written", source=source)


def _verify(result: bytes, plain_after: bytes, before: bytes, *, kept: list[str], source: str) -> None:
    """The file sops wrote holds the planned values, and the entries it was not asked to set kept their
    ciphertexts."""
    decrypted = parse_plain(sops.plaintext(result, source=source), source=source)
    planned = parse_plain(plain_after, source=source)
    if decrypted.values() != planned.values():
        raise CredsLintError("sops did not write the planned values; nothing written", source=source)
    old, new = sops.load(before, source=source, decrypt=False), sops.load(result, source=source, decrypt=False)
    for name in kept:
        was, now = old.get(name), new.get(name)
        if was is None or now is None or was.value != now.value:
            raise CredsLintError(f"sops changed the ciphertext of {name}; nothing written", source=source)
