from __future__ import annotations

# Leak test: hypothesis generates var-stores and a mutation of each (variables removed or regenerated, the file
# reformatted, or corrupted around a secret: truncated YAML, bad PEM, conflict markers, unsafe tags with secret
# arguments, syntax errors next to a secret...), runs every command and output format of the CLI on them -- the
# comparison in every format, the audit, the redacted diff in its three forms, the git modes -- and checks that
# no secret value and no PEM body line appears in stdout, stderr or any file. Error paths included: that is where
# YAML libraries quote lines and exceptions carry values. (tests/test_no_secret_property.py checks the renderers
# in-process on valid stores; this one goes through main() and the filesystem, and corrupts.)
import contextlib
import functools
import hashlib
import io
import os
import string
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creds_lint.cli import main
from creds_lint.reporters import REPORTERS
from factory import dump_store, make_ca, make_leaf, make_rsa, make_ssh
from gitrepo import GitRepo, isolate_git

pytestmark = pytest.mark.slow  # every command and format, and property tests


def _random_looking(text: str) -> bool:
    """Mixed case and digits, like a generated secret: a word of the output (``artifactLocation``, a hex
    fingerprint) cannot contain one by chance."""
    return (
        sum(c.isdigit() for c in text) >= 2
        and sum(c.isupper() for c in text) >= 2
        and sum(c.islower() for c in text) >= 2
        and len(set(text)) >= 8
    )


#: Secrets are random alphanumerics of 12 or more characters.
secrets_ = st.text(alphabet=string.ascii_letters + string.digits, min_size=12, max_size=32).filter(_random_looking)

PASSWORDS = ("admin_password", "credhub_encryption_password", "nats_password", "hm_password", "uaa_client_secret")
CAS = ("default_ca", "nats_ca", "credhub_ca")
LEAVES = ("director_ssl", "nats_server_tls", "credhub_tls")
KEYS = ("uaa_jwt_signing_key", "jumpbox_ssh")
FORMATS = tuple(REPORTERS)


@functools.cache
def pool() -> dict[str, tuple[dict[str, str], ...]]:
    """Real CAs, leaves and key pairs, generated once; two of each so that a regeneration has somewhere to go."""
    cas = [make_ca(f"leak-ca-{i}", key_slot=500 + i) for i in range(2)]
    return {
        "ca": tuple(ca.as_value() for ca in cas),
        "leaf": tuple(make_leaf(f"leak-leaf-{i}", cas[i], key_slot=502 + i).as_value() for i in range(2)),
        "rsa": (make_rsa(504), make_rsa(505)),
        "ssh": (make_ssh(506), make_ssh(507)),
    }


def structured(name: str, index: int) -> dict[str, str]:
    family = "ca" if name in CAS else "leaf" if name in LEAVES else "ssh" if name.endswith("_ssh") else "rsa"
    return dict(pool()[family][index])


@st.composite
def stores(draw: st.DrawFn) -> dict[str, object]:
    names = draw(st.lists(st.sampled_from(PASSWORDS + CAS + LEAVES + KEYS), min_size=1, max_size=8, unique=True))
    return {name: draw(secrets_) if name in PASSWORDS else structured(name, draw(st.integers(0, 1))) for name in names}


# --- mutations ----------------------------------------------------------------------------------------------


def _lines_with(text: str, secret: str) -> tuple[str, str]:
    """``text`` with a password variable holding ``secret`` appended (so a corruption has a secret to quote)."""
    return text + f"leak_password: {secret}\n", f"leak_password: {secret}"


def _corruptions(secret: str) -> dict[str, Callable[[str], str | bytes]]:
    def with_line(replace: Callable[[str], str]) -> Callable[[str], str]:
        def apply(text: str) -> str:
            full, line = _lines_with(text, secret)
            return full.replace(line, replace(line))

        return apply

    return {
        "truncated": lambda t: _lines_with(t, secret)[0][: len(t) // 2 + 7],
        "unterminated-quote": with_line(lambda line: f"leak_password: '{secret}\n  more: x"),
        "mapping-in-a-scalar": with_line(lambda line: f"{line}: {secret}"),
        "tab-indent": with_line(lambda line: f"leak_password:\n\t{secret}: x"),
        "conflict-markers": with_line(lambda line: f"<<<<<<< HEAD\n{line}\n=======\nleak_password: x\n>>>>>>> b"),
        "python-tag": with_line(lambda line: f"leak_password: !!python/object/apply:os.system ['{secret}']"),
        "custom-tag-named-after-a-secret": with_line(lambda line: f"leak_password: !{secret} x"),
        "secret-tag-directive": lambda t: f"%TAG !{secret[:6]}! tag:{secret}:\n---\n" + t,
        "undefined-alias-named-after-a-secret": with_line(lambda line: f"leak_password: *{secret}"),
        "complex-key": with_line(lambda line: f"? [{secret}]\n: x"),
        "merge-key": with_line(lambda line: f"leak_password:\n  <<: {{a: {secret}}}"),
        "second-document": with_line(lambda line: f"---\n{line}"),
        "top-level-list": lambda t: f"- {secret}\n- {t}",
        "invalid-utf8-after-a-secret": lambda t: _lines_with(t, secret)[0].encode() + b"\xff\xfe x\n",
        "nul-after-a-secret": lambda t: _lines_with(t, secret)[0].encode() + b"\x00\n",
        "bad-pem": lambda t: _bad_pem(t, secret),
        "deep-nesting": with_line(lambda line: f"leak_password: {'[' * 40}{secret}{']' * 40}"),
        "duplicate-key": with_line(lambda line: f"{line}\nleak_password: {secret[::-1]}"),
    }


def _bad_pem(text: str, secret: str) -> str:
    """The first PEM body line replaced by the secret (garbage base64), or a password line when there is none."""
    for line in text.splitlines():
        stripped = line.strip()
        if len(stripped) >= 40 and "-----" not in stripped and " " not in stripped:
            return text.replace(stripped, secret + stripped[len(secret) :], 1)
    return _lines_with(text, secret)[0]


def _reformat(text: str, how: int) -> str | bytes:
    if how == 0:
        return text.replace("\n", "\r\n")
    if how == 1:
        return b"\xef\xbb\xbf" + text.encode()
    if how == 2:
        return text.replace(": |\n", ": |-\n")
    return text.encode("utf-16")


@dataclass(frozen=True)
class Case:
    old: bytes
    new: bytes
    secrets: frozenset[str]


def secrets_of(store: dict[str, object]) -> set[str]:
    """Every password, and every line of every PEM block and ssh key, of 8 characters or more."""
    found: set[str] = set()
    for value in store.values():
        if isinstance(value, str):
            found.add(value)
            continue
        assert isinstance(value, dict)
        for field, text in value.items():
            if field == "public_key_fingerprint":
                continue  # an MD5 of the public key: public, and shown by design
            for line in text.splitlines():
                for word in line.split():
                    if len(word) >= 8 and "-----" not in word:
                        found.add(word)
    return found


@st.composite
def cases(draw: st.DrawFn) -> Case:
    old = draw(stores())
    new = dict(old)
    for name in draw(st.lists(st.sampled_from(sorted(old)), unique=True, max_size=3)):
        action = draw(st.sampled_from(["remove", "regenerate"]))
        if action == "remove":
            del new[name]
        elif name in PASSWORDS:
            new[name] = draw(secrets_)
        else:
            current = new[name]
            new[name] = structured(name, 1 if current == structured(name, 0) else 0)
    for name in draw(st.lists(st.sampled_from(PASSWORDS), unique=True, max_size=2)):
        new.setdefault(name, draw(secrets_))
    secrets = secrets_of(old) | secrets_of(new)
    old_text, new_text = dump_store(old), dump_store(new)
    mutation = draw(st.sampled_from(["none", "reformat", "corrupt"]))
    new_bytes: str | bytes = new_text
    if mutation == "reformat":
        new_bytes = _reformat(new_text, draw(st.integers(0, 3)))
    elif mutation == "corrupt":
        secret = draw(secrets_)
        secrets.add(secret)
        corruption = draw(st.sampled_from(sorted(_corruptions(secret).items())))
        new_bytes = corruption[1](new_text)
    return Case(
        old=old_text.encode(),
        new=new_bytes.encode() if isinstance(new_bytes, str) else new_bytes,
        secrets=frozenset(secrets),
    )


# --- running ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Output:
    argv: tuple[str, ...]
    code: int
    text: str


def run(*argv: str | Path) -> Output:
    out, err = io.StringIO(), io.StringIO()
    args = tuple(str(a) for a in argv)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
    return Output(args, code, out.getvalue() + err.getvalue())


def snapshot(root: Path) -> dict[Path, str]:
    """Every file under ``root`` (but .git) and the digest of its bytes."""
    return {
        path: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def assert_no_leak(outputs: list[Output], case: Case, root: Path, before: dict[Path, str]) -> None:
    for output in outputs:
        assert output.code in (0, 1, 2), output
        assert "Traceback" not in output.text, output.argv
        assert "internal error" not in output.text, output.argv
        assert "PRIVATE KEY" not in output.text, output.argv
        leaked = sorted(s for s in case.secrets if s in output.text)
        assert leaked == [], (output.argv, output.text)
    after = snapshot(root)
    assert {p: d for p, d in after.items() if p in before} == before, "an input file was modified"
    for path in set(after) - set(before):
        content = path.read_bytes().decode("utf-8", "replace")
        assert [s for s in case.secrets if s in content] == [], path


def commands(old: Path, new: Path) -> Iterator[tuple[str | Path, ...]]:
    for fmt in FORMATS:
        yield (old, new, "--format", fmt)
        yield ("check", new, "--format", fmt)
    yield (old, new, "--all", "--format", "text", "--color", "always")
    yield (old, new, "--quiet", "--format", "text")
    yield (old, new, "--format", "json", "--fail-on", "info", "--expiry-days", "100000")
    yield ("diff", old, new)
    yield ("diff", "--textconv", new)
    yield ("diff", "creds.yml", old, "1" * 40, "100644", new, "2" * 40, "100644")
    for fmt in ("text", "json"):  # everything renew does but the write (which would change an input file)
        yield ("renew", new, "--all", "--days", "400", "--dry-run", "--format", fmt)
    yield ("restore", new, "--from", old, "--dry-run")
    yield ("restore", new, "--from", old, "--dry-run", "--format", "json", "--as-rotation")
    yield ("restore", new, "--from", old, *PASSWORDS, "--with-dependents", "--force", "--dry-run")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_no_command_or_format_leaks_a_secret(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        root = Path(tmp)
        old, new = root / "old.yml", root / "new.yml"
        old.write_bytes(case.old)
        new.write_bytes(case.new)
        before = snapshot(root)
        outputs = [run(*argv) for argv in commands(old, new)]
        assert_no_leak(outputs, case, root, before)


@pytest.fixture
def git_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    isolate_git(monkeypatch, tmp_path / "home")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=cases())
def test_no_git_mode_leaks_a_secret(git_home: Path, case: Case) -> None:
    with tempfile.TemporaryDirectory(dir=git_home) as tmp, contextlib.chdir(tmp):
        repo = GitRepo.init(Path(tmp))
        path = repo.root / "creds.yml"
        path.write_bytes(case.old)
        repo.commit("old")
        path.write_bytes(case.new)
        before = snapshot(repo.root)
        outputs = [run("creds.yml", "--format", fmt) for fmt in FORMATS]
        outputs.append(run("--rev", "HEAD", "creds.yml"))
        outputs.append(run("restore", "creds.yml", "--from", "HEAD", "--dry-run"))
        repo.git("add", "creds.yml")
        outputs += [run("--staged", "--format", fmt) for fmt in FORMATS]
        outputs.append(run("--hook", "creds.yml"))
        repo.git("checkout", "-q", "-b", "topic")
        repo.git("commit", "-q", "--no-verify", "--allow-empty", "-m", "new")
        outputs += [run("--base", "main", "--format", fmt) for fmt in FORMATS]
        assert os.environ.get("GITHUB_ACTIONS") is None
        assert_no_leak(outputs, case, repo.root, before)
