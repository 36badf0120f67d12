"""The site view's panels: each app contributes one from its ``ready``; hub imports no app.

A panel is a context callable and a template. The callable gets the site (already scoped to
the caller's organisation), the site's metering points and ``now``; it returns the template's
context, or ``None`` when its app has nothing for the site. A panel that raises (its
dependency down, a bug) is shown as unavailable and logged; the rest of the page still renders.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.functional import Promise
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from hub.models import MeteringPoint, Site

log = structlog.get_logger(__name__)

PanelContext = Callable[..., Mapping[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    key: str
    title: str | Promise
    order: int
    context: PanelContext
    template: str
    # Shown when ``context`` returns None.
    empty: str | Promise = ""


class PanelState(enum.StrEnum):
    OK = "ok"
    EMPTY = "empty"
    FAILED = "failed"


@dataclass(frozen=True)
class RenderedPanel:
    key: str
    title: str
    state: PanelState
    html: str = ""
    message: str = ""


class DuplicatePanel(Exception):
    """Two different panels registered under one key."""


_PANELS: dict[str, Panel] = {}


def register(
    *,
    key: str,
    title: str | Promise,
    order: int,
    context: PanelContext,
    template: str,
    empty: str | Promise = "",
) -> Panel:
    panel = Panel(key, title, order, context, template, empty)
    existing = _PANELS.get(key)
    if existing is not None and existing != panel:
        raise DuplicatePanel(key)
    _PANELS[key] = panel
    return panel


def unregister(key: str) -> None:
    _PANELS.pop(key, None)


def registered() -> list[Panel]:
    return sorted(_PANELS.values(), key=lambda p: (p.order, p.key))


def render_panels(
    *,
    site: Site,
    points: Sequence[MeteringPoint],
    now: dt.datetime,
    request: HttpRequest | None = None,
) -> list[RenderedPanel]:
    """Every registered panel for ``site``, each rendered on its own: one failure stays local."""
    return [
        _render(panel, site=site, points=points, now=now, request=request) for panel in registered()
    ]


def _render(
    panel: Panel,
    *,
    site: Site,
    points: Sequence[MeteringPoint],
    now: dt.datetime,
    request: HttpRequest | None,
) -> RenderedPanel:
    title = str(panel.title)
    try:
        context = panel.context(site=site, points=points, now=now)
        if context is None:
            message = str(panel.empty) or _("Rien pour ce site.")
            return RenderedPanel(panel.key, title, PanelState.EMPTY, message=message)
        html = render_to_string(
            panel.template, {**context, "site": site, "now": now}, request=request
        )
    except Exception as exc:
        # Why broad: a panel's dependency (a database table, a cache, a provider) may fail in
        # any way; the page must still show the other channels of the site.
        log.exception("site_panel_failed", panel=panel.key, site=site.pk, error=type(exc).__name__)
        return RenderedPanel(
            panel.key,
            title,
            PanelState.FAILED,
            message=_("Ce panneau est indisponible pour le moment ; réessayez plus tard."),
        )
    return RenderedPanel(panel.key, title, PanelState.OK, html=html)
