from django.apps import AppConfig


class TicConfig(AppConfig):
    name = "tic"
    verbose_name = "Télé-information client"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub.services.webhooks import register as register_webhooks
        from hub.signals import demo_seeded
        from tic import webhooks
        from tic.demo import seed_demo

        demo_seeded.connect(seed_demo, dispatch_uid="tic-demo")
        register_webhooks(webhooks.CHANNEL)

        from tic import controllers  # registers its controllers with hub.control

        controllers.register_all()

        from hub.selectors.sources import SourceRank, register_source
        from tic.ingest import SOURCE

        register_source(SOURCE, rank=SourceRank.METER, label="Compteur TIC (lecture directe)")
        from hub import labels
        from tic.models import Family, TariffCalendar

        labels.register("tic.Family", Family)
        labels.register("tic.TariffCalendar", TariffCalendar)
        _register_portal()


def _register_portal() -> None:
    from django.utils.translation import gettext_lazy as _

    from hub.portal import menu, panels
    from tic import views

    menu.register(key="tic", label=_("Compteurs TIC"), url_name="tic:meters", order=50)
    panels.register(
        key="tic",
        title=_("Compteurs TIC — état et puissance face à la PS"),
        order=10,
        context=views.site_panel,
        template="tic/_site_panel.html",
        empty=_(
            "Aucun compteur TIC ne mesure ce site. Déclarez un port TIC avec le PRM qu'il "
            "mesure (administration, ou manage.py tic_port add --metering-point)."
        ),
    )
