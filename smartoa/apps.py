from django.apps import AppConfig


class SmartoaConfig(AppConfig):
    name = "smartoa"
    verbose_name = "EDF OA — Smart OA"
    default_auto_field = "django.db.models.BigAutoField"
