from django.apps import AppConfig


class FlexreadyConfig(AppConfig):
    name = "flexready"
    verbose_name = "Flex Ready"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from flexready.demo import on_demo_seeded
        from hub.signals import demo_seeded

        demo_seeded.connect(on_demo_seeded, dispatch_uid="flexready-demo")
        from flexready import controllers  # registers its controllers with hub.control

        controllers.register_all()
        _register_portal()


def _register_portal() -> None:
    from django.utils.translation import gettext_lazy as _

    from flexready import views
    from hub import labels
    from hub.portal import menu, panels

    labels.register_poll_source("flexready-supplier", _("Signal fournisseur (prix, CO2)"))
    labels.register_poll_source("ecowatt", _("RTE Ecowatt"))

    menu.register(key="flexready", label=_("Flex Ready"), url_name="flexready:bacs_list", order=40)
    panels.register(
        key="flexready",
        title=_("Flex Ready — actifs et demandes ouvertes"),
        order=40,
        context=views.site_panel,
        template="flexready/_site_panel.html",
        empty=_(
            "Aucun BACS Flex Ready sur ce site. Un BACS s'affiche ici quand le PRM qu'il pilote "
            "est rattaché à ce site (administration, points de comptage)."
        ),
    )
