"""The portal's menu, built from the entries hub and the apps register from their ``ready``."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise

from hub.models import Membership, Role


@dataclass(frozen=True)
class MenuEntry:
    key: str
    label: str | Promise
    url_name: str
    order: int
    # The least role that sees the entry; ``staff`` entries need Django's staff flag as well.
    role: Role = Role.VIEWER
    staff: bool = False


@dataclass(frozen=True)
class MenuLink:
    key: str
    label: str | Promise
    url: str


class DuplicateMenuEntry(Exception):
    """Two different entries registered under one key."""


_ENTRIES: dict[str, MenuEntry] = {}


def register(
    *,
    key: str,
    label: str | Promise,
    url_name: str,
    order: int,
    role: Role = Role.VIEWER,
    staff: bool = False,
) -> MenuEntry:
    entry = MenuEntry(key, label, url_name, order, role, staff)
    existing = _ENTRIES.get(key)
    # ready() may run twice in one process (tests): the same entry again is not a clash.
    if existing is not None and existing != entry:
        raise DuplicateMenuEntry(key)
    _ENTRIES[key] = entry
    return entry


def unregister(key: str) -> None:
    _ENTRIES.pop(key, None)


def entries() -> list[MenuEntry]:
    return sorted(_ENTRIES.values(), key=lambda e: (e.order, e.key))


def links(*, membership: Membership | None, is_staff: bool) -> list[MenuLink]:
    """The entries ``membership`` may open, in order, with their URLs."""
    if membership is None:
        return []
    shown = []
    for entry in entries():
        if not membership.allows(entry.role) or (entry.staff and not is_staff):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            # An app whose URLs are not mounted here (a trimmed deployment) has no menu entry.
            continue
        shown.append(MenuLink(entry.key, entry.label, url))
    return shown
