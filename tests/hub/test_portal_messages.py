"""The portal's flash messages go through gettext and have their English (issue 19, point 3).

"French portal, complete; English available. Every string through gettext with a ``locale/``
catalogue (fr default, en complete)": a message written as a bare literal (« Usage
enregistré. ») shows in French on an English page, so every ``messages.success|info|warning|
error(request, …)`` of a portal view passes gettext's result, or a domain error's reason
(translated where it is raised), never a literal.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from tests.conftest import Tenant
from tests.hub.test_portal_support import sign_in
from tests.hub.test_translations import ROOT, entries

APPS = ("hub", "grdf_access", "smartoa", "flexready", "tic")
LEVELS = {"debug", "info", "success", "warning", "error"}
GETTEXT = {"_", "gettext", "ngettext", "gettext_lazy", "pgettext", "npgettext"}


def view_modules() -> list[Path]:
    found = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts and "messages." in path.read_text(encoding="utf-8"):
                found.append(path)
    return found


def message_arguments(path: Path) -> list[ast.expr]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "messages"
            and node.func.attr in LEVELS
            and len(node.args) >= 2
        ):
            found.append(node.args[1])
    return found


def gettext_call(node: ast.expr) -> ast.Call | None:
    """The gettext call a message is made of: ``_("…")`` or ``_("… %(x)s") % {…}``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        node = node.left
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT:
        return node
    return None


def literal_in(node: ast.expr) -> bool:
    """Whether text is written into the message outside gettext (a literal, an f-string)."""
    if gettext_call(node) is not None:
        return False
    if isinstance(node, ast.Constant | ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return literal_in(node.left) or literal_in(node.right)
    return False


def test_portal_messages_are_found() -> None:
    assert sum(len(message_arguments(p)) for p in view_modules()) > 40


@pytest.mark.parametrize("path", view_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_goes_through_gettext_and_has_its_english(path: Path) -> None:
    english = entries(ROOT / "locale/en/LC_MESSAGES/django.po")
    english |= entries(ROOT / "hub/portal/locale/en/LC_MESSAGES/django.po")
    bare, untranslated = [], []
    for node in message_arguments(path):
        if literal_in(node):
            bare.append(f"line {node.lineno}: {ast.unparse(node)[:80]}")
        call = gettext_call(node)
        if call is None or not call.args or not isinstance(call.args[0], ast.Constant):
            continue
        msgid = call.args[0].value
        if call.func.id == "ngettext":  # type: ignore[attr-defined]
            msgid += "\x00" + call.args[1].value  # type: ignore[attr-defined]
        texts = english.get(msgid)
        if not texts or not all(texts):
            untranslated.append(msgid)
    assert not bare, bare
    assert not untranslated, untranslated


@pytest.mark.django_db
def test_a_vega_message_reads_in_english(client: Client, tenant: Tenant) -> None:
    """One of the messages once written as a French literal, now shown in the reader's language."""
    from grdf_access.vega.models import CatalogueItem, Usage

    item = CatalogueItem.objects.order_by("pk").first()
    assert item is not None, "the VEGA catalogue is seeded by its migration"
    usage = Usage.objects.create(
        organisation=tenant.organisation, item=item, version="1", updated_at=timezone.now()
    )
    sign_in(client, tenant.operator)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post(f"/grdf/vega/usages/{usage.pk}/supprimer/")
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Usage deleted."]
