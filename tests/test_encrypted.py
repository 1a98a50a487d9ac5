"""Encrypted var-stores: ciphertext is recognised before parsing, git-crypt is read through git's filters, and
nothing encrypted is ever a pass or "not YAML". Real git-crypt, age, gpg and openssl; sops is in test_sops.py."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import RunCli
from creds_lint.encrypted import FILTERED, Cipher, detect
from factory import bosh_store, dump_store, incident, leaf_rotation, password
from gitrepo import GitRepo, isolate_git

pytestmark = pytest.mark.slow  # real git-crypt, sops, age and gpg

STORE = {"admin_password": password("admin"), "credhub_encryption_password": password("credhub")}
PLAINTEXT = dump_store(STORE).encode()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (Debian package {name}; .ci/run installs it)")
    return found


def _run(*args: str, cwd: Path | None = None, data: bytes | None = None) -> bytes:
    result = subprocess.run(args, cwd=cwd, input=data, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


# --- every kind of ciphertext, made by its real tool ------------------------------------------------------------


@pytest.fixture(scope="module")
def ciphertexts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Cipher, bytes]]:
    """The same var-store encrypted by each tool, by the names of the cases (made once: gpg and git-crypt are
    slow to set up)."""
    tmp_path = tmp_path_factory.mktemp("ciphertexts")
    gnupg = tmp_path / "gnupg"
    gnupg.mkdir(mode=0o700)
    plain = tmp_path / "plain.yml"
    plain.write_bytes(PLAINTEXT)
    made: dict[str, tuple[Cipher, bytes]] = {}
    age = _tool("age")
    key = tmp_path / "age.key"
    _run(_tool("age-keygen"), "-o", str(key))
    recipient = _run(_tool("age-keygen"), "-y", str(key)).decode().strip()
    made["age"] = Cipher.AGE, _run(age, "-r", recipient, str(plain))
    made["age-armored"] = Cipher.AGE, _run(age, "--armor", "-r", recipient, str(plain))
    gpg = ("--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "not-a-secret", "--symmetric")
    symmetric = ("--homedir", str(gnupg), *gpg)
    made["pgp"] = Cipher.PGP, _run(_tool("gpg"), *symmetric, "-o", "-", str(plain))
    made["pgp-armored"] = Cipher.PGP, _run(_tool("gpg"), *symmetric, "--armor", "-o", "-", str(plain))
    # transcrypt runs `openssl enc -CIPHER -md MD5 -a` with a salt of its own (written as OpenSSL's "Salted__"
    # header, by hand since OpenSSL 3): base64 that starts with the header.
    openssl = ("enc", "-aes-256-cbc", "-md", "MD5", "-a", "-pass", "pass:not-a-secret")
    made["transcrypt"] = Cipher.TRANSCRYPT, _run(_tool("openssl"), *openssl, "-in", str(plain))
    # ansible-vault's format (docs.ansible.com, Vault payload format 1.1): a header line, then hex lines.
    payload = _run(_tool("openssl"), *openssl[:4], "-pass", "pass:not-a-secret", "-in", str(plain))
    made["ansible-vault"] = Cipher.ANSIBLE_VAULT, b"$ANSIBLE_VAULT;1.1;AES256\n" + payload.hex().encode() + b"\n"
    repo = tmp_path / "crypt"
    _run("git", "init", "-q", str(repo))
    _run(_tool("git-crypt"), "init", cwd=repo)
    (repo / ".gitattributes").write_text("creds.yml filter=git-crypt diff=git-crypt\n", encoding="utf-8")
    (repo / "creds.yml").write_bytes(PLAINTEXT)
    _run("git", "add", ".gitattributes", "creds.yml", cwd=repo)
    made["git-crypt"] = Cipher.GIT_CRYPT, _run("git", "cat-file", "blob", ":creds.yml", cwd=repo)
    return made


KINDS = ("age", "age-armored", "pgp", "pgp-armored", "transcrypt", "ansible-vault", "git-crypt")


@pytest.mark.parametrize("case", KINDS)
def test_each_kind_of_ciphertext_is_recognised_and_refused_by_every_mode(
    case: str, ciphertexts: dict[str, tuple[Cipher, bytes]], tmp_path: Path, cli: RunCli
) -> None:
    cipher, data = ciphertexts[case]
    assert detect(data) is cipher
    encrypted = tmp_path / "creds.yml"
    encrypted.write_bytes(data)
    plain = tmp_path / "plain.yml"
    plain.write_bytes(PLAINTEXT)

    # The same git-crypt or transcrypt ciphertext twice is the same file (both encrypt deterministically).
    assert cli(encrypted, encrypted).code == (0 if cipher in FILTERED else 2)
    for args in ((plain, encrypted), (encrypted, plain), ("check", encrypted)):
        run = cli(*args)
        assert run.code == 2, (args, run.err)
        assert f"{encrypted}: encrypted with {cipher.value}" in run.err
        assert "YAML" not in run.err
        assert "binary" not in run.err
    fix = {
        Cipher.GIT_CRYPT: "git-crypt unlock",
        Cipher.TRANSCRYPT: "transcrypt",
        Cipher.AGE: "<(age --decrypt",
        Cipher.PGP: "<(gpg --decrypt",
        Cipher.ANSIBLE_VAULT: "<(ansible-vault view",
    }[cipher]
    assert fix in run.err
    shown = cli("diff", plain, encrypted)
    assert shown.code == 2
    assert f"encrypted with {cipher.value}" in shown.err


def test_plaintext_var_stores_are_not_taken_for_ciphertext() -> None:
    assert detect(PLAINTEXT) is None
    assert detect(dump_store(bosh_store()).encode()) is None
    assert detect(b"") is None
    assert detect("é: 1\n".encode()) is None
    assert detect(b"sops_password: abc\nmac_address: x\n") is None


def test_detection_is_linear_on_hostile_input() -> None:
    """A million blank lines before the words the sops patterns look for: a pattern that backtracks over them
    would take hours; detection reads the file a few times, well under the time bound."""
    import time

    data = b" \n" * 1_000_000 + b'  "sops" mac\n'
    start = time.perf_counter()
    assert detect(data) is None
    assert time.perf_counter() - start < 2


# --- git-crypt, in a real repository ----------------------------------------------------------------------------


@pytest.fixture
def crypt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    """A git-crypt repository (unlocked) with a bosh var-store committed, the current directory."""
    isolate_git(monkeypatch, tmp_path / "home")
    repo = GitRepo.init(tmp_path / "repo")
    _run(_tool("git-crypt"), "init", cwd=repo.root)
    _run("git-crypt", "export-key", str(tmp_path / "git-crypt.key"), cwd=repo.root)
    (repo.root / ".gitattributes").write_text("*creds.yml filter=git-crypt diff=git-crypt\n", encoding="utf-8")
    monkeypatch.chdir(repo.root)
    return repo


def _ciphertext(repo: GitRepo, spec: str) -> bytes:
    return _run("git", "cat-file", "-p", spec, cwd=repo.root)


def test_unlocked_git_crypt_every_git_mode_reads_the_plaintext(crypt: GitRepo, cli: RunCli) -> None:
    store = bosh_store()
    crypt.write("creds.yml", store)
    crypt.commit("bosh create-env")
    assert detect(_ciphertext(crypt, "HEAD:creds.yml")) is Cipher.GIT_CRYPT

    crypt.write("creds.yml", leaf_rotation(store))
    assert cli("creds.yml").code == 0  # pre-flight: the work tree against HEAD's blob, decrypted
    crypt.git("add", "creds.yml")
    assert detect(_ciphertext(crypt, ":creds.yml")) is Cipher.GIT_CRYPT
    assert cli("--staged").code == 0
    assert cli("--hook", "creds.yml").code == 0
    crypt.commit("rotate leaf certificates")
    assert cli("--base", "HEAD~1").code == 0

    crypt.write("creds.yml", incident(store))
    crypt.git("add", "creds.yml")
    for args in (("creds.yml",), ("--staged",), ("--hook", "creds.yml")):
        run = cli(*args, "--format", "json")
        assert run.code == 1, run.err
        assert ("regenerated-encryption-key", "credhub_encryption_password") in run.rules
    crypt.commit("the incident")
    run = cli("--base", "HEAD~1", "--format", "json")
    assert run.code == 1
    assert ("regenerated-ca", "default_ca") in run.rules


def test_locked_git_crypt_unchanged_passes_and_changed_is_exit_2(crypt: GitRepo, cli: RunCli, tmp_path: Path) -> None:
    store = bosh_store()
    crypt.write("creds.yml", store)
    crypt.commit("bosh create-env")
    crypt.write("creds.yml", {k: v for k, v in store.items() if k != "credhub_encryption_password"})
    crypt.commit("lose the encryption password")
    _run("git-crypt", "lock", cwd=crypt.root)
    assert detect((crypt.root / "creds.yml").read_bytes()) is Cipher.GIT_CRYPT

    # Unchanged: the same deterministic ciphertext, on disk and in HEAD, in the index and in HEAD.
    assert cli("creds.yml").code == 0
    assert cli("--staged", "creds.yml").code == 0
    assert cli("--hook", "creds.yml").code == 0
    assert cli("--base", "HEAD").code == 0

    # Changed: cannot be verified while locked. Never a pass, never "not YAML".
    for args in (("--base", "HEAD~1"), ("--rev", "HEAD~1", "creds.yml")):
        run = cli(*args)
        assert run.code == 2, run.err
        assert "encrypted with git-crypt and the repository is locked" in run.err
        assert "git-crypt unlock" in run.err
        assert "YAML" not in run.err

    _run("git-crypt", "unlock", str(tmp_path / "git-crypt.key"), cwd=crypt.root)
    run = cli("--base", "HEAD~1", "--format", "json")
    assert run.code == 1
    assert run.rules == [("removed-encryption-key", "credhub_encryption_password")]


def _commit(repo: GitRepo, message: str) -> subprocess.CompletedProcess[str]:
    """``git commit`` as a user runs it: with the hooks."""
    return subprocess.run(["git", "commit", "-m", message], cwd=repo.root, capture_output=True, text=True, check=False)


def test_pre_commit_hook_in_an_unlocked_git_crypt_repository(
    crypt: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_pre_commit import committed_copy

    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    monkeypatch.setenv("PRE_COMMIT_COLOR", "never")
    hook_repo, rev = committed_copy(tmp_path / "creds-lint")
    (crypt.root / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hook_repo}\n    rev: {rev}\n    hooks:\n      - id: creds-lint\n", encoding="utf-8"
    )
    store = bosh_store()
    crypt.write("creds.yml", store)
    first = crypt.commit("bosh create-env")
    _run(sys.executable, "-m", "pre_commit", "install", cwd=crypt.root)

    crypt.write("creds.yml", incident(store))
    crypt.git("add", "creds.yml")
    refused = _commit(crypt, "the incident")
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert crypt.git("rev-parse", "HEAD").strip() == first
    assert "error CL201 regenerated-encryption-key: credhub_encryption_password:" in output
    assert "not a YAML" not in output
    assert str(store["credhub_encryption_password"]) not in output

    crypt.write("creds.yml", leaf_rotation(store))
    crypt.git("add", "creds.yml")
    accepted = _commit(crypt, "rotate leaves")
    output = accepted.stdout + accepted.stderr
    assert accepted.returncode == 0, output
    assert "Passed" in output
    assert detect(_ciphertext(crypt, "HEAD:creds.yml")) is Cipher.GIT_CRYPT


def _snapshot(root: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.lstat().st_mtime_ns, p.lstat().st_size) for p in root.rglob("*") if not p.is_dir()}


def test_no_git_mode_writes_a_file_in_a_git_crypt_repository(
    crypt: GitRepo, cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading through git's filters writes nothing (no plaintext beside the repository, in it or in a temporary
    directory), unlocked or locked."""
    store = bosh_store()
    crypt.write("creds.yml", store)
    crypt.commit("bosh create-env")
    crypt.write("creds.yml", incident(store))
    crypt.commit("the incident")
    crypt.write("creds.yml", leaf_rotation(store))
    crypt.git("add", "creds.yml")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    before = _snapshot(tmp_path)
    for args in (("creds.yml",), ("--staged",), ("--hook", "creds.yml"), ("--base", "HEAD~1"), ("check", "creds.yml")):
        assert cli(*args).code in (0, 1), args
    assert _snapshot(tmp_path) == before


def test_transcrypt_filters_are_read_through_and_a_clone_without_them_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli: RunCli
) -> None:
    """transcrypt's model, with its real cipher: git filters that run `openssl enc -a` (clean) and `openssl enc -d
    -a` (smudge), and a clone without the filter configuration (what a clone without `transcrypt -p` is)."""
    isolate_git(monkeypatch, tmp_path / "home")
    openssl = f"{_tool('openssl')} enc -aes-256-cbc -md MD5 -pass pass:not-a-secret -a"
    repo = GitRepo.init(tmp_path / "repo")
    repo.git("config", "filter.crypt.clean", openssl)
    repo.git("config", "filter.crypt.smudge", f"{openssl} -d")
    repo.git("config", "filter.crypt.required", "true")
    (repo.root / ".gitattributes").write_text("creds.yml filter=crypt diff=crypt\n", encoding="utf-8")
    monkeypatch.chdir(repo.root)
    store = bosh_store()
    repo.write("creds.yml", store)
    repo.commit("bosh create-env")
    repo.write("creds.yml", {k: v for k, v in store.items() if k != "credhub_encryption_password"})
    repo.commit("lose the encryption password")
    assert detect(_ciphertext(repo, "HEAD:creds.yml")) is Cipher.TRANSCRYPT

    run = cli("--base", "HEAD~1", "--format", "json")
    assert run.code == 1, run.err
    assert run.rules == [("removed-encryption-key", "credhub_encryption_password")]

    repo.git("config", "--remove-section", "filter.crypt")
    run = cli("--base", "HEAD~1")
    assert run.code == 2
    assert "encrypted with transcrypt and this clone has no key" in run.err


def test_a_git_crypt_var_store_no_glob_names_is_found_by_its_plaintext(crypt: GitRepo, cli: RunCli) -> None:
    (crypt.root / ".gitattributes").write_text("*.yml filter=git-crypt diff=git-crypt\n", encoding="utf-8")
    store = bosh_store()
    crypt.write("custom.yml", store)
    crypt.commit("bosh create-env")
    crypt.write("custom.yml", {k: v for k, v in store.items() if k != "nats_ca"})
    crypt.git("add", "custom.yml")
    assert detect(_ciphertext(crypt, ":custom.yml")) is Cipher.GIT_CRYPT

    run = cli("--staged", "--format", "json")
    assert run.code == 1, run.err
    assert run.rules == [("unnamed-var-store", None), ("removed-ca", "nats_ca")]


def test_restore_from_a_revision_reads_it_through_git_crypt(crypt: GitRepo, cli: RunCli, tmp_path: Path) -> None:
    store = bosh_store()
    crypt.write("creds.yml", store)
    crypt.commit("bosh create-env")
    crypt.write("creds.yml", incident(store, passwords=("credhub_encryption_password",)))
    crypt.commit("the incident")
    crypt.write("creds.yml", {**store, "credhub_encryption_password": password("regenerated")})

    restored = cli("restore", "creds.yml", "--from", "HEAD~1", "credhub_encryption_password")
    assert restored.code == 0, restored.err
    assert (crypt.root / "creds.yml").read_bytes() == dump_store(store).encode()
    assert cli("--rev", "HEAD~1", "creds.yml").code == 0

    crypt.git("checkout", "-q", "--", "creds.yml")
    _run("git-crypt", "lock", cwd=crypt.root)
    locked = cli("restore", "creds.yml", "--from", "HEAD~1")
    assert locked.code == 2
    assert "encrypted with git-crypt and the repository is locked" in locked.err
    assert detect((crypt.root / "creds.yml").read_bytes()) is Cipher.GIT_CRYPT
