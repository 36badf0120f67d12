from django.apps import AppConfig


class GrdfAccessConfig(AppConfig):
    name = "grdf_access"
    verbose_name = "GRDF — accès aux données"
    default_auto_field = "django.db.models.BigAutoField"
