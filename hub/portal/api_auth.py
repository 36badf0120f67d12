"""DRF session authentication that, like the portal, wants the second factor too."""

from __future__ import annotations

from typing import Any

from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request

from hub.portal.access import is_verified


class VerifiedSessionAuthentication(SessionAuthentication):
    """A browser session counts for the API only once verified by a second factor.

    DRF's own ``SessionAuthentication`` accepts a session that only passed the password step,
    which would open the API (and its browsable pages) with a single factor.
    """

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        result = super().authenticate(request)
        if result is None or not is_verified(result[0]):
            return None
        return result
