from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from hub.clock import local_day_of
from hub.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo

CONFIRM_FLAG = "--i-know-this-is-not-production"


class Command(BaseCommand):
    help = (
        "Create (or complete) the demo organisation, its user and sample data. Idempotent. "
        f"Refuses to run with DEBUG off unless {CONFIRM_FLAG} is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            CONFIRM_FLAG,
            action="store_true",
            dest="not_production",
            help="run although DEBUG is off (a staging copy, never production)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo superuser's password is published in the README: with it alone anyone
        # could enrol a second factor and own the hub.
        if not settings.DEBUG and not options["not_production"]:
            raise CommandError(
                "DEBUG is off: this looks like production, and the demo creates a superuser "
                f"whose password is public. Pass {CONFIRM_FLAG} if it is not production."
            )
        seed = seed_demo(today=local_day_of(timezone.now()))
        self.stdout.write(
            f"Organisation « {seed.organisation.name} » ({seed.organisation.slug}) ready."
        )
        if seed.user_created:
            self.stdout.write(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}")
        else:
            self.stdout.write(f"Demo login: {DEMO_EMAIL} (password unchanged)")
