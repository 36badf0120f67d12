from django.apps import AppConfig


class FlexreadyMarketConfig(AppConfig):
    # A Django app of its own inside `flexready`: the signals half has its own tables and
    # migrations, independent of the operator API's, so the two evolve without migration clashes.
    name = "flexready.market"
    label = "flexready_market"
    verbose_name = "Flex Ready — signaux fournisseur et Ecowatt"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from flexready.market.demo import on_demo_seeded
        from hub.signals import demo_seeded

        demo_seeded.connect(on_demo_seeded, dispatch_uid="flexready_market_demo")
        _register_portal()


def _register_portal() -> None:
    from django.utils.translation import gettext_lazy as _

    from flexready.market import views
    from hub.portal import panels

    panels.register(
        key="signals",
        title=_("Signaux du jour — Ecowatt et fournisseur"),
        order=50,
        context=views.site_panel,
        template="flexready/market/_site_panel.html",
        empty=_(
            "Ni signal Ecowatt reçu ni signal fournisseur suivi pour ce site. Suivez le signal "
            "fournisseur d'un PRM du site depuis la page Signaux ; Ecowatt arrive avec la "
            "prochaine relève RTE (toutes les 15 minutes)."
        ),
    )
