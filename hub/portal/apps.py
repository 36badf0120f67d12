from django.apps import AppConfig


class PortalConfig(AppConfig):
    # An app of its own (no models: they live in hub.models.mfa) so that its admin module and
    # its management commands are discovered.
    name = "hub.portal"
    label = "portal"
    verbose_name = "Portail"
