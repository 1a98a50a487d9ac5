from __future__ import annotations

import os
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import RunCli, WriteStore
from creds_lint import x509
from creds_lint.loader import load_store
from creds_lint.model import fingerprint
from factory import Cert, bosh_store, make_ca, make_leaf, make_rsa, make_ssh, password
from gitrepo import GitRepo, isolate_git

SHARED = Path(__file__).resolve().parents[2] / "shared" / "examples" / "bosh-deployment"
JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def key_id(cert: Cert) -> str:
    return x509.key_id(cert.key_obj)


def pem_lines(store: dict[str, object]) -> set[str]:
    """Every line of every PEM value and every password: none of them may appear in an output."""
    out: set[str] = set()
    for value in store.values():
        texts = [value] if isinstance(value, str) else [v for v in value.values() if isinstance(v, str)]  # type: ignore[attr-defined]
        for text in texts:
            out.update(line for line in text.splitlines() if len(line) >= 16 and "-----" not in line)
            if "\n" not in text:
                out.add(text)
    return out


def assert_secret_free(output: str, *stores: dict[str, object]) -> None:
    assert "PRIVATE KEY" not in output
    assert "BEGIN" not in output
    for store in stores:
        for secret in pem_lines(store):
            if len(secret) >= 12 and ":" not in secret:  # not an ssh MD5 fingerprint (public)
                assert secret not in output


@pytest.fixture
def ca() -> Cert:
    return make_ca("ops-ca", key_slot=300, not_before=JAN_1, serial=0xCAFE)


def test_textconv_view(cli: RunCli, write_store: WriteStore, ca: Cert) -> None:
    leaf = make_leaf("director.example", ca, key_slot=301, not_before=JAN_1, days=30, serial=0xBEEF)
    store: dict[str, object] = {
        "admin_password": password("admin"),
        "director_ssl": leaf.as_value(),
        "jumpbox_ssh": make_ssh(302),
        "ops_ca": ca.as_value(),
        "uaa_jwt_signing_key": make_rsa(303),
    }
    path = write_store("creds.yml", store)
    run = cli("diff", "--textconv", path)
    assert run.code == 0
    assert run.err == ""
    ssh = make_ssh(302)
    rsa_id = x509.key_id(x509.load_private_key(make_rsa(303)["private_key"]))  # type: ignore[arg-type]
    ssh_id = x509.key_id(x509.load_private_key(ssh["private_key"]))  # type: ignore[arg-type]
    subject = "CN=ops-ca,O=Cloud Foundry,C=US"
    ca_fp = x509.info(ca.cert_obj).fingerprint
    assert run.out.splitlines() == [
        f"admin_password (login): {fingerprint(password('admin'))}",
        "director_ssl (certificate):",
        "  ca:",
        f"    subject: {subject} (CA)",
        "    issuer: self-signed",
        "    serial: cafe",
        "    validity: 2026-01-01 to 2027-01-01",
        f"    fingerprint: {ca_fp}",
        "  certificate:",
        "    subject: CN=director.example,O=Cloud Foundry,C=US",
        f"    issuer: {subject}",
        "    serial: beef",
        "    validity: 2026-01-01 to 2026-01-31",
        f"    fingerprint: {x509.info(leaf.cert_obj).fingerprint}",
        f"  private_key: rsa 2048 bits, public key {key_id(leaf)}",
        "jumpbox_ssh (ssh key pair):",
        f"  private_key: rsa 2048 bits, public key {ssh_id}",
        f"  public_key: rsa 2048 bits, public key {ssh_id}",
        f"  public_key_fingerprint: {ssh['public_key_fingerprint']}",
        "ops_ca (CA):",
        "  ca: same as certificate",
        "  certificate:",
        f"    subject: {subject} (CA)",
        "    issuer: self-signed",
        "    serial: cafe",
        "    validity: 2026-01-01 to 2027-01-01",
        f"    fingerprint: {ca_fp}",
        f"  private_key: rsa 2048 bits, public key {key_id(ca)}",
        "uaa_jwt_signing_key (rsa key pair):",
        f"  private_key: rsa 2048 bits, public key {rsa_id}",
        f"  public_key: rsa 2048 bits, public key {rsa_id}",
    ]
    assert_secret_free(run.out, store)


def test_diff_added_removed_changed(cli: RunCli, write_store: WriteStore, ca: Cert) -> None:
    leaf = make_leaf("director.example", ca, key_slot=301, not_before=JAN_1, serial=0xBEEF)
    reissued = make_leaf("director.example", ca, key_slot=304, not_before=JAN_1, serial=0xF00D)
    old: dict[str, object] = {
        "credhub_encryption_password": password("enc"),
        "director_ssl": leaf.as_value(),
        "hm_password": password("hm"),
        "nats_password": password("nats"),
    }
    new: dict[str, object] = {
        "director_ssl": reissued.as_value(),
        "hm_password": password("hm"),
        "nats_password": password("nats-2"),
        "new_password": password("new"),
    }
    old_path, new_path = write_store("old.yml", old), write_store("new.yml", new)
    run = cli("diff", old_path, new_path)
    assert run.code == 0
    assert run.out.splitlines() == [
        f"--- {old_path}",
        f"+++ {new_path}",
        "~ director_ssl (certificate), changed at line 1",
        "    certificate serial: beef -> f00d",
        f"    certificate fingerprint: {x509.info(leaf.cert_obj).fingerprint} -> "
        f"{x509.info(reissued.cert_obj).fingerprint}",
        f"    private_key: rsa 2048 bits, public key {key_id(leaf)} -> rsa 2048 bits, public key {key_id(reissued)}",
        "~ nats_password (agent credential), changed at line 74",
        f"    value: {fingerprint(password('nats'))} -> {fingerprint(password('nats-2'))}",
        "+ new_password (password), added at line 75",
        f"    value: {fingerprint(password('new'))}",
        "- credhub_encryption_password (encryption key), removed (was line 1)",
        f"    value: {fingerprint(password('enc'))}",
        "1 added, 1 removed, 2 changed, 1 unchanged",
    ]
    assert_secret_free(run.out, old, new)


def test_diff_type_change(cli: RunCli, write_store: WriteStore) -> None:
    old = {"nats_password": password("nats")}
    new = {"nats_password": {"nested": password("nats")}}
    run = cli("diff", write_store("old.yml", old), write_store("new.yml", new))
    assert run.code == 0
    assert run.out.splitlines()[2:] == [
        "~ nats_password (agent credential) -> (unknown value), changed at line 1",
        f"    value: {fingerprint(password('nats'))} -> (none)",
        f"    field {fingerprint('nested')}: (none) -> {fingerprint(password('nats'))}",
        "0 added, 0 removed, 1 changed, 0 unchanged",
    ]


def test_diff_bad_input_is_one_line_exit_2(cli: RunCli, tmp_path: Path) -> None:
    secret = "hunter2hunter2hunter2"
    bad = tmp_path / "bad.yml"
    bad.write_text(f"admin_password: {secret}\n  nats: [oops\n", encoding="utf-8")
    good = tmp_path / "good.yml"
    good.write_text("", encoding="utf-8")
    run = cli("diff", good, bad)
    assert run.code == 2
    assert run.out == ""
    assert run.err.startswith(f"creds-lint: error: {bad}: ")
    assert len(run.err.splitlines()) == 1
    assert secret not in run.err
    missing = cli("diff", good, tmp_path / "missing.yml")
    assert (missing.code, missing.err) == (2, f"creds-lint: error: {tmp_path / 'missing.yml'}: no such file\n")
    # textconv never fails: git would abort the whole diff
    conv = cli("diff", "--textconv", bad)
    assert conv.code == 0
    assert conv.out.startswith(f"# creds-lint: cannot show {bad}: ")
    assert secret not in conv.out


def test_diff_usage_errors(cli: RunCli) -> None:
    for args in (("diff",), ("diff", "one.yml"), ("diff", "--textconv", "a.yml", "b.yml")):
        run = cli(*args)
        assert run.code == 2
        assert run.err.startswith("creds-lint diff: error: ")  # one line, and where to read more
        assert run.err.endswith("(try 'creds-lint diff --help')\n")
        assert run.err.count("\n") == 1


def test_external_diff_arguments(cli: RunCli, write_store: WriteStore) -> None:
    old = write_store("old.yml", {"hm_password": password("hm")})
    new = write_store("new.yml", {"hm_password": password("hm2")})
    run = cli("diff", "creds.yml", old, "a" * 40, "100644", new, "b" * 40, "100644")
    assert run.code == 0
    assert run.out.splitlines() == [
        "diff --creds-lint a/creds.yml b/creds.yml",
        "--- a/creds.yml",
        "+++ b/creds.yml",
        "~ hm_password (password), changed at line 1",
        f"    value: {fingerprint(password('hm'))} -> {fingerprint(password('hm2'))}",
        "0 added, 0 removed, 1 changed, 0 unchanged",
    ]
    # a new file: the old side is /dev/null
    added = cli("diff", "creds.yml", "/dev/null", "0" * 40, ".", new, "b" * 40, "100644")
    assert added.out.splitlines()[1:4] == [
        "--- /dev/null",
        "+++ b/creds.yml",
        "+ hm_password (password), added at line 1",
    ]


def test_external_diff_of_a_rename_and_of_a_broken_file(cli: RunCli, write_store: WriteStore, tmp_path: Path) -> None:
    old = write_store("old.yml", {"hm_password": password("hm")})
    new = write_store("new.yml", {"hm_password": password("hm")})
    # git passes nine arguments for a rename: the new path and the similarity message come last
    run = cli("diff", "a.yml", old, "a" * 40, "100644", new, "a" * 40, "100644", "b.yml", "similarity index 100%")
    assert run.code == 0
    assert run.out.splitlines() == [
        "diff --creds-lint a/a.yml b/b.yml",
        "--- a/a.yml",
        "+++ b/b.yml",
        "0 added, 0 removed, 0 changed, 1 unchanged",
    ]
    secret = "s3cr3t-s3cr3t-s3cr3t"
    broken = tmp_path / "broken.yml"
    broken.write_text(f"hm_password: {secret}\n- oops\n", encoding="utf-8")
    run = cli("diff", "creds.yml", old, "a" * 40, "100644", broken, "b" * 40, "100644")
    assert run.code == 0  # a failing driver would make git abort the whole diff
    assert run.out.splitlines()[0] == "diff --creds-lint a/creds.yml b/creds.yml"
    assert run.out.splitlines()[1].startswith("# creds-lint: cannot show b/creds.yml: line 2")
    assert len(run.out.splitlines()) == 2
    assert secret not in run.out


# ------------------------------------------------------------------------------------------------ real git


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    isolate_git(monkeypatch, tmp_path / "home")
    return GitRepo.init(tmp_path / "ops")


COMMAND = f"{shlex.quote(sys.executable)} -m creds_lint diff"


@pytest.mark.slow  # real git, running creds-lint as its diff driver
@pytest.mark.parametrize(
    "setting",
    [("diff.creds-lint.textconv", f"{COMMAND} --textconv"), ("diff.creds-lint.command", COMMAND)],
    ids=["textconv", "command"],
)
def test_git_diff_shows_no_secret(repo: GitRepo, setting: tuple[str, str]) -> None:
    store = bosh_store()
    edited = dict(store)
    del edited["credhub_encryption_password"]
    edited["nats_password"] = password("regenerated")
    # the lines docs/getting-started.md documents
    (repo.root / ".gitattributes").write_text("creds.yml diff=creds-lint\n", encoding="utf-8")
    repo.git("config", *setting)
    repo.write("creds.yml", store)
    repo.commit("initial")
    repo.write("creds.yml", edited)

    out = repo.git("diff", "creds.yml")
    assert_secret_free(out, store, edited)
    old_fp, new_fp = fingerprint(store["nats_password"]), fingerprint(edited["nats_password"])
    enc_fp = fingerprint(store["credhub_encryption_password"])
    if setting[0].endswith("textconv"):
        assert f"-credhub_encryption_password (encryption key): {enc_fp}" in out.splitlines()
        assert f"-nats_password (agent credential): {old_fp}" in out.splitlines()
        assert f"+nats_password (agent credential): {new_fp}" in out.splitlines()
    else:
        assert f"    value: {old_fp} -> {new_fp}" in out.splitlines()
        line = repo.line_of("creds.yml", "credhub_encryption_password", rev="HEAD")
        assert f"- credhub_encryption_password (encryption key), removed (was line {line})" in out.splitlines()
        assert out.splitlines()[-1] == "0 added, 1 removed, 1 changed, 27 unchanged"
    # the raw diff (what the driver replaces) would have shown the secrets
    raw = repo.git("diff", "--no-ext-diff", "--no-textconv", "creds.yml")
    assert str(store["credhub_encryption_password"]) in raw
    # what docs/getting-started.md says of git log -p and git show: textconv covers them, the driver does not
    repo.git("add", "creds.yml")
    repo.commit("edited")
    secret = str(edited["nats_password"])
    for history in (repo.git("show", "HEAD"), repo.git("log", "-p", "-1")):
        assert (secret in history) is setting[0].endswith("command")
    if setting[0].endswith("command"):
        assert_secret_free(repo.git("show", "--ext-diff", "HEAD"), store, edited)
    else:
        assert_secret_free(repo.git("show", "HEAD"), store, edited)


# --------------------------------------------------------------------------------------------- real examples


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared bosh-deployment examples are not beside the repository")
def test_examples_diff_is_readable_and_secret_free(cli: RunCli) -> None:
    old_path, new_path = SHARED / "creds.yml", SHARED / "creds-after-incident.yml"
    run = cli("diff", old_path, new_path)
    assert run.code == 0
    lines = run.out.splitlines()
    assert "~ credhub_encryption_password (encryption key), changed at line 295" in lines
    assert "~ nats_ca (CA), changed at line 713" in lines
    assert lines[-1] == "0 added, 0 removed, 14 changed, 15 unchanged"
    assert max(len(line) for line in lines) < 140
    assert_secret_free(run.out, load_store(old_path).values(), load_store(new_path).values())


# ------------------------------------------------------------------------------------------ golden (bundled)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "incident"
GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("incident.diff", ("diff", "creds.yml", "creds-after-create-env.yml")),
        ("incident-edit.diff", ("diff", "creds.yml", "creds-after-edit.yml")),
        ("incident.textconv", ("diff", "--textconv", "creds-after-create-env.yml")),
    ],
)
def test_golden_on_the_bundled_incident(
    cli: RunCli, monkeypatch: pytest.MonkeyPatch, name: str, args: tuple[str, ...]
) -> None:
    """The bundled examples are fixed files: their redacted views are byte-for-byte stable.

    ``CREDS_LINT_UPDATE_GOLDEN=1`` rewrites the golden files (after ``examples/make_examples.py``)."""
    monkeypatch.chdir(EXAMPLES)
    run = cli(*args)
    assert run.code == 0
    path = GOLDEN / name
    if os.environ.get("CREDS_LINT_UPDATE_GOLDEN") == "1":
        path.write_text(run.out, encoding="utf-8")
    assert run.out == path.read_text(encoding="utf-8")


def test_diff_reads_the_configuration_as_lint_does(
    cli: RunCli, write_store: WriteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".creds-lint.yml").write_text("classify:\n  encryption-keys:\n    names: [my_secret_blob]\n")
    old = write_store("old.yml", {"my_secret_blob": password("blob")})
    new = write_store("new.yml", {"my_secret_blob": password("other")})
    lint = cli(old, new, "--format", "json")
    assert lint.code == 1
    assert lint.json["findings"][0]["message"].startswith("my_secret_blob (encryption key) has a new value")
    diff = cli("diff", old, new)
    assert diff.code == 0
    assert "~ my_secret_blob (encryption key), changed at line 1" in diff.out.splitlines()
    monkeypatch.chdir(tmp_path)  # git runs textconv at the top of the work tree
    assert "my_secret_blob (encryption key): " in cli("diff", "--textconv", new).out
    assert "~ my_secret_blob (password), changed at line 1" in cli("diff", old, new, "--no-config").out.splitlines()


def test_diff_with_a_bad_configuration(
    cli: RunCli, write_store: WriteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".creds-lint.yml").write_text("classify:\n  encryption-key: {}\n")
    old, new = write_store("old.yml", {"a": password("a")}), write_store("new.yml", {"a": password("b")})
    direct = cli("diff", old, new)
    assert direct.code == 2
    assert direct.out == ""
    assert direct.err.startswith(f"creds-lint: error: {tmp_path / '.creds-lint.yml'}:")
    monkeypatch.chdir(tmp_path)  # git runs textconv at the top of the work tree
    textconv = cli("diff", "--textconv", new)  # git would abort the whole diff on a non-zero exit
    assert textconv.code == 0
    assert textconv.out.startswith("# creds-lint: cannot show ")


def test_every_pem_block_of_a_field_is_shown(cli: RunCli, write_store: WriteStore, ca: Cert) -> None:
    """A second private key pasted after the first (or a key after a certificate) is deployed by bosh and
    ignored by the parsers: textconv and diff show it as an extra block, by its key id, never its text."""
    leaf = make_leaf("director.example", ca, key_slot=310, not_before=JAN_1, days=30)
    stray = make_rsa(311)["private_key"]
    stray_id = x509.key_id(x509.load_private_key(stray))  # type: ignore[arg-type]
    leaf_id = key_id(leaf)
    old: dict[str, object] = {"director_ssl": leaf.as_value()}
    new: dict[str, object] = {
        "director_ssl": {**leaf.as_value(), "private_key": leaf.private_key + stray, "ca": ca.certificate + stray}
    }
    conv = cli("diff", "--textconv", write_store("new.yml", new))
    assert conv.code == 0
    assert f"  private_key: rsa 2048 bits, public key {leaf_id}" in conv.out.splitlines()
    assert f"  private_key, extra PEM block 1: private key, rsa 2048 bits, public key {stray_id}" in conv.out
    assert f"  ca, extra PEM block 1: private key, rsa 2048 bits, public key {stray_id}" in conv.out
    assert_secret_free(conv.out, new)
    run = cli("diff", write_store("old.yml", old), write_store("new.yml", new))
    assert run.code == 0
    assert (
        f"    private_key, extra PEM block 1: (none) -> private key, rsa 2048 bits, public key {stray_id}"
        in run.out.splitlines()
    )
    assert "0 added, 0 removed, 1 changed, 0 unchanged" in run.out
    assert_secret_free(run.out, new)
    pasted = cli("diff", "--textconv", write_store("pasted.yml", {"k": {"private_key": stray + "hunter2-but-longer"}}))
    assert "  private_key, text outside PEM blocks: " in pasted.out
    assert "hunter2" not in pasted.out
