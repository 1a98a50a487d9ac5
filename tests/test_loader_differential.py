"""The loader's fast paths build exactly what the straightforward builder built (tests/loader_reference.py, the
loader as it was before them): every entry's value and its type, line and field lines, the duplicates in their
order, the digest, the export format, and every error word for word (ciphertext and merge-conflict markers
included), over generated bosh-shaped var-stores and
CredHub exports, hostile inputs (aliases, anchors, tags, merge keys, nesting, conflict markers) and random edits
of both. The bounds on values, characters and depth are lowered so that generated files cross them anywhere.

The seeds are fixed per case and change every run (CREDS_LINT_SEED=N replays a run); a failure names its seed.
"""

from __future__ import annotations

import base64
import os
import random
import string
from collections.abc import Callable, Iterator

import pytest

import loader_reference
from creds_lint import credhub, encrypted, loader, yamlread
from creds_lint.errors import CredsLintError
from creds_lint.model import VarStore

SEED = int(os.environ.get("CREDS_LINT_SEED") or random.SystemRandom().randrange(2**32))
CASES = 60
PER_CASE = 30

_NAMES = ["admin_password", "nats_ca", "nats_server_tls", "director_ssl", "jumpbox_ssh", "uaa_jwt", "a", "b", "k"]
_FIELDS = ["ca", "certificate", "private_key", "public_key", "public_key_fingerprint", "password", "username", "x"]
_SCALARS = [
    "0123",
    "'0123'",
    '"0123"',
    "yes",
    "No",
    "~",
    "null",
    "''",
    "1.0",
    "1e5",
    "1e400",
    "0x1F",
    "0b101",
    "0b-101",
    "0o17",
    "1_000",
    "_1",
    ".5",
    "+.inf",
    ".NaN",
    "-0",
    "9223372036854775808",
    "18446744073709551616",
    "2024-05-01",
    "2001-12-14t21:59:43.10-05:00",
    "12:30",
    "!!str 0123",
    "!!int 12",
    "!!int abc",
    "!!float 1",
    "!!float x",
    "!!bool yes",
    "!!bool 1",
    "!!null ~",
    "!!null x",
    "!!timestamp 2001-12-14",
    "!!timestamp x",
    "!!binary aGVsbG8=",
    "!!binary !!!",
    "! 12",
    "!custom x",
    "!!python/object:os.system x",
    "!<tag:x> y",
    '"a\\tb"',
    "'it''s'",
    '"\\u00e9"',
    "plain text here",
    "a#b",
    "a # comment",
    "-",
    "--",
    "'<<'",
]


def _password(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=20))


def _pem(rng: random.Random, label: str) -> list[str]:
    body = base64.b64encode(rng.randbytes(rng.randrange(1, 200))).decode()
    return [f"-----BEGIN {label}-----", *(body[i : i + 64] for i in range(0, len(body), 64)), f"-----END {label}-----"]


def _block(rng: random.Random, indent: int, label: str) -> list[str]:
    pad = " " * indent
    lines = [pad + line for line in _pem(rng, label)]
    if rng.random() < 0.1:
        lines.insert(rng.randrange(len(lines)), "")
    return [rng.choice(["|", "|-", "|+", "|2", ">"]), *lines]


def _value(rng: random.Random, indent: int, depth: int) -> list[str]:
    """A value's text: its first line (after the key) and the lines under it."""
    roll = rng.random()
    if roll < 0.3:
        lines = [_password(rng)]
    elif roll < 0.45:
        lines = [rng.choice(_SCALARS)]
    elif roll < 0.55:
        lines = _block(rng, indent + 2, rng.choice(["CERTIFICATE", "RSA PRIVATE KEY", "PUBLIC KEY"]))
    elif roll < 0.62:
        lines = [rng.choice(["[a, 1, '2', ~]", "{a: 1, b: [x, y], a: 2}", "[]", "{}", "[[[]]]", "{? a, b: }"])]
    elif roll < 0.7 or depth > 40:
        lines = [rng.choice(["&v " + _password(rng), "*v", "*m", "*k", "*nowhere", "&m {f: 1, *k : 2}", "&r [*r]"])]
    elif roll < 0.8:
        items = [f"{' ' * indent}- {_value(rng, indent + 2, depth + 1)[0]}" for _ in range(rng.randrange(4))]
        lines = ["", *items] if items else ["[]"]
    else:
        lines = ["", *_mapping(rng, indent + 2, depth + 1)]
    return lines


def _mapping(rng: random.Random, indent: int, depth: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    deep = rng.random() < 0.05
    for _ in range(1 if deep else rng.randrange(1, 5)):
        key = rng.choice([*_FIELDS, "&k x", "*k", "<<", "'<<'", "!!str y", "!foo z", "[a]", '"ca"'])
        first, *rest = ["", *_mapping(rng, indent + 2, depth + 1)] if deep else _value(rng, indent, depth)
        lines += [f"{pad}{key}: {first}".rstrip(), *rest]
    return lines


def _store(rng: random.Random) -> str:
    lines: list[str] = []
    if rng.random() < 0.5:  # anchors for the aliases below (an alias before its anchor is an error)
        lines.append(rng.choice(["anchors: [&k kname, &v value, &m {f: 1}]", "&k kname: {&v f: &m [1, 2]}"]))
    for _ in range(rng.randrange(0, 12)):
        name = rng.choice(_NAMES) if rng.random() < 0.5 else f"var_{rng.randrange(30)}"
        roll = rng.random()
        if roll < 0.4:
            lines.append(f"{name}: {_password(rng)}")
        elif roll < 0.7:
            lines.append(f"{name}:")
            for field in rng.sample(["ca", "certificate", "private_key"], rng.randrange(1, 4)):
                indicator, *block = _block(rng, 4, "CERTIFICATE")
                lines += [f"  {field}: {indicator}", *block]
        else:
            first, *rest = _value(rng, 2, 1)
            lines += [f"{name}: {first}".rstrip(), *rest]
        if rng.random() < 0.01:
            lines.append(rng.choice(["---", "# a comment", "...", "<<<<<<< HEAD", "=======", ">>>>>>> b"]))
    return "\n".join(lines) + rng.choice(["\n", "", "\n\n"])


def _export(rng: random.Random) -> str:
    lines = [rng.choice(["credentials:", "Credentials:"])]
    for _ in range(rng.randrange(0, 5)):
        kind = rng.choice(["password", "value", "certificate", "json", "user", "ssh", "rsa", "nope", ""])
        lines.append(f"- name: {rng.choice(['/d/a', '/d/b', '', '/d/a'])}")
        lines.append(f"  type: {kind}")
        if kind in ("certificate", "json", "user", "ssh", "rsa"):
            lines.append("  value:")
            lines += [f"    {field}: {_password(rng)}" for field in rng.sample(_FIELDS, rng.randrange(1, 4))]
        elif rng.random() < 0.9:
            lines.append(f"  value: {rng.choice([_password(rng), *_SCALARS])}")
        if rng.random() < 0.2:
            lines.append("  metadata: {versions: [1, 2]}")
    if rng.random() < 0.1:
        lines.append("other: 1")
    return "\n".join(lines) + "\n"


_EDITS = [" ", "\t", "\n", ": ", "- ", "&a ", "*a", "!!int ", "<<: ", "{", "[", "'", '"', "#", "\n---\n", "\r\n"]
#: Ciphertext markers and merge-conflict markers, where they count and where they do not.
_MARKERS = [
    "$ANSIBLE_VAULT;1.1;AES256\n",
    "$ANSIBLE_VAULT",
    "ENC[AES256_GCM,data:eA==]",
    "ENC[AES256",
    "\nsops:\n",
    "sops:",
    "\nsops: \r\n  mac: x\n",
    '\n  "sops" : {"mac": 1}',
    '"sops"',
    "mac",
    "<<<<<<<",
    "\n<<<<<<< HEAD\n",
    "=======",
    "\n=======\n",
    "\n======= x",
    "\n========",
    ">>>>>>>",
    "\n>>>>>>> b\r\n",
    "\n=======\r\n",
    "$",
    "[",
    "<",
    ">",
]


def _edited(rng: random.Random, text: str) -> str:
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(len(text) + 1)
        if rng.random() < 0.5:
            text = text[:at] + rng.choice(_MARKERS if rng.random() < 0.3 else _EDITS) + text[at:]
        else:
            text = text[:at] + text[at + rng.randrange(1, 20) :]
    return text


_HOSTILE = [
    "",
    "~\n",
    "just a scalar\n",
    "- a\n- b\n",
    "a: &a [1, 2]\nb: [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n",
    "a: &a\n  x: 1\n  *a : 2\n",
    "&k key: 1\n*k : 2\n",
    "a: &x abcdefghij\n*x : 1\nb: {*x : 2, *x : 3}\n",
    "a: &m {p: 1, &k q: 2}\nb: &n {*k : *m, r: *m}\nc: [*n, *n, *n]\n",
    # a key is one value in the size of its mapping, whatever it aliases: 33 values in all, 41 if counted twice
    "k: &k q\nm: &m {*k : 1, *k : 2}\nb: [*m, *m, *m, *m]\n",
    "k: &k qqqqqqqqqq\nm: &m {*k : 1, *k : 2}\nb: [*m, *m]\n",  # 99 characters in all, 139 if counted twice
    "a: 1\nb: 2\nb: 3\na: 4\nb: 5\n",
    "a: {x: 1, y: 2, y: 3, x: 4, y: 5}\n",
    "{a: 1, a: 2, b: 1, b: 2}\n",
    "credentials: 1\nother: 2\n",
    "credentials:\n- name: /a\n  type: password\n  value: x\n- name: /a\n  type: password\n  value: y\n",
    "a: !!binary aGVsbG8=\n",
    "a: b\n---\nc: d\n",
    "=======\na: 1\n",
    "<<<<<<< HEAD\na: 1\n",
    "a: 1\n>>>>>>> theirs\n",
    "a: ENC[AES256_GCM,data:eA==,type:str\n",
    "a: $ANSIBLE_VAULT;1.1;AES256\n",
    "sops:\n  mac: x\n",
    '{"sops": {"mac": 1}}\n',
    "sops_password: abc\nmac_address: x\n",
    "a: " + "[" * 40 + "]" * 40 + "\n",
    "a: " + "{b: " * 33 + "1" + "}" * 33 + "\n",
    "a:\n  <<: {b: 1}\n",
    "? [a]\n: 1\n",
    "a: *undefined\n",
    "a: &r [*r]\n",
    "!!map {a: 1}\n",
    "!!set {a, b}\n",
    "!!omap [a: 1]\n",
    "!!seq [a]\n",
    "a: !!seq [1]\nb: !!map {c: 1}\nc: !!python/tuple [1]\n",
]


def _outcome(parse: Callable[[bytes], VarStore], data: bytes) -> tuple[object, ...]:
    """What a parse gives, in full: every entry (and a credential's type, raw value and metadata), or the error."""
    try:
        store = parse(data)
    except CredsLintError as exc:
        return ("error", str(exc))
    entries = []
    for name, entry in store.entries.items():
        extra = (entry.type, repr(entry.raw), repr(entry.metadata)) if isinstance(entry, credhub.Credential) else ()
        fields = repr(dict(entry.field_lines))
        entries.append((name, type(entry), entry.name, repr(entry.value), entry.line, fields, extra))
    return ("store", store.source, store.digest, store.export, repr(store.duplicates), entries)


def _inputs(rng: random.Random) -> Iterator[str]:
    for _ in range(PER_CASE):
        text = _export(rng) if rng.random() < 0.15 else _store(rng)
        yield text
        yield _edited(rng, text)
    yield rng.choice(_HOSTILE)
    yield _edited(rng, rng.choice(_HOSTILE))


def _compare(text: str, why: str) -> bool:
    """Whether ``text`` was compared in full; a sops file is compared by its detection only (both read it with
    :mod:`creds_lint.sops`). ``why`` is part of the failure message."""
    data = text.encode()
    cipher = encrypted.detect(data)
    assert cipher is loader_reference.detect(data), f"{why}: the detections differ on {text!r}"
    if cipher is encrypted.Cipher.SOPS:
        return False
    new = _outcome(lambda d: loader.parse_store(d, source="creds.yml"), data)
    old = _outcome(lambda d: loader_reference.parse_store(d, source="creds.yml"), data)
    assert new == old, f"{why}: the loader and the reference differ on {text!r}"
    return True


def _same(seed: int) -> int:
    """How many inputs of the case ``seed`` were compared in full."""
    rng = random.Random(seed)  # noqa: S311 - test data, replayable from the seed; no secret is made here
    return sum(_compare(text, f"seed {seed}") for text in _inputs(rng))


@pytest.mark.parametrize("case", range(CASES))
def test_the_loader_builds_what_the_reference_built(case: int) -> None:
    assert _same(SEED + case) > PER_CASE


BOUNDS = [(12, 10_000, 32), (40, 120, 32), (300, 3000, 3)]


def _lower(monkeypatch: pytest.MonkeyPatch, values: int, chars: int, depth: int) -> None:
    for module in (yamlread, loader, loader_reference):
        for name, bound in (("MAX_VALUES", values), ("MAX_CHARS", chars), ("MAX_DEPTH", depth)):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, bound)


@pytest.mark.parametrize("case", range(CASES // 2))
@pytest.mark.parametrize(("values", "chars", "depth"), BOUNDS)
def test_the_bounds_stop_both_at_the_same_event(
    monkeypatch: pytest.MonkeyPatch, case: int, values: int, chars: int, depth: int
) -> None:
    _lower(monkeypatch, values, chars, depth)
    assert _same(SEED + case) > PER_CASE


@pytest.mark.parametrize("text", _HOSTILE)
@pytest.mark.parametrize("bounds", [None, *BOUNDS])
def test_hostile_inputs_read_as_the_reference_read_them(
    monkeypatch: pytest.MonkeyPatch, text: str, bounds: tuple[int, int, int] | None
) -> None:
    if bounds is not None:
        _lower(monkeypatch, *bounds)
    _compare(text, f"bounds {bounds}")
