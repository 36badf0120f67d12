from django.apps import AppConfig


class SmartoaConfig(AppConfig):
    name = "smartoa"
    verbose_name = "EDF OA — Smart OA"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub.services.webhooks import register as register_webhooks
        from hub.signals import demo_seeded
        from smartoa import webhooks
        from smartoa.demo import on_demo_seeded

        demo_seeded.connect(on_demo_seeded, dispatch_uid="smartoa.demo")
        register_webhooks(webhooks.CHANNEL)
        from smartoa import controllers  # registers its controllers with hub.control

        controllers.register_all()
        from hub.selectors.sources import SourceRank, register_source
        from smartoa.loadcurve import SOURCE

        register_source(SOURCE, rank=SourceRank.UPLOAD, label="Courbe de charge déposée (CSV)")
        _register_portal()


def _register_portal() -> None:
    from django.utils.translation import gettext_lazy as _

    from hub import labels
    from hub.portal import menu, panels
    from smartoa import views

    labels.register_poll_source("smartoa", _("EDF OA — Smart OA"))

    menu.register(key="smartoa", label=_("Smart OA"), url_name="smartoa_portal:contracts", order=30)
    panels.register(
        key="smartoa",
        title=_("Obligation d'achat — contrat Smart OA et arrêts du jour"),
        order=30,
        context=views.site_panel,
        template="smartoa/_site_panel.html",
        empty=_(
            "Aucun contrat Smart OA sur ce site. Créez le contrat depuis la page Smart OA en "
            "le rattachant à ce site ou à l'un de ses points."
        ),
    )
