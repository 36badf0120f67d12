from django.apps import AppConfig


class TicConfig(AppConfig):
    name = "tic"
    verbose_name = "Télé-information client"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from hub.signals import demo_seeded
        from tic.demo import seed_demo

        demo_seeded.connect(seed_demo, dispatch_uid="tic-demo")
        from tic import controllers  # registers its controllers with hub.control

        controllers.register_all()

        from hub.selectors.sources import SourceRank, register_source
        from tic.ingest import SOURCE

        register_source(SOURCE, rank=SourceRank.METER, label="Compteur TIC (lecture directe)")
