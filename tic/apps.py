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
