from django.apps import AppConfig


class FlexreadyConfig(AppConfig):
    name = "flexready"
    verbose_name = "Flex Ready"
    default_auto_field = "django.db.models.BigAutoField"
