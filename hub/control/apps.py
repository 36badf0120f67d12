from django.apps import AppConfig


class ControlConfig(AppConfig):
    # A Django app of its own inside ``hub``: its tables and migrations evolve apart from the
    # shared core's, so the two never clash.
    name = "hub.control"
    label = "hub_control"
    verbose_name = "Pilotage des charges"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub.control.demo import on_demo_seeded
        from hub.signals import demo_seeded

        demo_seeded.connect(on_demo_seeded, dispatch_uid="hub_control_demo")
        _register_portal()


def _register_portal() -> None:
    from django.utils.translation import gettext_lazy as _

    from hub.control import views
    from hub.portal import menu, panels

    menu.register(key="control", label=_("Pilotage"), url_name="control:sites", order=60)
    panels.register(
        key="control",
        title=_("Pilotage des charges"),
        order=60,
        context=views.site_panel,
        template="control/_site_panel.html",
        empty=_(
            "Aucune charge pilotable sur ce site. Déclarez-en une dans l'administration "
            "(pilotage : charges et canaux)."
        ),
    )
