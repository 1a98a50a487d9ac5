from __future__ import annotations

# The leak test of tests/test_leaks.py, on CredHub exports: hypothesis generates var-stores and a change of each
# (credentials deleted or regenerated), writes both as exports (YAML or `credhub export -j` JSON, with `ca_name`
# for signed certificates and `user` credentials), corrupts the new one around a secret or not, runs every
# command and output format, and checks that no secret appears in any output or file.
import contextlib
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credhub_factory import EXPORTERS, from_var_store, user
from test_leaks import (
    PASSWORDS,
    Case,
    _corruptions,
    assert_no_leak,
    commands,
    run,
    secrets_,
    secrets_of,
    snapshot,
    stores,
    structured,
)


@st.composite
def export_cases(draw: st.DrawFn) -> Case:
    old = draw(stores())
    new = dict(old)
    for name in draw(st.lists(st.sampled_from(sorted(old)), unique=True, max_size=3)):
        if draw(st.booleans()):
            del new[name]
        elif name in PASSWORDS:
            new[name] = draw(secrets_)
        else:
            new[name] = structured(name, 1 if new[name] == structured(name, 0) else 0)
    login = draw(secrets_)
    secrets = secrets_of(old) | secrets_of(new) | {login}
    exporter = EXPORTERS[draw(st.sampled_from(sorted(EXPORTERS)))]
    old_text = exporter([*from_var_store(old, prefix="/d/dep"), user("/d/dep/ops_user", "ops", login)])
    new_text = exporter([*from_var_store(new, prefix="/d/dep"), user("/d/dep/ops_user", "ops", login, salt="other")])
    new_bytes: str | bytes = new_text
    if draw(st.booleans()):
        secret = draw(secrets_)
        secrets.add(secret)
        corruption = draw(st.sampled_from(sorted(_corruptions(secret).items())))
        new_bytes = corruption[1](new_text)
    return Case(
        old=old_text.encode(),
        new=new_bytes.encode() if isinstance(new_bytes, str) else new_bytes,
        secrets=frozenset(secrets),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=export_cases())
def test_no_command_or_format_leaks_a_secret_of_an_export(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
        root = Path(tmp)
        old, new = root / "old.yml", root / "new.yml"
        old.write_bytes(case.old)
        new.write_bytes(case.new)
        before = snapshot(root)
        outputs = [run(*argv) for argv in commands(old, new)]
        assert_no_leak(outputs, case, root, before)
