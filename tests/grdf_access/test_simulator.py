"""The ADICT simulator through the client: rights life cycle, consent enforcement, proofs,
throttling, tokens and the control endpoints."""

# Fixtures come from adict_fixtures by import: their parameters shadow the imported names.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest

from grdf_access import simulator
from grdf_access.client import (
    AccessDeclaration,
    AccessDeniedError,
    AccessModification,
    AdictClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DataType,
    NotFoundError,
    ProofFile,
    ProofLimitError,
    ProofStatus,
    RightState,
    Role,
    ScopeError,
)
from grdf_access.simulator.filecache import SimulatorFileCache
from hub.http import clear_token_cache

from .adict_fixtures import (  # noqa: F401 - fixtures
    NOW,
    PCE,
    PRO_PCE,
    adict,
    make_client,
    no_waits,
    other_adict,
    sim,
    wsgi,
)

TYPES = frozenset({DataType.PUBLISHED, DataType.INFORMATIVE, DataType.CONTRACTUAL})


def declaration(**changes: Any) -> AccessDeclaration:
    fields: dict[str, Any] = {
        "pce": PCE,
        "role": Role.AUTHORISED_SUPPLY,
        "postcode": "75011",
        "consent_start": dt.date(2026, 11, 1),
        "consent_end": dt.date(2027, 10, 31),
        "data_types": TYPES,
        "data_start": dt.date(2026, 1, 1),
        "data_end": dt.date(2027, 10, 31),
        "holder_name": "Camille Dupont",
        "holder_email": "camille@example.fr",
    }
    fields.update(changes)
    return AccessDeclaration(**fields)


def october(client: AdictClient, pce: str = PCE) -> int:
    return len(
        client.informative_consumption(
            pce=pce, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1)
        )
    )


# -- declaration and states ------------------------------------------------------------------


def test_third_party_right_waits_for_the_holder_then_becomes_active(adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration())
    assert right.state is RightState.TO_VALIDATE
    assert right.parcours == "TIERS_DIRECT"
    assert right.raw["code_statut_traitement"] == "0000000002"
    assert right.data_types == TYPES
    with pytest.raises(AccessDeniedError):
        october(adict)
    assert simulator.counters()["outside_consent_by_reason"]["not_active"] == 1

    simulator.validate_right(right.right_id)
    [listed] = adict.list_access_rights()
    assert listed.state is RightState.ACTIVE
    assert october(adict) == 31


def test_unanswered_request_is_refused_after_its_validity(adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration())
    simulator.set_now(NOW + simulator.VALIDATION_DELAY - dt.timedelta(minutes=1))
    assert adict.list_access_rights().items[0].state is RightState.TO_VALIDATE
    simulator.set_now(NOW + simulator.VALIDATION_DELAY)
    [refused] = adict.list_access_rights()
    assert refused.state is RightState.REFUSED
    assert refused.refused_at == (NOW + simulator.VALIDATION_DELAY).astimezone(dt.UTC)
    assert "durée de validité" in refused.refusal_source
    with pytest.raises(simulator.RuleError):
        simulator.validate_right(right.right_id)


def test_holder_may_refuse(adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration())
    simulator.refuse_right(right.right_id)
    assert adict.list_access_rights().items[0].state is RightState.REFUSED


def test_contract_holder_right_is_active_at_once(adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration(role=Role.HOLDER_SUPPLY))
    assert right.state is RightState.ACTIVE
    assert october(adict) == 31


@pytest.mark.parametrize(
    ("changes", "error", "code"),
    [
        ({"pce": "12345"}, BadRequestError, "1000000000"),
        ({"pce": "00000000000000"}, NotFoundError, "1000000006"),
        ({"postcode": simulator.MISMATCH_POSTCODE}, ConflictError, "1000000005"),
        ({"postcode": "7501"}, BadRequestError, "1000000000"),
        ({"consent_start": dt.date(2026, 12, 1)}, BadRequestError, "1000000000"),
        ({"consent_end": dt.date(2026, 11, 1)}, BadRequestError, "1000000000"),
        ({"data_end": dt.date(2028, 1, 1)}, BadRequestError, "1000000000"),
        ({"data_start": None}, BadRequestError, "1000000000"),
        ({"pce": "GI999055"}, ConflictError, "1000000004"),
    ],
)
def test_declaration_rules(
    adict: AdictClient, changes: dict[str, Any], error: type[Exception], code: str
) -> None:
    with pytest.raises(error) as caught:
        adict.declare_access(declaration=declaration(**changes))
    assert caught.value.code == code  # type: ignore[attr-defined]
    assert simulator.counters()["declarations"] == 0


def test_a_second_declaration_conflicts(adict: AdictClient) -> None:
    adict.declare_access(declaration=declaration())
    with pytest.raises(ConflictError, match="attente de la validation"):
        adict.declare_access(declaration=declaration())


def test_rights_are_kept_per_account(adict: AdictClient, other_adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration(role=Role.HOLDER_SUPPLY))
    assert other_adict.list_access_rights().items == ()
    with pytest.raises(AccessDeniedError):
        october(other_adict)
    with pytest.raises(NotFoundError):
        other_adict.revoke_access(right_id=right.right_id)
    assert simulator.counters()["outside_consent_by_reason"]["no_right"] == 1


def test_search_filters_are_cumulative_and_accent_blind(adict: AdictClient) -> None:
    waiting = adict.declare_access(declaration=declaration())
    active = adict.declare_access(declaration=declaration(pce=PRO_PCE, role=Role.HOLDER_SUPPLY))
    assert [r.right_id for r in adict.search_access_rights(states=["a valider"])] == [
        waiting.right_id
    ]
    assert [r.right_id for r in adict.search_access_rights(states=[RightState.ACTIVE])] == [
        active.right_id
    ]
    assert adict.search_access_rights(pces=[PCE], states=["Active"]).items == ()
    assert [r.pce for r in adict.search_access_rights(roles=[Role.HOLDER_SUPPLY])] == [PRO_PCE]


def test_sandbox_rights_are_listed_when_named(adict: AdictClient) -> None:
    assert adict.list_access_rights().items == ()
    [right] = adict.search_access_rights(pces=["09999999932770"])
    assert right.state is RightState.REVOKED
    assert right.revocation_source == "Titulaire"


# -- revocation, RSF modification and termination ---------------------------------------------


def test_third_party_revokes(adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration())
    simulator.validate_right(right.right_id)
    result = adict.revoke_access(right_id=right.right_id)
    assert result.code == "0000000000"
    [revoked] = adict.list_access_rights()
    assert revoked.state is RightState.REVOKED
    assert revoked.revocation_source == "Tiers"
    with pytest.raises(ConflictError):
        adict.revoke_access(right_id=right.right_id)
    with pytest.raises(NotFoundError):
        adict.revoke_access(right_id="a2b0c7f4-0000-0000-0000-000000000000")
    with pytest.raises(AccessDeniedError):
        october(adict)


def test_holder_revocation_answers_its_own_code(adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration(role=Role.HOLDER_SUPPLY))
    simulator.revoke_by_holder(right.right_id)
    with pytest.raises(AccessDeniedError) as caught:
        october(adict)
    assert caught.value.code == "1000014"


def test_obsolete_right_gives_no_data(adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration(role=Role.HOLDER_SUPPLY))
    simulator.make_obsolete(right.right_id)
    assert adict.list_access_rights().items[0].state is RightState.OBSOLETE
    with pytest.raises(AccessDeniedError):
        october(adict)


def test_rsf_narrowing_keeps_the_state_widening_asks_the_holder_again(adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration())
    simulator.validate_right(right.right_id)
    narrowed = adict.modify_access(
        right_id=right.right_id,
        modification=AccessModification(data_types=frozenset({DataType.INFORMATIVE})),
    )
    assert narrowed.state is RightState.ACTIVE
    assert narrowed.data_types == {DataType.INFORMATIVE}
    with pytest.raises(ScopeError):
        adict.published_consumption(pce=PCE, start=dt.date(2026, 9, 1), end=dt.date(2026, 10, 1))
    widened = adict.modify_access(
        right_id=right.right_id,
        modification=AccessModification(
            data_types=frozenset({DataType.INFORMATIVE, DataType.INFORMATIVE_HOURLY})
        ),
    )
    assert widened.state is RightState.TO_VALIDATE
    with pytest.raises(BadRequestError):
        adict.modify_access(
            right_id=right.right_id,
            modification=AccessModification(data_end=dt.date(2030, 1, 1)),
        )


def test_rsf_termination(adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration(role=Role.HOLDER_SUPPLY))
    assert adict.terminate_access(right_id=right.right_id).code == "0000000000"
    [terminated] = adict.list_access_rights()
    assert terminated.state is RightState.TERMINATED
    assert terminated.terminated_at == NOW.astimezone(dt.UTC)
    with pytest.raises(ConflictError):
        adict.terminate_access(right_id=right.right_id)
    with pytest.raises(AccessDeniedError):
        october(adict)


def test_rsf_mass_declaration_answers_each_line(adict: AdictClient) -> None:
    result = adict.declare_access_bulk(
        declarations=[
            declaration(),
            declaration(pce=PRO_PCE, postcode=simulator.MISMATCH_POSTCODE),
            declaration(pce="GI222222", role=Role.HOLDER_SUPPLY),
        ]
    )
    assert [item.pce for item in result.items] == [PCE, PRO_PCE, "GI222222"]
    assert [r.state for r in result.declared] == [RightState.TO_VALIDATE, RightState.ACTIVE]
    [failed] = result.failed
    assert isinstance(failed.error, ConflictError) and failed.error.code == "1000000005"
    assert len(adict.list_access_rights()) == 2


# -- consent enforcement -----------------------------------------------------------------------


def test_requests_inside_consent_are_not_counted_as_outside(adict: AdictClient) -> None:
    adict.declare_access(declaration=declaration(role=Role.HOLDER_SUPPLY))
    october(adict)
    adict.contractual_data(pce=PCE)
    counters = simulator.counters()
    assert counters["data_requests"] == 2
    assert counters["outside_consent"] == 0


def test_every_kind_of_request_outside_consent_is_refused_and_counted(adict: AdictClient) -> None:
    adict.declare_access(declaration=declaration(role=Role.HOLDER_SUPPLY))
    with pytest.raises(ScopeError):  # technical data not granted
        adict.technical_data(pce=PCE)
    with pytest.raises(ScopeError):  # hourly data not granted
        adict.hourly_consumption(pce=PCE, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 2))
    with pytest.raises(ScopeError):  # before the data range
        adict.informative_consumption(pce=PCE, start=dt.date(2025, 12, 31), end=dt.date(2026, 1, 2))
    with pytest.raises(AccessDeniedError):  # no right on that PCE
        adict.informative_consumption(
            pce=PRO_PCE, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 2)
        )
    simulator.set_now(dt.datetime(2027, 11, 2, 10, tzinfo=dt.UTC))
    with pytest.raises(AccessDeniedError):  # consent is over
        october(adict)
    counters = simulator.counters()
    assert counters["outside_consent"] == 5
    assert counters["outside_consent_by_reason"] == {
        "no_right": 1,
        "not_active": 0,
        "type_not_granted": 2,
        "outside_consent_dates": 1,
        "outside_data_range": 1,
    }
    assert [e["pce"] for e in counters["outside_consent_log"]][-2:] == [PRO_PCE, PCE]


def test_a_day_outside_the_data_range_is_refused_and_counted(adict: AdictClient) -> None:
    """Reference grdf-adict.md §1.3: "date_debut < date_fin; date_fin ≤ today"; §1.4: the
    right's window is perim_donnees_conso_debut/_fin ("fin ≤ date_fin_droit_acces"). A call
    whose date_fin passes perim_donnees_conso_fin, or whose date_debut precedes
    perim_donnees_conso_debut, asks for a day outside the consent: GRDF refuses it."""
    adict.declare_access(
        declaration=declaration(
            role=Role.HOLDER_SUPPLY, data_start=dt.date(2026, 10, 1), data_end=dt.date(2026, 10, 31)
        )
    )
    inside = adict.informative_consumption(
        pce=PCE, start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 31)
    )
    assert len(inside) == 30  # gas days [date_debut, date_fin)
    assert simulator.counters()["outside_consent"] == 0
    with pytest.raises(ScopeError):  # one day past perim_donnees_conso_fin
        adict.informative_consumption(pce=PCE, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1))
    with pytest.raises(ScopeError):  # one day before perim_donnees_conso_debut
        adict.informative_consumption(
            pce=PCE, start=dt.date(2026, 9, 30), end=dt.date(2026, 10, 31)
        )
    with pytest.raises(ScopeError):
        adict.published_consumption(pce=PCE, start=dt.date(2026, 10, 1), end=dt.date(2026, 11, 1))
    counters = simulator.counters()
    assert counters["outside_consent"] == 3
    assert counters["outside_consent_by_reason"]["outside_data_range"] == 3


def test_bad_parameters_are_400s(adict: AdictClient) -> None:
    adict.declare_access(declaration=declaration(role=Role.HOLDER_SUPPLY))
    with pytest.raises(BadRequestError) as caught:
        adict.informative_consumption(
            pce=PCE, start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 30)
        )
    assert caught.value.code == "1000007"  # date_fin after today
    with pytest.raises(BadRequestError):
        adict.informative_consumption(pce=PCE, start=dt.date(2026, 10, 2), end=dt.date(2026, 10, 1))
    with pytest.raises(BadRequestError):
        adict.informative_consumption(pce=PCE, start=dt.date(2023, 11, 1), end=dt.date(2023, 12, 1))
    with pytest.raises(BadRequestError) as caught:
        adict.informative_consumption(
            pce="PCE-1", start=dt.date(2026, 10, 1), end=dt.date(2026, 10, 2)
        )
    assert caught.value.code == "1000005"
    assert simulator.counters()["outside_consent"] == 0


# -- proofs ------------------------------------------------------------------------------------


def test_proofs_only_when_asked_and_within_limits(adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration(role=Role.HOLDER_SUPPLY))
    pdf = ProofFile("consentement.pdf", b"%PDF-1.7 signed")
    with pytest.raises(ConflictError, match="ne demande pas de preuve"):
        adict.upload_proofs(right_id=right.right_id, files=[pdf])

    simulator.request_proofs(right.right_id)
    [asked] = adict.search_access_rights(proof_statuses=[ProofStatus.PENDING])
    assert asked.proof_deadline == dt.date(2026, 12, 7)
    with pytest.raises(ProofLimitError):
        adict.upload_proofs(right_id=right.right_id, files=[pdf] * 4)
    with pytest.raises(BadRequestError, match="au maximum 3"):
        adict.upload_proofs(right_id=right.right_id, files=[pdf] * 4, check_limits=False)
    big = ProofFile("scan.pdf", b"x" * (4 * 1024 * 1024 + 1))
    with pytest.raises(BadRequestError, match="4Mo"):
        adict.upload_proofs(right_id=right.right_id, files=[big], check_limits=False)
    with pytest.raises(BadRequestError, match="format"):
        adict.upload_proofs(
            right_id=right.right_id, files=[ProofFile("a.exe", b"MZ", "application/x-msdownload")]
        )
    assert simulator.counters()["proof_uploads"] == 0

    exactly_4mb = ProofFile("limite.pdf", b"x" * (4 * 1024 * 1024))
    result = adict.upload_proofs(right_id=right.right_id, files=[pdf, pdf, exactly_4mb])
    assert result.code == "0000000000"
    stored = simulator.get_right(right.right_id)
    assert stored is not None
    assert [p["taille"] for p in stored["_proofs"]] == [15, 15, 4 * 1024 * 1024]
    assert adict.list_access_rights().items[0].proof_status is ProofStatus.CHECKING
    simulator.settle_proofs(right.right_id, accepted=False)
    assert adict.list_access_rights().items[0].proof_status is ProofStatus.KO


# -- throttling and tokens -----------------------------------------------------------------------


def test_429_with_retry_after_is_waited_then_retried(
    adict: AdictClient, no_waits: list[float]
) -> None:
    simulator.set_throttle(count=2, retry_after=7)
    assert adict.list_access_rights().items == ()
    assert no_waits == [7.0, 7.0]
    assert simulator.counters()["throttled"] == 2


def test_wrong_secret_or_scope_is_refused(sim: None, in_process_wsgi: None) -> None:
    with (
        make_client(client_id="x", client_secret="wrong") as client,
        pytest.raises(AuthenticationError),
    ):
        client.list_access_rights()
    with make_client(scope="/adict/v1") as client, pytest.raises(AuthenticationError):
        client.list_access_rights()


def test_token_endpoint_takes_the_credentials_in_the_form_body(
    sim: None, in_process_wsgi: None
) -> None:
    """Reference grdf-adict.md §1.2: "POST form-urlencoded: grant_type=client_credentials,
    client_id, client_secret, scope=<api path>". The same credentials in a Basic header are
    refused as invalid_client, and the client's error says which setting to change."""
    with make_client() as client:
        assert client.list_access_rights().items == ()
    clear_token_cache()
    with make_client(auth_method="basic") as client, pytest.raises(AuthenticationError) as caught:
        client.list_access_rights()
    assert "GRDF_TOKEN_AUTH_METHOD=post" in str(caught.value)


def sim_http() -> httpx.Client:
    """Plain HTTP to the simulator in-process (not Django's test client, which reconnects the
    connection-closing signal that ``in_process_wsgi`` unhooked)."""
    return httpx.Client(transport=wsgi(), base_url="http://127.0.0.1:8000/sim/grdf")


def test_a_forged_token_is_refused(sim: None, in_process_wsgi: None) -> None:
    token = simulator.token_for("x")
    # Another MAC: the real one ends in "00" once in 256 runs (CI met it).
    forged = token[:-2] + ("11" if token.endswith("00") else "00")
    with sim_http() as http:
        answer = http.get("/adict/v2/droits_acces", headers={"Authorization": f"Bearer {forged}"})
        assert answer.status_code == 401
        valid = {"Authorization": f"Bearer {simulator.token_for('x')}"}
        assert http.get("/adict/v2/droits_acces", headers=valid).status_code == 200


# -- control endpoints ---------------------------------------------------------------------------


def test_control_endpoints(adict: AdictClient) -> None:
    right = adict.declare_access(declaration=declaration())
    with sim_http() as http:
        answer = http.post(f"/_sim/droit_acces/{right.right_id}/valider")
        assert answer.status_code == 200
        assert answer.json()["etat_droit_acces"] == "Active"
        assert http.post(f"/_sim/droit_acces/{right.right_id}/valider").status_code == 409
        assert http.post(f"/_sim/droit_acces/{right.right_id}/nimportequoi").status_code == 405
        assert http.get("/_sim/droit_acces/unknown").status_code == 404

        october(adict)
        counters = http.get("/_sim/counters").json()
        assert counters["data_requests"] == 1 and counters["outside_consent"] == 0

        later = {"now": "2027-01-05T10:00:00+01:00"}
        assert http.post("/_sim/clock", json=later).json() == {"now": "2027-01-05T09:00:00+00:00"}
        assert http.post("/_sim/clock", json={"now": "demain"}).status_code == 400
        assert http.post("/_sim/throttle", json={"count": 1, "retry_after": 3}).status_code == 200
        assert http.post("/_sim/faults/GI123456", json={"kind": "bad"}).status_code == 400

        assert http.post("/_sim/reset").status_code == 200
    assert simulator.counters()["data_requests"] == 0
    assert simulator.get_right(right.right_id) is None


def test_search_over_a_thousand_pces_is_split(adict: AdictClient) -> None:
    pces = [f"0{i:013d}" for i in range(1, 1202)]
    simulator.seed_rights(
        client_id="hub-simulator",
        pces=pces,
        data_start=dt.date(2026, 1, 1),
        data_end=dt.date(2027, 1, 1),
        consent_start=dt.date(2026, 1, 1),
        consent_end=dt.date(2027, 1, 1),
    )
    found = adict.search_access_rights(pces=pces, states=[RightState.ACTIVE])
    assert sorted(r.pce for r in found) == pces
    calls_before = simulator.counters()["requests"]
    adict.search_access_rights(pces=pces[:1000])
    assert simulator.counters()["requests"] == calls_before + 1


def test_the_simulator_file_cache_never_drops_a_right(tmp_path: Path) -> None:
    store = SimulatorFileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 2}})
    for i in range(5):
        store.set(f"right:{i}", {"id": i}, timeout=60)
    assert [store.get(f"right:{i}") for i in range(5)] == [{"id": i} for i in range(5)]
