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
