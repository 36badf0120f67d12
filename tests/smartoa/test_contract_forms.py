"""Contracts created and edited in the portal by an organisation's admin; the token write-only.

Seed (webinar EDF OA): « 1 contrat = 1 compte »; the contract holder « peut générer un token de
connexion […] ce token sera le mot de passe de connexion pour l'API ».
"""

from __future__ import annotations

import pytest
from django.test import Client

from hub.models import AuditEvent, MeteringPoint, Site
from smartoa import simulator
from smartoa.models import Contract
from tests.conftest import Tenant
from tests.hub.test_portal_support import sign_in

from .conftest import CONTRACT_ID

NEW = "/smartoa/new-contract/"
EDIT = f"/smartoa/contracts/{CONTRACT_ID}/edit/"
SECRET = "upstream-token-not-to-be-shown"


def _form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "contract_id": "BOA-2025-000777",
        "label": "Centrale du Causse",
        "account_id": "",
        "auth_scheme": "bearer",
        "api_token": SECRET,
        "poll_interval": 300,
        "enabled": "on",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_contract_audited_without_its_token(client: Client, tenant: Tenant) -> None:
    point = MeteringPoint.objects.create(
        organisation=tenant.organisation, kind="oa_site", identifier="BOA-2025-000777"
    )
    sign_in(client, tenant.admin)
    assert "Nouveau contrat" in client.get("/smartoa/contracts/").content.decode()
    response = client.post(NEW, _form(metering_point=point.pk))
    assert response.status_code == 302
    contract = Contract.objects.get(organisation=tenant.organisation)
    assert (contract.contract_id, contract.account_id) == ("BOA-2025-000777", "BOA-2025-000777")
    assert contract.api_token == SECRET and contract.metering_point == point
    event = AuditEvent.objects.get(action="smartoa.contract.created")
    assert event.actor == tenant.admin
    assert SECRET not in str(event.after) and SECRET not in str(event.before)
    # Never shown back: not on the contract page, not in the edit form.
    for url in (response["Location"], f"/smartoa/contracts/{contract.contract_id}/edit/"):
        page = client.get(url)
        assert page.status_code == 200 and SECRET not in page.content.decode()


def test_admin_edits_a_contract_and_a_blank_token_keeps_the_stored_one(
    client: Client, tenant: Tenant, contract: Contract
) -> None:
    site = Site.objects.create(organisation=tenant.organisation, name="Causse")
    sign_in(client, tenant.admin)
    assert client.get(EDIT).status_code == 200
    data = _form(label="Renommée", api_token="", poll_interval=600, site=site.pk)
    del data["contract_id"]
    data.pop("enabled")  # unchecked: polling suspended
    assert client.post(EDIT, data).status_code == 302
    contract.refresh_from_db()
    assert (contract.label, contract.poll_interval, contract.enabled) == ("Renommée", 600, False)
    assert contract.site == site
    assert contract.api_token == simulator.token_for(CONTRACT_ID)  # kept
    event = AuditEvent.objects.get(action="smartoa.contract.changed")
    assert event.before["label"] == "" and event.after["label"] == "Renommée"
    assert event.after["api_token_changed"] is False

    data["api_token"] = "rotated-token"
    assert client.post(EDIT, data).status_code == 302
    contract.refresh_from_db()
    assert contract.api_token == "rotated-token"
    last = AuditEvent.objects.filter(action="smartoa.contract.changed").latest("at", "id")
    assert last.after["api_token_changed"] is True and "rotated-token" not in str(last.after)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"contract_id": "!"}, "contract_id"),
        ({"api_token": ""}, "api_token"),
        ({"poll_interval": 10}, "poll_interval"),
        ({"poll_interval": "9" * 30}, "poll_interval"),
        ({"auth_scheme": "cookie"}, "auth_scheme"),
        ({"contract_id": CONTRACT_ID}, "contract_id"),  # already one of the organisation's
    ],
)
def test_bad_contract_is_400_naming_the_field(
    client: Client, tenant: Tenant, contract: Contract, overrides, field
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tenant.admin)
    response = client.post(NEW, _form(**overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert SECRET not in response.content.decode()  # the typed token is not echoed
    assert Contract.objects.count() == 1


def test_another_organisations_point_cannot_be_chosen(
    client: Client, tenant: Tenant, foreign: Tenant
) -> None:
    sign_in(client, tenant.admin)
    response = client.post(NEW, _form(metering_point=foreign.point.pk))
    assert response.status_code == 400
    assert "metering_point" in response.context["form"].errors
    assert not Contract.objects.exists()


def test_only_admins_create_or_edit(client: Client, tenant: Tenant, contract: Contract) -> None:
    sign_in(client, tenant.operator)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, _form()).status_code == 403
    assert client.post(EDIT, _form()).status_code == 403
    assert "Nouveau contrat" not in client.get("/smartoa/contracts/").content.decode()


def test_foreign_contract_cannot_be_edited(client: Client, tenant: Tenant, foreign: Tenant) -> None:
    theirs = Contract.objects.create(
        organisation=foreign.organisation, contract_id="BOA-THEIRS", account_id="x", api_token="t"
    )
    sign_in(client, tenant.admin)
    url = f"/smartoa/contracts/{theirs.contract_id}/edit/"
    assert client.get(url).status_code == 404
    assert client.post(url, _form()).status_code == 404
