"""The Content-Security-Policy in a real browser: no violation, and what moved out of inline
handlers (confirmations, the organisation switch) still works."""

from __future__ import annotations

import pytest

from hub.models import Membership, Organisation, Role, User
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.hub.test_portal_support import enrol_totp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_portal_runs_under_its_policy(page) -> None:
    first = Organisation.objects.create(slug="e2e-a", name="Première E2E")
    second = Organisation.objects.create(slug="e2e-b", name="Seconde E2E")
    user = User.objects.create_user("csp@e2e.example", PASSWORD)
    Membership.objects.create(user=user, organisation=first, role=Role.ADMIN)
    Membership.objects.create(user=user, organisation=second, role=Role.ADMIN)
    device = enrol_totp(user)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    sign_in(page, user.email, device)
    assert page.inner_text("#dashboard-title") == "Première E2E"

    # The organisation switch submits on change (data-autosubmit, static/portal/portal.js).
    page.select_option("#organisation-switch", str(second.pk))
    page.wait_for_function("document.getElementById('dashboard-title').innerText === 'Seconde E2E'")

    # A refused confirmation keeps the codes (data-confirm): the page does not change.
    page.goto("/security/")
    remaining = page.inner_text("#recovery-remaining")
    dialogs: list[str] = []

    def dismiss(dialog) -> None:  # type: ignore[no-untyped-def]
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click('button[data-confirm]:has-text("Générer de nouveaux codes")')
    assert dialogs == ["Les codes actuels cesseront de fonctionner. Continuer ?"]
    assert page.url.endswith("/security/")
    assert page.inner_text("#recovery-remaining") == remaining

    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .info")
    assert violations == []
