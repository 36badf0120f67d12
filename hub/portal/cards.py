"""The dashboard's cards: each app adds its state at a glance from ``ready``; hub imports none.

A card is a context callable and a template, like a site panel (``hub.portal.panels``) but for
the whole organisation: ``context(organisation=, now=)`` returns the template's context, or
``None`` when the app has nothing to show (the card is then left out). A card that raises is
logged and shown as unavailable; the dashboard still renders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from hub.models import Organisation

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Card:
    key: str
    title: str | Promise
    order: int
    context: Callable[..., Mapping[str, Any] | None]
    template: str


@dataclass(frozen=True)
class RenderedCard:
    key: str
    title: str
    html: str = ""
    failed: bool = False


_CARDS: dict[str, Card] = {}


def register(
    *,
    key: str,
    title: str | Promise,
    order: int,
    context: Callable[..., Mapping[str, Any] | None],
    template: str,
) -> Card:
    card = Card(key, title, order, context, template)
    _CARDS[key] = card
    return card


def render_cards(
    *, organisation: Organisation, now: dt.datetime, request: HttpRequest | None = None
) -> list[RenderedCard]:
    """The cards that have something to show for ``organisation``, in their order."""
    rendered = []
    for card in sorted(_CARDS.values(), key=lambda c: (c.order, c.key)):
        try:
            context = card.context(organisation=organisation, now=now)
            if context is None:
                continue
            html = render_to_string(card.template, {**context, "now": now}, request=request)
        except Exception as exc:
            # Why broad: a card's dependency may fail in any way; the dashboard must still show.
            log.exception("dashboard_card_failed", card=card.key, error=type(exc).__name__)
            message = _("Ce cadre est indisponible pour le moment ; réessayez plus tard.")
            rendered.append(RenderedCard(card.key, str(card.title), message, failed=True))
            continue
        rendered.append(RenderedCard(card.key, str(card.title), html))
    return rendered
