from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from hub.clock import local_day_of
from hub.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create (or complete) the demo organisation, its user and sample data. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        seed = seed_demo(today=local_day_of(timezone.now()))
        self.stdout.write(
            f"Organisation « {seed.organisation.name} » ({seed.organisation.slug}) ready."
        )
        if seed.user_created:
            self.stdout.write(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
        else:
            self.stdout.write(f"Demo login: {DEMO_EMAIL} (password unchanged)")
