from typing import Any

from django.apps import AppConfig


class GrdfAccessConfig(AppConfig):
    name = "grdf_access"
    verbose_name = "GRDF — accès aux données"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from grdf_access import read_guard
        from grdf_access.sync import SOURCE
        from hub.series_access import register_read_guard
        from hub.signals import demo_seeded

        demo_seeded.connect(_seed_demo, dispatch_uid="grdf_access.demo")
        # hub's series API serves GRDF points only inside the consent, like this app's pages.
        register_read_guard(source=SOURCE, guard=read_guard.refusal)
        from hub.selectors.sources import SourceRank, register_source

        register_source(SOURCE, rank=SourceRank.PROVIDER, label="GRDF (ADICT)")


def _seed_demo(sender: Any, *, organisation: Any, today: Any, **kwargs: Any) -> None:
    from grdf_access.demo import seed

    seed(organisation=organisation, today=today)
