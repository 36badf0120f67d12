from django.apps import AppConfig


class SmartoaConfig(AppConfig):
    name = "smartoa"
    verbose_name = "EDF OA — Smart OA"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub.signals import demo_seeded
        from smartoa.demo import on_demo_seeded

        demo_seeded.connect(on_demo_seeded, dispatch_uid="smartoa.demo")
        from smartoa import controllers  # registers its controllers with hub.control

        controllers.register_all()

        from hub.selectors.sources import SourceRank, register_source
        from smartoa.loadcurve import SOURCE

        register_source(SOURCE, rank=SourceRank.UPLOAD, label="Courbe de charge déposée (CSV)")
