from __future__ import annotations

# A private key that parses is also checked for the arithmetic that makes an RSA key one (x509.load_private_key):
# OpenSSL's own check tests primality and costs milliseconds per key, which a store of thousands would pay.
import math

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from creds_lint import x509
from factory import DISTINCT_BASE, rsa_key


def _numbers(p: int, q: int, d: int, e: int) -> rsa.RSAPrivateNumbers:
    return rsa.RSAPrivateNumbers(p=p, q=q, d=d, dmp1=1, dmq1=1, iqmp=1, public_numbers=rsa.RSAPublicNumbers(e, p * q))


@given(
    p=st.integers(min_value=3, max_value=1 << 64),
    q=st.integers(min_value=3, max_value=1 << 64),
    d=st.integers(min_value=1, max_value=1 << 128),
    e=st.sampled_from([3, 17, 65537]),
)
def test_the_consistency_check_is_the_lcm_rule(p: int, q: int, d: int, e: int) -> None:
    # e * d == 1 modulo lcm(p - 1, q - 1), checked without a gcd: the same verdict for any numbers, and every
    # exponent that is the inverse passes.
    lcm = (p - 1) * (q - 1) // math.gcd(p - 1, q - 1)
    assert x509._consistent_rsa(_numbers(p, q, d, e)) == ((e * d) % lcm == 1)
    if math.gcd(e, lcm) == 1:
        assert x509._consistent_rsa(_numbers(p, q, pow(e, -1, lcm), e))


def test_a_factor_below_three_is_no_key() -> None:
    assert not x509._consistent_rsa(_numbers(2, 2, 1, 3))
    assert not x509._consistent_rsa(_numbers(1, 7, 1, 3))


def test_keys_of_their_own_are_keys_that_load() -> None:
    # The benchmark's stores give each certificate a key of its own, made from a pool of primes: each loads as a
    # consistent key, and no two are the same.
    keys = [rsa_key(DISTINCT_BASE + i) for i in range(12)]
    assert len({key.public_key().public_numbers().n for key in keys}) == len(keys)
    for key in keys:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode()
        loaded = x509.load_private_key(pem)
        assert loaded is not None
        assert x509.public_key_der(loaded) == x509.public_key_der(key)
        assert key.key_size == 2048
