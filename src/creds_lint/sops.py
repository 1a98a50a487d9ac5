"""sops-encrypted var-stores: compared structurally without keys, or decrypted by ``sops`` with ``--decrypt``.

sops keeps the keys in plaintext and encrypts each value on its own (``ENC[AES256_GCM,data:...]``); a top-level
``sops:`` map holds the data key, wrapped for each recipient, and a MAC over every value. ``sops edit`` and
``sops set`` keep the ciphertext of every value they do not change, so without any key:

* a removed or added variable is seen as usual, and so is each kind (from the field names: ``certificate``,
  ``private_key``, ``public_key_fingerprint``);
* an unchanged ciphertext is an unchanged value, and a changed one (same data key) a changed value, judged by its
  category: a changed encryption key is an error;
* public parts left readable (``--unencrypted-regex``) are checked as usual: chains, renewed CAs, expiry;
* when the data key changed, or every value changed (a decrypt followed by an encrypt), the values cannot be
  compared: that is an error asking for ``--decrypt``, never a pass (:func:`comparison_problem`).

With ``--decrypt``, ``sops decrypt`` runs as a subprocess (no shell, stdin closed, no terminal to prompt on, a
timeout) and its output is parsed in memory: the plaintext is never written to a file. A MAC mismatch (a file
edited without sops) is read anyway (``--ignore-mac``) and reported (``edited-without-sops``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from types import MappingProxyType

from creds_lint.errors import CredsLintError
from creds_lint.loader import parse_plain
from creds_lint.model import Seal, VarStore, digest, is_ciphertext

#: How long ``sops decrypt`` may take (a KMS round trip, a gpg agent) before creds-lint gives up.
TIMEOUT_SECONDS = 60
#: sops' exit codes (getsops/sops cmd/sops/codes).
MAC_MISMATCH = 51
NO_DATA_KEY = 128

_DECRYPT = "run creds-lint with --decrypt (sops on PATH and a key that opens the file)"


def load(data: bytes, *, source: str, decrypt: bool) -> VarStore:
    """A sops file: its values decrypted by ``sops`` when ``decrypt``, else as ciphertexts.

    A file sops encrypted whole (its binary format: one ``data`` value) has no variables to compare without keys.
    """
    sealed = _structural(data, source)
    whole = _whole_file(sealed)
    if decrypt:
        return _decrypted(data, source, sealed, output="binary" if whole else "yaml")
    if whole:
        raise CredsLintError(
            "encrypted with sops as a whole file (its binary format, one 'data' value): no variable can be "
            f"compared without the keys: {_DECRYPT}",
            source=source,
        )
    return sealed


def _whole_file(store: VarStore) -> bool:
    """Whether sops encrypted the file as one blob (``sops encrypt`` of a file it took for binary)."""
    entry = store.get("data")
    return len(store) == 1 and entry is not None and is_ciphertext(entry.value)


def _structural(data: bytes, source: str) -> VarStore:
    """The file as it is, without its ``sops`` map: keys in plaintext, encrypted values as their ciphertexts."""
    store = parse_plain(data, source=source)
    meta = store.get("sops")
    fields = meta.fields if meta is not None else {}
    if "mac" not in fields or "version" not in fields:
        raise CredsLintError(
            "holds sops ciphertext (ENC[...]) but no top-level 'sops' map with its mac and version: restore the "
            "file from version control",
            source=source,
        )
    entries = {name: entry for name, entry in store.entries.items() if name != "sops"}
    return replace(
        store,
        entries=MappingProxyType(entries),
        duplicates=tuple(d for d in store.duplicates if d.name != "sops"),
        seal=Seal(decrypted=False, data_key=_data_key(fields)),
    )


def _data_key(meta: Mapping[str, object]) -> str:
    """A digest of the wrapped data keys (every ``enc`` in the ``sops`` map); ``""`` when there is none."""
    wrapped = sorted(value for key, value in _leaves(meta, ()) if key[-1:] == ("enc",) and isinstance(value, str))
    return digest("\n".join(wrapped)) if wrapped else ""


def _leaves(value: object, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], object]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, str(index)))
    else:
        yield path, value


def ciphertexts(store: VarStore) -> dict[tuple[str, ...], str]:
    """Every encrypted value of a store read without keys, by its path (variable, field...)."""
    return {
        path: value
        for entry in store
        for path, value in _leaves(entry.value, (entry.name,))
        if isinstance(value, str) and is_ciphertext(value)
    }


def comparison_problem(old: VarStore, new: VarStore) -> str | None:
    """Why two versions cannot be compared without keys, or ``None`` (both plaintext, decrypted, or sops with the
    same data key and some ciphertexts kept)."""
    old_seal, new_seal = old.seal, new.seal
    if (old_seal is None and new_seal is None) or any(s is not None and s.decrypted for s in (old_seal, new_seal)):
        return None
    if old_seal is None or new_seal is None:
        return f"one version is encrypted with sops and the other is not, so no value can be compared: {_DECRYPT}"
    if not new_seal.data_key or old_seal.data_key != new_seal.data_key:
        return (
            "the sops data key changed (the file was decrypted and encrypted again, or its keys rotated): every "
            f"value is a new ciphertext and none can be compared without the keys: {_DECRYPT}"
        )
    before, after = ciphertexts(old), ciphertexts(new)
    common = before.keys() & after.keys()
    if len(common) > 1 and all(before[path] != after[path] for path in common):
        return (
            "every encrypted value changed (a decrypt followed by an encrypt?): changed values cannot be compared "
            f"without the keys: {_DECRYPT}"
        )
    return None


# --- --decrypt ------------------------------------------------------------------------------------------------


def program(source: str) -> str:
    """The ``sops`` command on PATH, or an error saying it is needed for ``source``."""
    found = shutil.which("sops")
    if found is None:
        raise CredsLintError(
            "is encrypted with sops, and --decrypt needs the sops command on PATH (https://getsops.io)", source=source
        )
    return found


def plaintext(data: bytes, *, source: str) -> bytes:
    """The decrypted YAML of a sops file, in memory (for a command that writes into it: a file that fails its
    MAC is refused, as ``sops set`` would refuse it)."""
    sealed = _structural(data, source)
    if _whole_file(sealed):
        raise CredsLintError("encrypted with sops as a whole file: creds-lint cannot edit its variables", source=source)
    returncode, printed = _run(program(source), data, output="yaml", ignore_mac=False)
    if returncode == MAC_MISMATCH:
        raise CredsLintError(
            "fails its sops MAC (edited without sops): restore it from version control first", source=source
        )
    if returncode != 0:
        raise CredsLintError(_failure(returncode), source=source)
    return printed


def _decrypted(data: bytes, source: str, sealed: VarStore, *, output: str) -> VarStore:
    """The plaintext, as ``sops decrypt`` prints it, parsed in memory. Lines are the encrypted file's (sops
    prints 4-space YAML, with multi-line values where the file has one line of ciphertext)."""
    returncode, plaintext = _run(program(source), data, output=output, ignore_mac=False)
    mac_mismatch = returncode == MAC_MISMATCH
    if mac_mismatch:
        returncode, plaintext = _run(program(source), data, output=output, ignore_mac=True)
    if returncode != 0:
        raise CredsLintError(_failure(returncode), source=source)
    store = parse_plain(plaintext, source=source)
    del plaintext
    entries = {
        name: replace(entry, line=kept.line, field_lines=kept.field_lines) if (kept := sealed.get(name)) else entry
        for name, entry in store.entries.items()
    }
    return replace(store, entries=MappingProxyType(entries), seal=Seal(decrypted=True, mac_mismatch=mac_mismatch))


def _failure(returncode: int) -> str:
    """Why ``sops decrypt`` failed, from its exit code alone (its messages can quote the file)."""
    if returncode == NO_DATA_KEY:
        return (
            "sops cannot decrypt it: no key available here opens its data key (an age key in SOPS_AGE_KEY_FILE, "
            "a gpg secret key, cloud KMS credentials)"
        )
    return f"sops cannot decrypt it (sops decrypt exit code {returncode})"


def _run(command: str, data: bytes, *, output: str, ignore_mac: bool) -> tuple[int, bytes]:
    """``sops decrypt`` of ``data``, handed over through a pipe (never a file), with no shell, stdin closed and
    no controlling terminal (nothing can prompt), within :data:`TIMEOUT_SECONDS`. Returns its exit code and
    output."""
    read_end, write_end = os.pipe()
    args = [command, "decrypt", "--input-type", "yaml", "--output-type", output]
    args += ["--ignore-mac"] if ignore_mac else []
    try:
        process = subprocess.Popen(
            [*args, f"/dev/fd/{read_end}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            pass_fds=(read_end,),
            start_new_session=True,
            env={k: v for k, v in os.environ.items() if k != "GPG_TTY"},
        )
    except OSError as exc:
        os.close(write_end)
        raise CredsLintError(f"cannot run sops ({exc.strerror or type(exc).__name__})") from None
    finally:
        os.close(read_end)
    writer = threading.Thread(target=_feed, args=(write_end, data), daemon=True)
    writer.start()
    try:
        printed, _ = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise CredsLintError(
            f"sops decrypt did not finish within {TIMEOUT_SECONDS} seconds (waiting for a key service?)"
        ) from None
    finally:
        writer.join()
    return process.returncode, printed


def _feed(fd: int, data: bytes) -> None:
    """Write the ciphertext to sops' end of the pipe (sops may stop reading early: that is its error to tell)."""
    try:
        with os.fdopen(fd, "wb") as pipe:
            pipe.write(data)
    except BrokenPipeError:
        pass
