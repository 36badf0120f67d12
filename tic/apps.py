from django.apps import AppConfig


class TicConfig(AppConfig):
    name = "tic"
    verbose_name = "Télé-information client"
    default_auto_field = "django.db.models.BigAutoField"
