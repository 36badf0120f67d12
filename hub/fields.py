"""Model fields of the shared core."""

from __future__ import annotations

from typing import Any

from django.db import models

from hub import crypto


class EncryptedTextField(models.TextField):
    """A text column stored as a Fernet token; Python code only ever sees the plaintext.

    Not searchable and not orderable: the ciphertext changes at every write. ``None`` stays
    ``NULL``. Values are re-encrypted with the newest key by ``manage.py rotate_encryption_keys``.
    """

    description = "Text encrypted at rest"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt(str(value))

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return crypto.decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in {"isnull"}:
            return None  # an equality on ciphertext would silently match nothing
        return super().get_lookup(lookup_name)
