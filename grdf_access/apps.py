from typing import Any

from django.apps import AppConfig


class GrdfAccessConfig(AppConfig):
    name = "grdf_access"
    verbose_name = "GRDF — accès aux données"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from grdf_access import read_guard, webhooks
        from grdf_access.sync import SOURCE
        from hub.series_access import register_read_guard
        from hub.services.webhooks import register as register_webhooks
        from hub.signals import demo_seeded

        demo_seeded.connect(_seed_demo, dispatch_uid="grdf_access.demo")
        # hub's series API serves GRDF points only inside the consent, like this app's pages.
        register_read_guard(source=SOURCE, guard=read_guard.refusal)
        register_webhooks(webhooks.CHANNEL)
        from hub.selectors.sources import SourceRank, register_source

        register_source(SOURCE, rank=SourceRank.PROVIDER, label="GRDF (ADICT)")
        _register_portal()


def _register_portal() -> None:
    from django.utils.translation import gettext_lazy as _

    from grdf_access import tasks, views
    from hub import labels
    from hub.portal import cards, menu, panels

    for kind, label in tasks.JOB_LABELS.items():
        labels.register_job(kind, label)
    labels.register_poll_source("grdf", _("GRDF (ADICT)"))
    labels.register_poll_source("grdf_vega", _("GRDF — calendrier VEGA"))

    menu.register(key="grdf", label=_("GRDF"), url_name="grdf:rights", order=20)
    panels.register(
        key="grdf",
        title=_("Gaz — PCE GRDF et consentements"),
        order=20,
        context=views.site_panel,
        template="grdf_access/_site_panel.html",
        empty=_(
            "Aucun PCE GRDF sur ce site. Rattachez le PCE à ce site dans l'administration "
            "(points de comptage), ou demandez un droit d'accès GRDF pour ce PCE."
        ),
    )
    cards.register(
        key="grdf-thresholds",
        title=_("Seuils de consommation de gaz"),
        order=20,
        context=views.dashboard_card,
        template="grdf_access/_dashboard_card.html",
    )


def _seed_demo(sender: Any, *, organisation: Any, today: Any, **kwargs: Any) -> None:
    from grdf_access.demo import seed

    seed(organisation=organisation, today=today)
