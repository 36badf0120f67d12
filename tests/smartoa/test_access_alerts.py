"""Smart OA refusing a contract's polls (401/403): one alert naming the fix, closed by a good poll.

Seed (webinar EDF OA, « Délégation d'accès via IP »): the contract holder « peut indiquer les
adresses IP qu'il autorise à avoir accès aux informations, via API » and « générer un token de
connexion » which « sera le mot de passe de connexion pour l'API »; after a change of delegate:
« suppression des IP autorisées et régénération d'un nouveau token ».
"""

from __future__ import annotations

import httpx
import pytest
from django.core import mail

from hub.models import Notification, PollRun, Severity
from smartoa import simulator
from smartoa.client import SmartOAAccessError, SmartOAClient
from smartoa.models import Contract
from smartoa.polling import poll_contract, poll_contracts
from tests.conftest import Tenant

from .conftest import paris, wsgi_transport

NOW = paris(2025, 9, 22, 8, 0)
LATER = paris(2025, 9, 22, 8, 5)
MUCH_LATER = paris(2025, 9, 22, 8, 10)


def _alerts(contract: Contract):  # type: ignore[no-untyped-def]
    return Notification.objects.filter(source="smartoa", dedupe_key=f"access:{contract.pk}")


def test_revoked_token_raises_one_alert_naming_the_fix_until_a_good_poll(
    tenant: Tenant,
    contract: Contract,
    oa_client: SmartOAClient,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    Contract.objects.filter(pk=contract.pk).update(api_token="revoked-token")
    contract.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        first = poll_contract(contract=contract, now=NOW, client=oa_client)
        second = poll_contract(contract=contract, now=LATER, client=oa_client)
    assert first.outcome == second.outcome == "failed"
    [alert] = _alerts(contract)
    assert alert.severity == Severity.CRITICAL and alert.resolved_at is None
    assert alert.repeats == 1  # the second refusal is counted, not sent again
    assert "HTTP 401" in alert.title and contract.contract_id in alert.title
    assert "nouveau jeton" in alert.body and "Compte Smart OA" in alert.body
    # Critical: the organisation's admins, who hold the upstream token, are mailed once.
    assert len(mail.outbox) == 1 and tenant.admin.email in mail.outbox[0].to

    # The holder regenerated the token and an admin pasted it: the next good poll closes it.
    contract.api_token = simulator.token_for(contract.contract_id)
    contract.save()
    assert poll_contract(contract=contract, now=MUCH_LATER, client=oa_client).outcome == (
        "new_version"
    )
    [alert] = _alerts(contract)
    assert alert.resolved_at == MUCH_LATER


def test_ip_not_allowed_is_shown_decoded_and_names_the_allow_list(
    contract: Contract, sim: simulator.SimulatorState, in_process_wsgi: None
) -> None:
    with SmartOAClient(transport=wsgi_transport(remote_addr="203.0.113.9")) as outside:
        result = poll_contract(contract=contract, now=NOW, client=outside)
    assert result.outcome == "failed"
    # The simulator writes JSON with escaped accents (\u00e9); a person reads « autorisée ».
    assert "Adresse IP non autorisée pour ce contrat" in result.error
    assert "\\u00e9" not in result.error
    run = PollRun.objects.get(target=contract.contract_id)
    assert "autorisée" in run.error
    [alert] = _alerts(contract)
    assert "HTTP 403" in alert.title and "adresse IP" in alert.title
    assert "IP autorisées" in alert.body and "autorisée pour ce contrat" in alert.body


def test_other_failures_raise_no_access_alert(
    contract: Contract, oa_client: SmartOAClient, sim: simulator.SimulatorState
) -> None:
    sim.faults[contract.contract_id] = simulator.SERVER_ERROR
    assert poll_contract(contract=contract, now=NOW, client=oa_client).outcome == "failed"
    assert not _alerts(contract).exists()


def test_alerts_are_per_contract_in_a_batch(
    tenant: Tenant, contract: Contract, oa_client: SmartOAClient
) -> None:
    other = Contract.objects.create(
        organisation=tenant.organisation,
        contract_id="BOA-2025-000043",
        account_id="BOA-2025-000043",
        api_token="wrong",
    )
    contracts = list(Contract.objects.select_related("organisation").order_by("pk"))
    results = poll_contracts(contracts=contracts, now=NOW, client=oa_client, threads=2)
    assert [r.outcome for r in results] == ["new_version", "failed"]
    assert not _alerts(contract).exists()
    assert _alerts(other).filter(resolved_at__isnull=True).count() == 1


def test_error_message_is_decoded_from_any_json_error_body() -> None:
    body = b'{"error": "forbidden", "detail": "Adresse IP non autoris\\u00e9e"}'

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, content=body, headers={"Content-Type": "application/json"})

    client = SmartOAClient(
        base_url="https://smartoa.example", transport=httpx.MockTransport(upstream), retries=0
    )
    with client, pytest.raises(SmartOAAccessError) as caught:
        client.fetch_schedule(credentials=_credentials())
    assert caught.value.status == 403
    assert caught.value.message == "Forbidden — Adresse IP non autorisée — forbidden"


def _credentials():  # type: ignore[no-untyped-def]
    from smartoa.client import Credentials

    return Credentials(account_id="BOA", token="t")
