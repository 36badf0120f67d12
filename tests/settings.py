"""Test settings: the project's settings with fixed test keys and a fast password hasher.

``DATABASE_URL`` and ``REDIS_URL`` from the environment still apply: CI runs the suite on
PostgreSQL and Redis.
"""

import os
import tempfile
import uuid

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production")
# Two keys: the newest first. Tests rotate between them.
os.environ.setdefault(
    "FIELD_ENCRYPTION_KEYS",
    "aW7B8jsyH4Jz6wxBSMLdbTlZ7uQ2nUq0XJWSTjF8J6Q=,Ek5oFQ0DLRmvR2SeqBYXJx7TIn0l5yqvL8dwUjyQ6zY=",
)
os.environ.setdefault("HUB_VAR_DIR", tempfile.mkdtemp(prefix="hub-test-"))
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")

from hub.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = False
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise warns when missing

# Every key this run writes to Redis (cache, GRDF simulator state, Celery's broker) carries a
# prefix of its own, so two runs sharing one Redis database neither read nor clear each other's
# keys; tests/conftest.py deletes them when the run ends (.ci/run checks none is left).
TEST_REDIS_PREFIX = os.environ.get("HUB_TEST_REDIS_PREFIX") or f"hub-test-{uuid.uuid4().hex[:12]}"
if REDIS_URL:  # noqa: F405
    CACHES["default"]["BACKEND"] = "tests.cache.PrefixedRedisCache"  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = TEST_REDIS_PREFIX  # noqa: F405
    CACHES["grdf_simulator"] = CACHES["default"]  # noqa: F405
if CELERY_BROKER_URL.startswith("redis"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{TEST_REDIS_PREFIX}-celery:"}
