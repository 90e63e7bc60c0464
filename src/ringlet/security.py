"""Secrets at rest and tokens in flight.

- Passwords and client secrets are stored as argon2id hashes (`hash_secret` / `verify_secret`).
- Tokens (access, refresh, JWT credentials) are long random strings: a SHA-256 digest is enough
  to store them, and unlike a salted hash it can be looked up by an index (`digest`).
- `new_token` makes tokens with `secrets`, never with `random`.

Argon2 parameters: OWASP's recommended minimum for argon2id (19 MiB, 2 passes, 1 lane), about
20 ms per verification. argon2-cffi's default (64 MiB, 3 passes, 4 lanes) costs ~200 ms on a
two-core machine; a test suite logs in thousands of times. The parameters are stored inside each
hash, so raising them later only affects new hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from threading import Lock
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# What an app without a client secret (a public client, e.g. the JS SDK without `clientSecret`)
# stores in apps.client_secret_hash. Never a valid argon2 hash, so it never verifies a secret.
NO_SECRET: Final = ""

TOKEN_BYTES: Final = 32  # 256 bits of randomness: 43 URL-safe characters


def hash_secret(plain: str) -> str:
    """An argon2id hash of `plain` (salted; two calls give two different hashes)."""
    return _HASHER.hash(plain)


def hash_client_secret(plain: str | None) -> str:
    """What to store for an app's client secret: `NO_SECRET` when it has none (a public
    client), else its argon2id hash."""
    return NO_SECRET if not plain else hash_secret(plain)


def verify_secret(hashed: str | None, plain: str) -> bool:
    """Whether `plain` matches `hashed`. An empty, missing or corrupt hash matches nothing:
    an extension without a password cannot log in with an empty one."""
    if not hashed:
        return False
    try:
        return _HASHER.verify(hashed, plain)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def digest(token: str) -> str:
    """SHA-256 of `token`, 64 lower-case hex characters: how tokens are stored and found."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(prefix: str = "", nbytes: int = TOKEN_BYTES) -> str:
    """An unguessable token, URL-safe (it travels in `?access_token=` unencoded by the Python
    SDK), with an optional readable prefix that tells people what they hold."""
    return prefix + secrets.token_urlsafe(nbytes)


class VerifiedSecrets:
    """Remembers recent successful verifications, so that logging in again with the same
    client secret or password costs a HMAC instead of an argon2 run.

    Only successes are remembered: a wrong guess always pays the full argon2 price. Entries are
    keyed by HMAC-SHA256(per-process random key, hash + plain), so the memory holds no value
    that can be checked against a password offline without the key, and a changed secret
    (a new hash) never matches an old entry.
    """

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._key = secrets.token_bytes(32)
        self._seen: OrderedDict[bytes, None] = OrderedDict()
        self._lock = Lock()  # verifications run on worker threads

    def _entry(self, hashed: str, plain: str) -> bytes:
        message = hashed.encode("utf-8") + b"\x00" + plain.encode("utf-8")
        return hmac.digest(self._key, message, "sha256")

    def verify(self, hashed: str | None, plain: str) -> bool:
        if not hashed:
            return False
        entry = self._entry(hashed, plain)
        with self._lock:
            if entry in self._seen:
                self._seen.move_to_end(entry)
                return True
        if not verify_secret(hashed, plain):
            return False
        with self._lock:
            self._seen[entry] = None
            while len(self._seen) > self._size:
                self._seen.popitem(last=False)
        return True
