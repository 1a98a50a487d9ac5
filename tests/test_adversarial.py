from __future__ import annotations

# Hostile input through the real CLI in a subprocess: every file gets exit 0, 1 or 2, a one-line error on
# stderr, bounded time and memory, never a traceback, never a secret. Files are generated here, not checked in.
# tests/test_loader.py covers the loader's messages in-process; these tests add what only a real process shows:
# peak memory (from os.wait4), hangs (a generous timeout, not a timing assertion), and the code paths behind
# the loader (rules on broken certificates, absurd validity, huge serials).
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from factory import Cert, bosh_store, cert_from_value, dump_store, make_leaf, scaled_scenarios
from measure import Measured, run_measured

pytestmark = pytest.mark.slow  # every hostile input runs the CLI in a measured subprocess, some of 50 MB

#: A password of the old store: no output may ever contain it.
SECRET = "Zq7xK2mP9vL4wR8tN3bC"
#: A hang guard, far above any expected run; not a timing assertion.
TIMEOUT = 120.0
#: "Hundreds of MB at most": the peak resident memory of any run.
MAX_MB = 400


def base_store() -> dict[str, object]:
    return {**bosh_store(), "custom_secret": SECRET}


BASE = dump_store(base_store())


def run(tmp_path: Path, new: bytes | Path, *args: str, old: bytes | Path | None = None) -> tuple[Measured, Path]:
    """Run ``creds-lint OLD NEW ARGS`` (OLD: the base store) in a subprocess, with the checks every run gets."""
    old_path = old if isinstance(old, Path) else tmp_path / "old.yml"
    if not isinstance(old, Path):
        old_path.write_bytes(old if old is not None else BASE.encode())
    new_path = new if isinstance(new, Path) else tmp_path / "new.yml"
    if not isinstance(new, Path):
        new_path.write_bytes(new)
    result = run_measured([sys.executable, "-m", "creds_lint", old_path, new_path, *args], timeout=TIMEOUT)
    assert not result.timed_out
    assert result.peak_mb < MAX_MB
    assert "Traceback" not in result.err
    assert SECRET not in result.out
    assert SECRET not in result.err
    assert result.code in (0, 1, 2)
    return result, new_path


def assert_one_line_error(result: Measured, path: Path, expected: str) -> None:
    assert result.code == 2, result.err
    assert result.out == ""
    assert result.err.endswith("\n")
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith(f"creds-lint: error: {path}: "), result.err
    assert expected in result.err, result.err


def billion_laughs(levels: int) -> str:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def fifty_mb_of_tiny_entries() -> str:
    return "".join(f"v{i}: x\n" for i in range(5_000_000))


def fifty_mb_flow_mapping() -> str:
    return "{" + ", ".join(f"k{i}: v" for i in range(5_000_000)) + "}\n"


@dataclass(frozen=True, kw_only=True)
class Bad:
    make: Callable[[], str | bytes]
    message: str


BAD: dict[str, Bad] = {
    "alias-bomb": Bad(
        make=lambda: billion_laughs(9), message="YAML aliases expand to too many values (an alias bomb?)"
    ),
    "alias-bomb-of-long-strings": Bad(
        make=lambda: f"a: &a {'x' * 1_000_000}\nb: [{', '.join(['*a'] * 5000)}]\n",
        message="YAML aliases expand to too many values (an alias bomb?)",
    ),
    "nesting-10000-flow-sequences": Bad(
        # libyaml's scanner reads a line of flow brackets ahead of the events, and stops at its own limit
        make=lambda: "a: " + "[" * 10_000 + "]" * 10_000 + "\n",
        message="line 1, column 1003: invalid YAML: exceeded maximum nesting depth",
    ),
    "nesting-10000-flow-mappings": Bad(
        make=lambda: "a: " + "{b: " * 10_000 + "c" + "}" * 10_000 + "\n",
        message="line 1: nested more than 32 levels deep",
    ),
    "nesting-10000-block-sequences": Bad(
        make=lambda: "a:\n" + "- " * 10_000 + "x\n", message="line 2: nested more than 32 levels deep"
    ),
    "50mb-of-tiny-entries": Bad(make=fifty_mb_of_tiny_entries, message="more than 2,000,000 lines: not a var-store"),
    "50mb-flow-mapping-on-one-line": Bad(
        make=fifty_mb_flow_mapping, message="line 1: more than 500,000 values: not a var-store"
    ),
    "over-64-mib": Bad(make=lambda: "a: " + "x" * (65 * 2**20) + "\n", message="larger than 64 MiB: not a var-store"),
    "nul-bytes": Bad(make=lambda: BASE.encode() + b"x: a\x00b\n", message="binary file (contains NUL bytes)"),
    "utf16-without-bom": Bad(make=lambda: BASE.encode("utf-16-le"), message="binary file (contains NUL bytes)"),
    "invalid-utf8": Bad(make=lambda: b"a: b\nc: d\ne: \xc3\x28" + SECRET.encode(), message="line 3: not valid UTF-8"),
    "tab-indentation": Bad(
        make=lambda: f"a:\n\tb: {SECRET}\n",
        message="line 2, column 1: invalid YAML: found character that cannot start any token",
    ),
    "merge-conflict-markers": Bad(
        make=lambda: f"a: b\n<<<<<<< HEAD\nc: {SECRET}\n=======\nc: other\n>>>>>>> theirs\n",
        message="line 2: git merge-conflict marker; resolve the conflict before running bosh",
    ),
    "python-object-apply": Bad(
        make=lambda: f"a: !!python/object/apply:os.system ['echo {SECRET}']\n",
        message="line 1: YAML tag !!python/object/apply is not allowed in a var-store (nothing was constructed)",
    ),
    "python-object-apply-verbatim-tag": Bad(
        make=lambda: f"a: !<tag:yaml.org,2002:python/object/apply:os.system> ['echo {SECRET}']\n",
        message="line 1: YAML tag !!python/object/apply is not allowed",
    ),
    "python-tag-through-a-tag-directive": Bad(
        make=lambda: f"%TAG !! tag:yaml.org,2002:python/\n---\na: !!object/apply:os.system ['echo {SECRET}']\n",
        message="line 3: YAML tag !!python/object/apply is not allowed",
    ),
    "python-object-on-a-mapping": Bad(
        make=lambda: f"a: !!python/object:os.Foo {{b: {SECRET}}}\n", message="line 1: YAML tag !!python/object is not"
    ),
    "python-name": Bad(make=lambda: "a: !!python/name:os.system ''\n", message="line 1: YAML tag !!python/name is not"),
    "python-tag-on-a-key": Bad(
        make=lambda: f"!!python/str {SECRET}: x\n", message="line 1: YAML tag !!python/str is not allowed"
    ),
    "ruby-object": Bad(make=lambda: "a: !ruby/object:Gem::Installer {i: x}\n", message="YAML tag !ruby/object is not"),
    "mapping-as-key": Bad(make=lambda: f"? {{a: {SECRET}}}\n: x\n", message="line 1: a key must be a plain name"),
    "list-of-variables-at-top-level": Bad(
        make=lambda: f"- name: admin_password\n  type: password\n  value: {SECRET}\n",
        message="the top level is a list, not a mapping of variable names to values",
    ),
    "number-at-top-level": Bad(make=lambda: "42\n", message="the top level is a single value, not a mapping"),
    "a-second-empty-document": Bad(
        make=lambda: f"a: {SECRET}\n---\n", message="line 2: more than one YAML document (---): a var-store is a single"
    ),
    "undefined-alias": Bad(make=lambda: "a: *nope\n", message="line 1: invalid YAML: an alias to an undefined anchor"),
    "unterminated-block-in-flow": Bad(
        make=lambda: f"a: [{SECRET}, \nb: c\n", message="line 3, column 1: invalid YAML: did not find expected ','"
    ),
}


@pytest.mark.parametrize("case", BAD.values(), ids=BAD.keys())
def test_hostile_input_is_one_line_exit_2(tmp_path: Path, case: Bad) -> None:
    content = case.make()
    result, path = run(tmp_path, content.encode() if isinstance(content, str) else content)
    assert_one_line_error(result, path, case.message)


def test_nothing_is_constructed_or_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    payloads = [
        f"a: !!python/object/apply:os.system ['touch {marker}']\n",
        f"a: !!python/object/apply:subprocess.call [[touch, {marker}]]\n",
        f"a: !!python/object/new:os.system ['touch {marker}']\n",
        f"!!python/object/apply:os.system ['touch {marker}']: x\n",
    ]
    for payload in payloads:
        result, _ = run(tmp_path, payload.encode())
        assert result.code == 2
        assert "is not allowed" in result.err or "a key must be a plain name" in result.err
    assert not marker.exists()


def test_a_device_that_never_ends_is_cut_at_the_size_limit(tmp_path: Path) -> None:
    result, _ = run(tmp_path, Path("/dev/zero"))
    assert_one_line_error(result, Path("/dev/zero"), "larger than 64 MiB: not a var-store")


def test_a_symlink_loop_is_a_one_line_error(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yml"
    loop.symlink_to(loop)
    result, _ = run(tmp_path, loop)
    assert_one_line_error(result, loop, "cannot read the file (Too many levels of symbolic links)")


# --- inputs that are var-stores, written oddly --------------------------------------------------------------


def findings(result: Measured) -> list[tuple[str, str | None]]:
    return [(f["rule"], f["variable"]) for f in json.loads(result.out)["findings"]]


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda t: b"\xef\xbb\xbf" + t.encode(), id="utf8-bom"),
        pytest.param(lambda t: t.encode("utf-16"), id="utf16-with-bom"),
        pytest.param(lambda t: b"\xfe\xff" + t.encode("utf-16-be"), id="utf16-be-with-bom"),
        pytest.param(lambda t: t.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(lambda t: ("---\n" + t + "...\n").encode(), id="explicit-document-markers"),
        pytest.param(lambda t: t.replace(": ", ":\t").encode(), id="tab-after-colon"),
        pytest.param(lambda t: ("# a comment\n" + t.replace("\n", "  # trailing\n", 3)).encode(), id="comments"),
    ],
)
def test_the_same_store_written_differently_is_no_change(tmp_path: Path, encode: Callable[[str], bytes]) -> None:
    result, _ = run(tmp_path, encode(BASE), "--format", "json")
    assert (result.code, findings(result), result.err) == (0, [], "")


def test_non_string_keys_are_variable_names(tmp_path: Path) -> None:
    old = "1: one\ntrue: yes\n3.5: x\n2001-12-14: t\nnull: n\n"
    new = f"1: {SECRET}\ntrue: yes\n3.5: x\n2001-12-14: t\nnull: n\n"
    result, _ = run(tmp_path, new.encode(), "--format", "json", old=old.encode())
    assert result.code == 1
    assert findings(result) == [("regenerated-password", "1")]


def test_a_very_long_line_is_a_value_like_any_other(tmp_path: Path) -> None:
    new = BASE.replace(f"custom_secret: {SECRET}", "custom_secret: " + "Q" * (50 * 2**20 - len(BASE)))
    result, _ = run(tmp_path, new.encode(), "--format", "json")
    assert result.code == 1
    assert findings(result) == [("regenerated-password", "custom_secret")]
    assert "QQQQQQQQ" not in result.out


def test_a_key_repeated_1000_times_is_a_duplicate_with_the_last_value(tmp_path: Path) -> None:
    repeated = "".join(f"custom_secret: other{i:04}\n" for i in range(999)) + f"custom_secret: {SECRET}\n"
    new = BASE.replace(f"custom_secret: {SECRET}\n", repeated)
    result, _ = run(tmp_path, new.encode(), "--format", "json")
    assert result.code == 1
    assert findings(result) == [("duplicate-key", "custom_secret")]
    (finding,) = json.loads(result.out)["findings"]
    assert finding["line"] == BASE.splitlines().index(f"custom_secret: {SECRET}") + 1000
    assert "other0" not in result.out


def _with_leaf(field: str, text: str) -> bytes:
    store = base_store()
    leaf = dict(store["director_ssl"])  # type: ignore[call-overload]
    leaf[field] = text
    store["director_ssl"] = leaf
    return dump_store(store).encode()


def _pem(kind: str, body: str) -> str:
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----\n"


def _leaf_pem(field: str) -> str:
    value = base_store()["director_ssl"]
    assert isinstance(value, dict)
    text = value[field]
    assert isinstance(text, str)
    return text


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        pytest.param(
            lambda: _with_leaf("certificate", _pem("CERTIFICATE", "not base64 at all!!")),
            [("rotated-certificate", "director_ssl"), ("malformed-certificate", "director_ssl")],
            id="certificate-garbage",
        ),
        pytest.param(
            lambda: _with_leaf("certificate", _pem("CERTIFICATE", "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA")),
            [("rotated-certificate", "director_ssl"), ("malformed-certificate", "director_ssl")],
            id="certificate-valid-base64-bad-der",
        ),
        pytest.param(
            lambda: _with_leaf("certificate", _leaf_pem("certificate")[:400]),
            [("rotated-certificate", "director_ssl"), ("malformed-certificate", "director_ssl")],
            id="certificate-truncated",
        ),
        pytest.param(
            lambda: _with_leaf("certificate", _pem("CERTIFICATE", "A" * 2_000_000)),
            [("rotated-certificate", "director_ssl"), ("malformed-certificate", "director_ssl")],
            id="certificate-2mb-of-base64",
        ),
        pytest.param(
            lambda: _with_leaf("private_key", _pem("RSA PRIVATE KEY", "AAAA")),
            [("rotated-certificate", "director_ssl"), ("malformed-certificate", "director_ssl")],
            id="private-key-garbage",
        ),
        pytest.param(
            lambda: _with_leaf("private_key", _pem("RSA PRIVATE KEY", SECRET * 4)),
            [("rotated-certificate", "director_ssl"), ("malformed-certificate", "director_ssl")],
            id="private-key-secret-looking-garbage",
        ),
    ],
)
def test_pem_blocks_with_garbage_inside_are_flagged(
    tmp_path: Path, new: Callable[[], bytes], expected: list[tuple[str, str]]
) -> None:
    result, _ = run(tmp_path, new(), "--format", "json")
    assert result.code == 1
    assert findings(result) == expected


# --- certificates that parse but make no sense --------------------------------------------------------------


DIRECTOR = "192.168.56.6"  # director_ssl's common name and address in bosh_store()


def _ca() -> Cert:
    value = base_store()["default_ca"]
    assert isinstance(value, dict)
    return cert_from_value(value)


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _swap_validity(leaf: Cert, ca: Cert) -> str:
    """``leaf`` with notBefore and notAfter swapped, properly signed by ``ca``: valid after it expires."""
    cert = leaf.cert_obj
    tbs = cert.tbs_certificate_bytes
    before = cert.not_valid_before_utc.strftime("%y%m%d%H%M%SZ").encode()
    after = cert.not_valid_after_utc.strftime("%y%m%d%H%M%SZ").encode()
    assert tbs.count(before) == 1
    assert tbs.count(after) == 1
    swapped = tbs.replace(before, b"\0" * len(before)).replace(after, before).replace(b"\0" * len(before), after)
    signature = ca.key_obj.sign(swapped, padding.PKCS1v15(), hashes.SHA256())
    der = cert.public_bytes(serialization.Encoding.DER)
    rest = der[der.index(tbs) + len(tbs) :]
    algorithm = rest[: 2 + rest[1]]
    bits = b"\x00" + signature
    body = swapped + algorithm + b"\x03" + _der_length(len(bits)) + bits
    reordered = x509.load_der_x509_certificate(b"\x30" + _der_length(len(body)) + body)
    assert reordered.not_valid_before_utc > reordered.not_valid_after_utc
    return reordered.public_bytes(serialization.Encoding.PEM).decode()


def _absurd(kind: str) -> bytes:
    ca = _ca()
    if kind == "year-9999":
        start = datetime(2020, 1, 1, tzinfo=UTC)
        days = (date(9999, 12, 31) - start.date()).days
        pem = make_leaf(DIRECTOR, ca, key_slot=10, sans=(DIRECTOR,), not_before=start, days=days).certificate
    elif kind == "huge-serial":
        pem = make_leaf(DIRECTOR, ca, key_slot=10, sans=(DIRECTOR,), serial=2**159 - 1).certificate
    else:
        start = datetime(2030, 1, 1, tzinfo=UTC)
        leaf = make_leaf(DIRECTOR, ca, key_slot=10, sans=(DIRECTOR,), not_before=start, days=365)
        pem = _swap_validity(leaf, ca)
    return _with_leaf("certificate", pem)


@pytest.mark.parametrize(
    ("kind", "expected_code", "expected"),
    [
        pytest.param("year-9999", 0, [("rotated-certificate", "director_ssl")], id="not-after-year-9999"),
        pytest.param("huge-serial", 0, [("rotated-certificate", "director_ssl")], id="serial-of-159-bits"),
        pytest.param(
            "swapped",
            1,
            [("rotated-certificate", "director_ssl"), ("expired-certificate", "director_ssl")],
            id="not-before-after-not-after",
        ),
    ],
)
def test_certificates_with_absurd_validity_or_serial(
    tmp_path: Path, kind: str, expected_code: int, expected: list[tuple[str, str]]
) -> None:
    result, _ = run(tmp_path, _absurd(kind), "--format", "json")
    assert (result.code, findings(result)) == (expected_code, expected)


# --- size ---------------------------------------------------------------------------------------------------


def test_a_real_10000_entry_var_store_still_works(tmp_path: Path) -> None:
    scenarios = scaled_scenarios(10_000)
    old = tmp_path / "old.yml"
    old.write_text(dump_store(scenarios.store))
    assert 15 * 2**20 < old.stat().st_size < 40 * 2**20
    new = dict(scenarios.store)
    del new["credhub_encryption_password"]
    result, _ = run(tmp_path, dump_store(new).encode(), "--format", "json", old=old)
    assert result.code == 1
    assert findings(result) == [("removed-encryption-key", "credhub_encryption_password")]


# --- the other YAML files creds-lint reads ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param(fifty_mb_flow_mapping, "line 1: more than 500,000 values", id="50mb-flow-mapping"),
        pytest.param(lambda: billion_laughs(9), "aliases expand to too many values", id="alias-bomb"),
        pytest.param(fifty_mb_of_tiny_entries, "more than 2,000,000 lines", id="50mb-of-tiny-entries"),
    ],
)
def test_a_hostile_configuration_file_is_one_line_exit_2(
    tmp_path: Path, content: Callable[[], str], message: str
) -> None:
    config = tmp_path / "creds-lint.yml"
    config.write_text(content())
    result, _ = run(tmp_path, BASE.encode(), "--config", str(config))
    assert result.code == 2, result.err
    assert result.out == ""
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("creds-lint: error: "), result.err
    assert message in result.err, result.err
