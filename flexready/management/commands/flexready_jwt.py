"""Mint an HS256 JWT with the configured issuer and secret (demo and tests of other BACS)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone


def mint(*, subject: str, now: dt.datetime, lifetime: dt.timedelta, secret: str = "") -> str:
    key = secret or settings.FLEXREADY_JWT_HS256_SECRET
    if not key:
        raise ValueError("FLEXREADY_JWT_HS256_SECRET is not set")
    claims: dict[str, Any] = {
        "iss": settings.FLEXREADY_JWT_ISSUER,
        "sub": subject,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    if settings.FLEXREADY_JWT_AUDIENCE:
        claims["aud"] = settings.FLEXREADY_JWT_AUDIENCE
    return jwt.encode(claims, key, algorithm="HS256")


class Command(BaseCommand):
    help = "Print an HS256 JWT for the Flex Ready operator API."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--subject", default="operator")
        parser.add_argument("--hours", type=int, default=12)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            token = mint(
                subject=options["subject"],
                now=timezone.now(),
                lifetime=dt.timedelta(hours=options["hours"]),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(token)
