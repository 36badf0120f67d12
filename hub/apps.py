from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db.backends.signals import connection_created


class HubConfig(AppConfig):
    name = "hub"
    verbose_name = "Hub"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub import sqlite_functions
        from hub.api import schema  # noqa: F401  (registers the OpenAPI auth extension)

        connection_created.connect(sqlite_functions.register, dispatch_uid="hub.sqlite_functions")
        checks.register(check_encryption_keys, checks.Tags.security)


def check_encryption_keys(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    from django.core.exceptions import ImproperlyConfigured

    from hub import crypto

    try:
        crypto.current()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="hub.E001")]
    return []
