"""Lift the sign-in lock on an account (by e-mail) and/or an IP address."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from hub.actors import Actor
from hub.portal import lockout


class Command(BaseCommand):
    help = "Lève le verrouillage de connexion d'un compte (adresse e-mail) et/ou d'une adresse IP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", nargs="?", default="", help="adresse e-mail du compte")
        parser.add_argument("--ip", default="", help="adresse IP à déverrouiller aussi")

    def handle(self, *args: Any, email: str, ip: str, **options: Any) -> None:
        if not email and not ip:
            raise CommandError("Donnez une adresse e-mail et/ou --ip.")
        lifted = lockout.unlock(
            email=email or None, ip=ip or None, actor=Actor.system("manage.py unlock_user")
        )
        self.stdout.write(f"{lifted} verrouillage(s) levé(s).")
