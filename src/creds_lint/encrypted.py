"""Ciphertext is recognised before anything tries to parse it: an encrypted var-store is never "not YAML", and
never a pass.

Every read of a var-store (files, git blobs, the hook, ``check``, ``diff``) goes through :func:`detect` first
(from :func:`creds_lint.loader.parse_store`). What creds-lint can read anyway:

* git-crypt and transcrypt blobs, in an unlocked clone, through git's own filters (:func:`read_blob`);
* two identical git-crypt or transcrypt blobs, even while locked: both tools encrypt deterministically, so the
  same ciphertext is the same file (:func:`unchanged`);
* sops files, structurally without keys or decrypted with ``--decrypt`` (:mod:`creds_lint.sops`).

Anything else encrypted is a one-line error that names the tool and the fix (exit code 2).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from creds_lint.git import Repo


class Cipher(enum.Enum):
    """A kind of ciphertext, by the tool that writes it. The value is the tool's name as reports show it."""

    GIT_CRYPT = "git-crypt"
    TRANSCRYPT = "transcrypt"
    SOPS = "sops"
    ANSIBLE_VAULT = "ansible-vault"
    PGP = "PGP"
    AGE = "age"

    @property
    def unreadable(self) -> str:
        """Why a file of this kind cannot be checked, and what to do: one line, no content."""
        return _UNREADABLE[self]


#: Tools that encrypt through git's filters (clean/smudge): an unlocked clone gives the plaintext.
FILTERED = frozenset({Cipher.GIT_CRYPT, Cipher.TRANSCRYPT})

_PIPE = "compare decrypted copies through pipes, never files: creds-lint OLD <({})"
_UNREADABLE = {
    Cipher.GIT_CRYPT: (
        "encrypted with git-crypt and the repository is locked (git's filters give ciphertext): run "
        "`git-crypt unlock`, then creds-lint again"
    ),
    Cipher.TRANSCRYPT: (
        "encrypted with transcrypt and this clone has no key (git's filters give ciphertext): configure it with "
        "`transcrypt` (its password and cipher), then run creds-lint again"
    ),
    Cipher.SOPS: "encrypted with sops and cannot be compared without its keys: run creds-lint with --decrypt",
    Cipher.ANSIBLE_VAULT: "encrypted with ansible-vault, which creds-lint cannot read: "
    + _PIPE.format("ansible-vault view FILE"),
    Cipher.PGP: "encrypted with PGP, which creds-lint cannot read: " + _PIPE.format("gpg --decrypt FILE"),
    Cipher.AGE: "encrypted with age, which creds-lint cannot read: " + _PIPE.format("age --decrypt -i KEY FILE"),
}

_GIT_CRYPT = b"\0GITCRYPT\0"
_TRANSCRYPT = b"U2FsdGVk"  # base64 of OpenSSL's "Salted__"
_SOPS_VALUE = b"ENC[AES256_GCM,"
_SOPS_MAP = re.compile(rb"^sops:[ \t]*\r?$", re.MULTILINE)
_SOPS_JSON = re.compile(rb'^[ \t]*"sops"[ \t]*:[ \t]*\{', re.MULTILINE)
_AGE = (b"age-encryption.org/v1\n", b"-----BEGIN AGE ENCRYPTED FILE-----")
_PGP_ARMOR = b"-----BEGIN PGP MESSAGE-----"
#: The first byte of a binary OpenPGP message (what ``gpg --encrypt`` and ``gpg --symmetric`` write): a public-key
#: or symmetric-key encrypted session key packet in the old packet format, or a public-key one in the new format.
#: None of them can start UTF-8 text.
_PGP_BINARY = frozenset({0x84, 0x85, 0x86, 0x87, 0x8C, 0x8D, 0x8E, 0x8F, 0xC1})


def detect(data: bytes) -> Cipher | None:
    """The kind of ciphertext ``data`` is, or ``None`` for anything else (which the loader then reads as YAML).

    Linear in the size of ``data``: a few prefix tests and substring searches.
    """
    return _whole_file(data) or _inside(data)


def _whole_file(data: bytes) -> Cipher | None:
    """Ciphertext that is the whole file, by its header."""
    if data.startswith(_GIT_CRYPT):
        return Cipher.GIT_CRYPT
    if data.startswith(_TRANSCRYPT):
        return Cipher.TRANSCRYPT
    start = data[:64].lstrip()
    if start.startswith(_AGE):
        return Cipher.AGE
    if start.startswith(_PGP_ARMOR) or (data[:1] and data[0] in _PGP_BINARY):
        return Cipher.PGP
    return None


def _inside(data: bytes) -> Cipher | None:
    """Ciphertext inside YAML: an ansible-vault file or value, a sops file."""
    # A search for one byte is much faster than one for a marker, and a bosh var-store holds neither "$" nor "[":
    # the markers that start with them are looked for only in a file that has them.
    if b"$" in data and b"$ANSIBLE_VAULT;" in data:
        return Cipher.ANSIBLE_VAULT
    if b"[" in data and _SOPS_VALUE in data:
        return Cipher.SOPS
    if b"sops" not in data:  # one more scan of the file, and only a file that names sops is searched further
        return None
    # Substring searches first: the patterns run only on a file that has a top-level `sops` key in some form.
    yaml_map = (data.startswith(b"sops:") or b"\nsops:" in data) and _SOPS_MAP.search(data)
    if b"mac" in data and (yaml_map or (b'"sops"' in data and _SOPS_JSON.search(data))):
        return Cipher.SOPS
    return None


def read_blob(repo: Repo, oid: str, *, path: str, label: str) -> bytes:
    """A blob as the work tree would hold it: read again through git's filters (once per file) when it is
    git-crypt or transcrypt ciphertext.

    ``git cat-file --filters --path=PATH`` runs only the filter commands of the user's own git configuration, for
    the attributes ``.gitattributes`` gives ``path``; every other blob is read as it is, with no filter run. A
    locked clone gives the ciphertext back (with exit code 0): the loader's detection then says so.
    """
    data = repo.read_blob(oid, label=label)
    if _whole_file(data) in FILTERED:
        return repo.read_filtered(oid, path=path, label=label)
    return data


def unchanged(new: bytes, read_old: Callable[[], bytes]) -> bool:
    """Whether ``new`` is git-crypt or transcrypt ciphertext and the old version (read only then) is the same: an
    unchanged file, even while the repository is locked (both tools encrypt deterministically: the same plaintext
    gives the same ciphertext)."""
    return _whole_file(new) in FILTERED and read_old() == new
