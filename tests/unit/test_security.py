"""ringlet.security: argon2id hashes for secrets, SHA-256 digests and random tokens."""

from __future__ import annotations

import hashlib
import re

import pytest

from ringlet.security import (
    NO_SECRET,
    VerifiedSecrets,
    digest,
    hash_client_secret,
    hash_secret,
    new_token,
    verify_secret,
)


def test_hash_is_argon2id_salted_and_verifies() -> None:
    first, second = hash_secret("Bob-102!"), hash_secret("Bob-102!")
    assert first.startswith("$argon2id$")
    assert first != second  # salted
    assert "Bob-102!" not in first
    assert verify_secret(first, "Bob-102!")
    assert verify_secret(second, "Bob-102!")


@pytest.mark.parametrize("attempt", ["bob-102!", "Bob-102", "Bob-102! ", ""])
def test_wrong_secret_does_not_verify(attempt: str) -> None:
    assert not verify_secret(hash_secret("Bob-102!"), attempt)


@pytest.mark.parametrize("hashed", [None, "", "not-a-hash", "$argon2id$v=19$m=1,t=1,p=1$garbage"])
def test_missing_or_corrupt_hash_matches_nothing(hashed: str | None) -> None:
    # An extension without a password must not log in with an empty one.
    assert not verify_secret(hashed, "")
    assert not verify_secret(hashed, "anything")


def test_unicode_secrets() -> None:
    hashed = hash_secret("pässwörd-✓-😀")
    assert verify_secret(hashed, "pässwörd-✓-😀")
    assert not verify_secret(hashed, "passwort-✓-😀")


def test_client_secret_hash_marks_public_clients() -> None:
    assert hash_client_secret(None) == NO_SECRET
    assert hash_client_secret("") == NO_SECRET
    hashed = hash_client_secret("demo-secret")
    assert hashed != NO_SECRET
    assert verify_secret(hashed, "demo-secret")
    assert not verify_secret(NO_SECRET, "")  # a public client has no secret to match


def test_digest_is_sha256_hex() -> None:
    assert digest("jwt-olivia-101") == hashlib.sha256(b"jwt-olivia-101").hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", digest(""))
    assert digest("a") != digest("b")
    assert digest("✓") == hashlib.sha256("✓".encode()).hexdigest()


def test_new_token_is_url_safe_prefixed_and_unique() -> None:
    tokens = {new_token("rlat_") for _ in range(1000)}
    assert len(tokens) == 1000
    for token in tokens:
        # URL-safe: the Python SDK puts tokens in query strings without encoding them.
        assert re.fullmatch(r"rlat_[A-Za-z0-9_-]{43}", token), token
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", new_token())
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", new_token(nbytes=16))


def test_verified_secrets_remembers_only_successes() -> None:
    cache = VerifiedSecrets(size=2)
    hashed = hash_secret("demo-secret")
    assert not cache.verify(hashed, "wrong")
    assert not cache.verify(hashed, "wrong")  # failures are never remembered
    assert cache.verify(hashed, "demo-secret")
    assert cache.verify(hashed, "demo-secret")  # from memory
    assert not cache.verify(hashed, "demo-secret ")
    assert not cache.verify(None, "demo-secret")
    assert not cache.verify("", "")


def test_verified_secrets_forgets_a_replaced_hash() -> None:
    cache = VerifiedSecrets()
    old = hash_secret("old-secret")
    assert cache.verify(old, "old-secret")
    new = hash_secret("new-secret")
    assert not cache.verify(new, "old-secret")  # a changed secret is checked afresh
    assert cache.verify(new, "new-secret")


def test_verified_secrets_is_bounded() -> None:
    cache = VerifiedSecrets(size=2)
    hashes = [hash_secret(f"s{i}") for i in range(3)]
    for i, hashed in enumerate(hashes):
        assert cache.verify(hashed, f"s{i}")
    assert len(cache._seen) == 2
