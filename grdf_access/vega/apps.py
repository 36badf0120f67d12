"""The VEGA sub-application: its own label and migrations inside grdf_access."""

from typing import Any

from django.apps import AppConfig


class VegaConfig(AppConfig):
    name = "grdf_access.vega"
    label = "grdf_vega"
    verbose_name = "GRDF — changement VEGA et veille des publications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from grdf_access.vega.parsers import register_builtin
        from hub.portal import menu
        from hub.signals import demo_seeded

        register_builtin()
        menu.register(
            key="grdf_vega", label=_("GRDF VEGA"), url_name="grdf:vega:migration", order=21
        )
        demo_seeded.connect(_seed_demo, dispatch_uid="grdf_access.vega.demo")


def _seed_demo(sender: Any, *, organisation: Any, today: Any, **kwargs: Any) -> None:
    from grdf_access.vega.demo import seed

    seed(organisation=organisation, today=today)
