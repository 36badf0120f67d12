from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    # An app of its own (no models: they live in hub.models.mfa) so that its admin module and
    # its management commands are discovered.
    name = "hub.portal"
    label = "portal"
    verbose_name = "Portail"

    def ready(self) -> None:
        from hub.models import Role
        from hub.portal import menu

        # hub's own entries; each app adds its own from its ready(), in the order given.
        menu.register(
            key="dashboard", label=_("Tableau de bord"), url_name="portal:dashboard", order=0
        )
        menu.register(key="sites", label=_("Sites"), url_name="portal:sites", order=5)
        menu.register(
            key="tokens",
            label=_("Jetons d'API"),
            url_name="portal:tokens",
            order=90,
            role=Role.ADMIN,
        )
        menu.register(
            key="mqtt",
            label=_("Courtier MQTT"),
            url_name="portal:mqtt_broker",
            order=91,
            role=Role.ADMIN,
        )
        menu.register(key="security", label=_("Sécurité"), url_name="portal:security", order=95)
        menu.register(
            key="admin", label=_("Administration"), url_name="admin:index", order=99, staff=True
        )
