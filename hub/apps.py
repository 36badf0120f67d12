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
        from django.db.models import Field

        from hub import labels, sqlite_functions
        from hub.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from hub.lookups import AnyOf
        from hub.models import PollOutcome

        labels.register("hub.PollOutcome", PollOutcome)
        Field.register_lookup(AnyOf)

        connection_created.connect(sqlite_functions.register, dispatch_uid="hub.sqlite_functions")
        checks.register(check_encryption_keys, checks.Tags.security)
        checks.register(check_simulators_off_in_production, checks.Tags.security, deploy=True)


def check_encryption_keys(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    from django.core.exceptions import ImproperlyConfigured

    from hub import crypto

    try:
        crypto.current()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="hub.E001")]
    return []


def check_simulators_off_in_production(
    app_configs: Any, **kwargs: Any
) -> list[checks.CheckMessage]:
    """The simulators' control endpoints (``/sim/*/_sim``) take no credentials: with DEBUG off
    they would let anyone reset or steer the fakes the clients are pointed at."""
    from django.conf import settings

    if settings.HUB_SIMULATORS and not settings.DEBUG:
        return [
            checks.Warning(
                "HUB_SIMULATORS is on with DEBUG off: /sim/ and its unauthenticated control "
                "endpoints are mounted and the clients call the simulators.",
                hint="Set HUB_SIMULATORS=false in production.",
                id="hub.W001",
            )
        ]
    return []
