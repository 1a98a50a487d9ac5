from __future__ import annotations

# Property: whatever the stores and whatever changed between them, no output of creds-lint -- any report format,
# any style, the redacted diff and the textconv view -- contains a secret value.
import functools
import string
from collections.abc import Mapping

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creds_lint import redacted
from creds_lint.engine import Options, check
from creds_lint.loader import parse_store
from creds_lint.origin import Origin
from creds_lint.reporters import REPORTERS
from creds_lint.reporters.style import Style
from creds_lint.sources import Source, Target
from factory import dump_store, make_ca, make_leaf, make_rsa, make_ssh

STYLES = (Style(), Style(color=True), Style(quiet=True))
NAMES = (
    "admin_password",
    "credhub_encryption_password",
    "nats_password",
    "hm_password",
    "default_ca",
    "nats_ca",
    "director_ssl",
    "nats_server_tls",
    "uaa_jwt_signing_key",
    "jumpbox_ssh",
    "cc_db_encryption_key",
    "custom",
    "custom_old",
    "nats_ca_2",
)

# Secrets are long random strings: nothing else in an output can contain one by chance.
secrets_ = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=20, max_size=24).filter(
    lambda s: len(set(s)) > 6
)


@functools.cache
def structured() -> tuple[dict[str, str], ...]:
    """A few real certificates and key pairs (generated once): two CAs, a leaf of each, an rsa and an ssh pair."""
    ca1 = make_ca("prop-ca-1", key_slot=400)
    ca2 = make_ca("prop-ca-2", key_slot=401)
    return (
        ca1.as_value(),
        ca2.as_value(),
        make_leaf("leaf.example", ca1, key_slot=402).as_value(),
        make_leaf("leaf.example", ca2, key_slot=403).as_value(),
        make_rsa(404),
        make_ssh(405),
    )


@st.composite
def values(draw: st.DrawFn) -> object:
    choice = draw(st.integers(0, 5))
    if choice <= 1:
        return draw(secrets_)
    if choice == 2:
        value: dict[str, str | None] = dict(draw(st.sampled_from(structured())))
        if draw(st.booleans()):  # a field replaced or added by hand, or emptied
            field = draw(st.sampled_from(["private_key", "certificate", "ca", "public_key", "extra"]))
            value[field] = draw(st.one_of(secrets_, st.none(), st.just("")))
        return value
    if choice == 3:
        return {draw(st.sampled_from(["a", "b", "token"])): draw(secrets_), "list": [draw(secrets_)]}
    if choice == 4:
        return None
    return dict(draw(st.sampled_from(structured())))


stores = st.dictionaries(st.sampled_from(NAMES), values(), max_size=8)


def secrets_in(store: Mapping[str, object]) -> set[str]:
    """Every password and every line of every private key in ``store``."""
    found: set[str] = set()

    def walk(value: object, field: str | None) -> None:
        if isinstance(value, str):
            if "PRIVATE KEY" in value:
                found.update(line for line in value.splitlines() if "-----" not in line and len(line) >= 16)
            elif field not in ("ca", "certificate", "public_key", "public_key_fingerprint") and len(value) >= 20:
                found.add(value)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, str(key))
        elif isinstance(value, list):
            for item in value:
                walk(item, field)

    for value in store.values():
        walk(value, None)
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(old=stores, new=stores)
def test_no_output_contains_a_secret(old: dict[str, object], new: dict[str, object]) -> None:
    old_bytes, new_bytes = dump_store(old).encode(), dump_store(new).encode()
    target = Target(
        old=Source(origin=Origin(path="creds.yml", rev="HEAD"), read=lambda: old_bytes),
        new=Source(origin=Origin(path="creds.yml"), read=lambda: new_bytes),
    )
    report = check([target], Options())
    outputs = [REPORTERS[name](report, style) for name in REPORTERS for style in STYLES]
    old_store = parse_store(old_bytes, source="old.yml")
    new_store = parse_store(new_bytes, source="new.yml")
    outputs += [redacted.diff(old_store, new_store), redacted.view(old_store), redacted.view(new_store)]
    secrets = secrets_in(old) | secrets_in(new)
    for output in outputs:
        assert "PRIVATE KEY" not in output
        assert "-----BEGIN" not in output
        leaked = [s for s in secrets if s in output]
        assert leaked == []
