from __future__ import annotations

# A second CPU changes how long a run takes, never what it finds: the old version of a large file is read by a
# forked child (creds_lint.background), and whatever goes wrong there, the value is worked out in this process.
import contextlib
import io
import itertools
import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from creds_lint import background, engine, pki, x509
from creds_lint.cli import main
from creds_lint.diff import compare
from creds_lint.loader import parse_store
from creds_lint.model import Seal
from creds_lint.rules import Context
from factory import dump_store, make_ca, make_leaf, scaled_scenarios

needs_two = pytest.mark.skipif(not background.available(), reason="needs fork and a second CPU")
PARENT = os.getpid()


def in_child() -> bool:
    return os.getpid() != PARENT


@needs_two
def test_the_value_is_worked_out_by_a_child() -> None:
    with background.start(os.getpid) as pending:
        assert pending.result() != PARENT


@needs_two
@pytest.mark.counts
def test_a_child_that_fails_leaves_the_work_to_this_process() -> None:
    def work() -> str:
        if in_child():
            raise RuntimeError("only in the child")
        return "here"

    before = background.fallbacks
    with background.start(work) as pending:
        assert pending.result() == "here"
    assert background.fallbacks == before + 1


@needs_two
@pytest.mark.counts
def test_a_value_that_does_not_pickle_is_worked_out_here() -> None:
    def work() -> object:
        return (lambda: None) if in_child() else "here"

    with background.start(work) as pending:
        assert pending.result() == "here"


@needs_two
def test_an_error_is_raised_here_as_without_a_child() -> None:
    def work() -> None:
        raise ValueError("bad input")

    with background.start(work) as pending, pytest.raises(ValueError, match="bad input"):
        pending.result()


@needs_two
def test_a_child_that_is_not_waited_for_is_stopped() -> None:
    def work() -> None:
        import time

        time.sleep(120 if in_child() else 0)

    with background.start(work):
        assert multiprocessing.active_children()
    assert not multiprocessing.active_children()


@needs_two
def test_the_child_says_nothing(tmp_path: Path) -> None:
    # Whatever the child prints, at the Python or the descriptor level, goes nowhere: it could quote a secret.
    script = textwrap.dedent(
        """
        import os, sys
        from creds_lint import background

        parent = os.getpid()

        def work():
            if os.getpid() != parent:
                print("SECRET on stdout"); print("SECRET on stderr", file=sys.stderr)
                os.write(1, b"SECRET on fd 1"); os.write(2, b"SECRET on fd 2")
                raise RuntimeError("SECRET in a traceback")
            return "worked out here"

        print("before")  # buffered when the child is forked: written once, by this process
        with background.start(work) as pending:
            print(pending.result())
        """
    )
    run = _python(script, tmp_path)
    assert run.stdout.splitlines() == ["before", "worked out here"]
    assert run.stderr == ""


@needs_two
def test_the_wait_is_filled_with_work_until_the_value_is_ready() -> None:
    done: list[int] = []

    def pieces() -> Iterator[None]:
        for n in itertools.count():  # more work than any wait: it stops when the child's value is ready
            done.append(n)
            yield

    with background.start(os.getpid) as pending:
        pending.meanwhile(pieces())
        assert pending.result() != PARENT
    assert done


def test_without_a_child_nothing_is_done_meanwhile() -> None:
    done: list[int] = []

    def pieces() -> Iterator[None]:
        for n in range(3):
            done.append(n)
            yield

    pending = background.Pending(lambda: "here")
    pending.meanwhile(pieces())
    assert done == []
    assert pending.result() == "here"


@needs_two
def test_an_interrupt_while_waiting_stops_the_child(tmp_path: Path) -> None:
    # Ctrl-C (here SIGINT to this process alone, while it waits) ends the run at once: the child is stopped, not
    # waited for, and nothing but the one line of an interrupted run is written.
    script = textwrap.dedent(
        """
        import multiprocessing, os, signal, time
        from creds_lint import background

        parent = os.getpid()

        def work():
            if os.getpid() != parent:
                time.sleep(120)
            return "late"

        signal.setitimer(signal.ITIMER_REAL, 0.5)
        signal.signal(signal.SIGALRM, lambda *_: os.kill(parent, signal.SIGINT))
        try:
            with background.start(work) as pending:
                pending.result()
        except KeyboardInterrupt:
            print("interrupted", multiprocessing.active_children())
        """
    )
    run = _python(script, tmp_path)
    assert run.stdout.splitlines() == ["interrupted []"]
    assert run.stderr == ""


def _sequel(value: int) -> background.Sequel[int, tuple[int, int, int]]:
    """Work a question will need (more than any wait: it stops when the question comes), then the answer: the
    value, the question and the process that answered."""
    return background.Sequel(meanwhile=itertools.count(), answer=lambda question: (value, question, os.getpid()))


@needs_two
def test_a_staged_child_answers_the_question_after_its_value() -> None:
    with background.start_staged(lambda: 7, _sequel) as staged:
        assert staged.result() == 7
        long = 1 << (8 * 200_000)  # a question longer than a pipe holds, asked while the child is at work
        with staged.ask(long) as pending:
            value, question, pid = pending.result()
    assert (value, question) == (7, long)
    assert pid != PARENT
    assert not multiprocessing.active_children()


@needs_two
def test_a_staged_child_that_is_not_asked_is_stopped() -> None:
    with background.start_staged(lambda: 7, _sequel) as staged:
        assert staged.result() == 7
        assert multiprocessing.active_children()  # at work on what a question would need
    assert not multiprocessing.active_children()


@needs_two
@pytest.mark.counts
@pytest.mark.parametrize("fails", ["value", "sequel", "sequel, asked once it has gone", "answer"])
def test_a_staged_child_that_fails_leaves_the_answer_to_this_process(fails: str) -> None:
    def work() -> int:
        if fails == "value" and in_child():
            raise RuntimeError("only in the child")
        return 7

    def sequel(value: int) -> background.Sequel[int, tuple[int, int, int]]:
        if fails.startswith("sequel") and in_child():
            raise RuntimeError("only in the child")

        def answer(question: int) -> tuple[int, int, int]:
            if fails == "answer" and in_child():
                raise RuntimeError("only in the child")
            return value, question, os.getpid()

        return background.Sequel(meanwhile=range(3), answer=answer)

    before = background.fallbacks
    with background.start_staged(work, sequel) as staged:
        assert staged.result() == 7
        if fails.endswith("gone"):
            _wait_for_children()  # the question then meets a closed pipe
        assert staged.ask(5).result() == (7, 5, PARENT)
    assert background.fallbacks == before + 1
    assert not multiprocessing.active_children()


def _wait_for_children() -> None:
    """Until every child has exited (each is joined when seen to have)."""
    import time

    for _ in range(1000):
        if not multiprocessing.active_children():
            return
        time.sleep(0.01)
    raise AssertionError("a child did not exit")


def test_without_a_child_the_sequel_answers_here() -> None:
    staged = background.Staged(lambda: 7, _sequel)
    assert staged.ask(5).result() == (7, 5, PARENT)


def _python(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``script`` run by a Python process of its own: what it prints, at the descriptor level too."""
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120, cwd=cwd
    )


def test_a_var_store_pickles_as_it_is() -> None:
    store = parse_store(dump_store(scaled_scenarios(40).store).encode() + b"svc0_ca: dup\n", source="creds.yml")
    sealed = type(store)(source="s", entries=store.entries, seal=Seal(decrypted=True, data_key="k"), mode=0o600)
    for kept in (store, sealed):
        back = pickle.loads(pickle.dumps(kept))  # noqa: S301 - its own bytes
        assert back == kept
        assert type(back.entries) is type(kept.entries)
        assert [dict(e.field_lines) for e in back] == [dict(e.field_lines) for e in kept]
        assert [e.line for e in back] == [e.line for e in kept]


@needs_two
@pytest.mark.parametrize("case", ["incident", "rotation"])
def test_reading_aside_finds_what_reading_in_turn_finds(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenarios = scaled_scenarios(130)
    old, new = tmp_path / "old.yml", tmp_path / "new.yml"
    old.write_text(dump_store(scenarios.store))
    new.write_text(dump_store(getattr(scenarios, case)))
    reports = []
    before = background.fallbacks
    for aside in (1 << 40, 1):  # never, always
        monkeypatch.setattr(engine, "ASIDE_BYTES", aside)
        for form in ("text", "json"):
            reports.append(_run(old, new, form))
    assert reports[0] == reports[2]
    assert reports[1] == reports[3]
    assert background.fallbacks == before  # every child answered: the second reports are theirs


@needs_two
@pytest.mark.parametrize(
    ("old_text", "message"),
    [
        (None, "no such file"),
        (b"a: [unclosed\n" * 10, "line"),
        (b"<<<<<<< HEAD\na: b\n", "merge-conflict"),
    ],
)
def test_an_old_version_that_cannot_be_read_is_reported_as_in_turn(
    old_text: bytes | None, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = tmp_path / "old.yml", tmp_path / "new.yml"
    new.write_text(dump_store(scaled_scenarios(40).store))
    if old_text is not None:
        old.write_bytes(old_text)
    results = []
    for aside in (1 << 40, 1):
        monkeypatch.setattr(engine, "ASIDE_BYTES", aside)
        results.append(_run(old, new, "text"))
    assert results[0] == results[1]
    code, _, err = results[0]
    assert code == 2
    assert message in err
    assert len(err.splitlines()) == 1


def _run(old: Path, new: Path, form: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--format", form, "--now", "2026-12-02T00:00:00Z", str(old), str(new)])
    return code, out.getvalue(), err.getvalue()


def _certificates() -> dict[str, str]:
    """Certificate texts of every shape a store holds: a root, an intermediate, a leaf with names and usages, a
    bundle (leaf then CA), two CAs in one trust field, and one that does not parse."""
    root = make_ca("facts-root", key_slot=0)
    middle = make_ca("facts-intermediate", key_slot=1, signer=root)
    leaf = make_leaf("facts.example", middle, key_slot=2, sans=("facts.example", "10.0.0.1"))
    broken = leaf.certificate.replace(leaf.certificate.splitlines()[5], "A" * 64)
    return {
        "root": root.certificate,
        "intermediate": middle.certificate,
        "leaf": leaf.certificate,
        "bundle": leaf.certificate + "\n" + middle.certificate,
        "trust": root.certificate + "\n" + middle.certificate,
        "broken": broken,
    }


def test_adopted_facts_are_the_facts_worked_out_here() -> None:
    texts = _certificates()
    x509.clear_caches()
    here = {name: x509.shipped(pem) for name, pem in texts.items()}
    assert here["broken"] is None
    assert all(here[name] is not None for name in texts if name != "broken")
    sent = pickle.loads(pickle.dumps({pem: here[name] for name, pem in texts.items()}))  # noqa: S301 - its own
    x509.clear_caches()
    x509.adopt(sent)
    for name, pem in texts.items():
        adopted = x509.certificate_info(pem)
        if here[name] is None:
            assert adopted is None
            assert x509.load_certificate(pem) is None
            continue
        assert adopted is not None
        assert "cert" not in vars(adopted)  # answered from the values, not parsed again
        assert {fact: getattr(adopted, fact) for fact in x509.CertInfo.SHIPPED} == here[name]
        cert = x509.load_certificate(pem)
        assert cert is not None
        assert cert == adopted.cert
        facts = x509.info(cert)  # adopted facts (of this text, or of another text of the same certificate)
        assert "_subject" not in vars(facts)  # never worked out again from the certificate
        assert {fact: getattr(facts, fact) for fact in x509.CertInfo.SHIPPED} == here[name]
    x509.clear_caches()


def test_a_graph_adopts_the_chains_resolved_elsewhere() -> None:
    # A stale chain carries certificates (its issuer, the foreign CAs of its trust field): they travel as DER.
    retired = make_ca("retired-ca", key_slot=3)
    leaf = make_leaf("stale.example", retired, key_slot=4)
    current = make_ca("current-ca", key_slot=5)
    store = parse_store(
        dump_store({"current_ca": current.as_value(), "stale_tls": leaf.as_value()}).encode(), source="creds.yml"
    )
    x509.clear_caches()
    there = pickle.loads(pickle.dumps(pki.shipped(pki.Graph(store), frozenset({"stale_tls", "current_ca"}))))  # noqa: S301
    assert there.chains["stale_tls"].trust is pki.Trust.STALE
    assert there.chains["stale_tls"].issuer == retired.cert_obj
    x509.clear_caches()
    graph = pki.Graph(store)
    graph.adopt(there)
    stale = store.get("stale_tls")
    assert stale is not None
    assert graph.chain(stale) is there.chains["stale_tls"]
    x509.clear_caches()
    assert graph.chain(stale) == pki.Graph(store).chain(stale)
    x509.clear_caches()


@needs_two
def test_the_old_version_is_decoded_by_the_child_that_read_it() -> None:
    scenarios = scaled_scenarios(130)
    old_text = dump_store(scenarios.store).encode()
    new = parse_store(dump_store(scenarios.incident).encode(), source="new.yml")
    x509.clear_caches()
    with background.start_staged(lambda: parse_store(old_text, source="old.yml"), engine._decoding) as aside:
        old = aside.result()
        context = Context(old=old, new=new, changes=compare(old, new))
        old_graph, _ = engine.decoded(context, aside)
    assert old_graph is not None
    ca = old.get("svc0_ca")
    assert ca is not None
    adopted = x509.certificate_info(ca.text("certificate") or "")
    assert adopted is not None
    assert "cert" not in vars(adopted)  # facts that came as values: this process never parsed it
    assert old_graph.chain(ca).signer == "svc0_ca"
    fresh = new.get("svc0_ca")
    assert fresh is not None
    assert "cert" in vars(x509.certificate_info(fresh.text("certificate") or ""))  # decoded here
    assert not multiprocessing.active_children()
    x509.clear_caches()


def test_the_same_certificate_is_told_by_its_der_whatever_its_text() -> None:
    ca = make_ca("same-ca", key_slot=0)
    leaf = make_leaf("same.example", ca, key_slot=2)
    again = make_leaf("same.example", ca, key_slot=2, serial=leaf.cert_obj.serial_number)  # another signature
    x509.clear_caches()
    text = leaf.certificate
    rewrapped = "\n".join(text.splitlines()) + "\n\n"  # other whitespace, the same DER
    facts = [x509.certificate_info(t) for t in (text, rewrapped, again.certificate, ca.certificate)]
    assert all(f is not None for f in facts)
    first, second, third, other = (f for f in facts if f is not None)
    assert x509.same_certificate(first, first)
    assert x509.same_certificate(first, second)
    assert not x509.same_certificate(first, other)
    assert x509.same_certificate(first, third) is (leaf.cert_obj == again.cert_obj)
    x509.clear_caches()
