import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from hub.actors import Actor
from hub.models import Organisation
from hub.services.tokens import SCOPES, TokenSpecError, create_token


class Command(BaseCommand):
    help = "Create an API token for an organisation and print it once (only its hash is kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--allow",
            action="append",
            default=[],
            metavar="CIDR",
            help="allowed network (repeatable); none means any address",
        )
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            choices=SCOPES,
            help="scope (repeatable); none means read and write",
        )
        parser.add_argument("--expires-in-days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug {options['org']!r}.")
        days = options["expires_in_days"]
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        try:
            issued = create_token(
                organisation=organisation,
                name=options["name"],
                allowed_networks=options["allow"],
                scopes=options["scope"],
                expires_at=expires_at,
                actor=Actor.system("manage.py create_api_token"),
            )
        except TokenSpecError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(issued.plaintext)
        self.stderr.write("Store this token now: it will not be shown again.")
