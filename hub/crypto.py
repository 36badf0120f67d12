"""Secrets at rest: MultiFernet over the keys of ``FIELD_ENCRYPTION_KEYS`` (newest first).

Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) authenticates what it decrypts, so a
wrong key or a tampered value raises ``DecryptionError`` instead of yielding garbage.
"""

from __future__ import annotations

from functools import cache, lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """The stored value was not made by any configured key (or was altered)."""


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is empty: set it (comma-separated Fernet keys, newest first)."
        )
    try:
        return MultiFernet([Fernet(k.strip().encode("ascii")) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS holds an invalid key: {exc}") from exc


def current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return current().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    return _decrypt(tuple(settings.FIELD_ENCRYPTION_KEYS), token)


# A poller loads the same rows every few minutes (10,000 Smart OA contracts every 5 minutes):
# each ciphertext is decrypted once per process, not once per load. Keyed by the configured keys
# too, so a value no remaining key decrypts is refused again once the keys change. Failures are
# not cached (an exception leaves no entry). The plaintexts stay in this process's memory, where
# the loaded rows put them anyway.
@lru_cache(maxsize=65_536)
def _decrypt(keys: tuple[str, ...], token: str) -> str:
    try:
        return _fernet(keys).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise DecryptionError("No configured key decrypts this value.") from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the newest key (MultiFernet.rotate keeps the timestamp)."""
    try:
        return current().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("No configured key decrypts this value.") from exc
