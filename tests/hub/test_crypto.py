import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from hub import crypto

NEW = Fernet.generate_key().decode()


def test_round_trip_and_ciphertext_differs_from_plaintext():
    token = crypto.encrypt("client-secret-42")
    assert "client-secret-42" not in token
    assert crypto.decrypt(token) == "client-secret-42"


def test_wrong_key_raises_instead_of_returning_ciphertext(settings):
    token = crypto.encrypt("s3cret")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)


def test_tampered_value_raises():
    token = crypto.encrypt("s3cret")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))


def test_rotation_reencrypts_with_the_newest_key(settings):
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    token = crypto.encrypt("s3cret")
    settings.FIELD_ENCRYPTION_KEYS = [NEW, *old_keys]
    rotated = crypto.rotate(token)
    settings.FIELD_ENCRYPTION_KEYS = [NEW]  # old keys removed after rotation
    assert crypto.decrypt(rotated) == "s3cret"


def test_missing_keys_are_a_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


def test_a_cached_plaintext_is_not_returned_once_no_key_decrypts_it(settings):
    # Rule (hub/crypto.py): each ciphertext is decrypted once per process, keyed by the
    # configured keys too, so a value no remaining key decrypts is refused again.
    token = crypto.encrypt("s3cret")
    assert crypto.decrypt(token) == "s3cret"
    assert crypto.decrypt(token) == "s3cret"  # from the cache
    settings.FIELD_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)
