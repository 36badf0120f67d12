"""``manage.py supplier_signal_poll [--organisation SLUG] [--delivery-point PRM]``: poll now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from flexready.market.client.supplier import SupplierClient
from flexready.market.models import SupplierFeed
from flexready.market.services import supplier


class Command(BaseCommand):
    help = "Poll the supplier price/CO2 signal of every enabled delivery point, or of some."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organisation", help="organisation slug")
        parser.add_argument("--delivery-point", help="PRM (14 digits)")

    def handle(self, *args: Any, **options: Any) -> None:
        feeds = SupplierFeed.objects.select_related("organisation", "metering_point").filter(
            enabled=True
        )
        if options["organisation"]:
            feeds = feeds.filter(organisation__slug=options["organisation"])
        if options["delivery_point"]:
            feeds = feeds.filter(metering_point__identifier=options["delivery_point"])
        if not feeds.exists():
            raise CommandError("no enabled delivery point matches")
        failed = 0
        with SupplierClient() as client:
            for feed in feeds.order_by("pk"):
                result = supplier.poll_feed(feed=feed, now=timezone.now(), client=client)
                line = f"{feed.organisation.slug} {result.delivery_point}: {result.status}"
                line += f" ({result.received} steps, {result.stored} values written)"
                if result.error:
                    failed += 1
                    line += f" — {result.error}"
                self.stdout.write(line)
        if failed:
            raise CommandError(f"{failed} poll(s) not valid")
