from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from hub.fields import EncryptedTextField


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field with the newest key of FIELD_ENCRYPTION_KEYS. "
        "Run it after putting a new key first; then the old keys can be removed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = [
                f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
            ]
            if not fields:
                continue
            with transaction.atomic():
                # Reading decrypts with whichever key fits; writing encrypts with the newest.
                for row in model._default_manager.select_for_update().only("pk", *fields):
                    model._default_manager.filter(pk=row.pk).update(
                        **{name: getattr(row, name) for name in fields}
                    )
                    total += 1
            self.stdout.write(f"{model._meta.label}: {', '.join(fields)} re-encrypted")
        self.stdout.write(f"{total} rows re-encrypted.")
