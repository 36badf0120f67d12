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
