"""The ADICT client against a mock transport: parsing, normalisation, typed errors, rate limit."""

# Fixtures come from adict_fixtures by import: their parameters shadow the imported names.
# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from grdf_access import client as adict
from grdf_access.client import (
    AccessDeclaration,
    AccessDeniedError,
    AdictClient,
    AdictResponseError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    DataType,
    NoDataError,
    NotFoundError,
    ProofFile,
    ProofLimitError,
    RateLimiter,
    RetryableError,
    RightState,
    Role,
    ScopeError,
    TechnicalError,
    normalise_proof_status,
    normalise_state,
    parse_bool,
    rate_limiter_for,
)
from hub.http import ProviderError, clear_token_cache

from .adict_fixtures import no_waits  # noqa: F401 - autouse: records the retry waits

BASE = "https://grdf.test/adict/v2"
TOKEN_URL = "https://grdf.test/token"
STATUS_OK = {"code_statut_traitement": "0000000000", "message_retour_traitement": "OK"}

Handler = Callable[[httpx.Request], httpx.Response]


def ndjson(*lines: Any) -> httpx.Response:
    body = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    return httpx.Response(
        200, content=body.encode(), headers={"Content-Type": "application/x-ndjson"}
    )


class Recorder:
    """A mock GRDF: answers the token call, hands every API call to ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.calls: list[httpx.Request] = []
        self.token_calls: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            self.token_calls.append(request)
            return httpx.Response(
                200, json={"access_token": "t0k", "token_type": "Bearer", "expires_in": 14400}
            )
        self.calls.append(request)
        return self.handler(request)


@pytest.fixture(autouse=True)
def _tokens() -> Iterator[None]:
    clear_token_cache()
    yield
    clear_token_cache()


def make(handler: Handler, **kwargs: Any) -> tuple[AdictClient, Recorder]:
    recorder = Recorder(handler)
    options: dict[str, Any] = {
        "base_url": BASE,
        "token_url": TOKEN_URL,
        "client_id": "unit",
        "client_secret": "s3cret",
        "scope": "/adict/v2",
        "transport": httpx.MockTransport(recorder),
        "rate_limiter": RateLimiter(10_000, burst=10_000),
    }
    options.update(kwargs)
    return AdictClient(**options), recorder


def record(
    day: str, *, code: str | None = None, message: str = "", **consumption: Any
) -> dict[str, Any]:
    next_day = dt.date.fromisoformat(day) + dt.timedelta(days=1)
    body = {
        "date_debut_consommation": f"{day}T06:00:00+01:00",
        "date_fin_consommation": f"{next_day}T06:00:00+01:00",
        "volume_brut": 1,
        "energie": 8,
        "coeff_calcul": {"coeff_pta": 1, "valeur_pcs": "11.16", "coeff_conversion": 11.16},
        "type_qualif_conso": "Mesuré",
        "statut_conso": "Provisoire",
        "journee_gaziere": day,
        "type_conso": "Informative journalier",
        **consumption,
    }
    return {
        "pce": {"id_pce": "GI999150"},
        "periode": {"date_debut": day, "date_fin": day},
        "consommation": body,
        "statut_restitution": {"code": code, "message": message} if code else None,
    }


# -- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("Active", RightState.ACTIVE),
        ("actif", RightState.ACTIVE),
        ("A valider", RightState.TO_VALIDATE),
        ("À valider", RightState.TO_VALIDATE),
        ("  a   VALIDER ", RightState.TO_VALIDATE),
        ("A revérifier", RightState.TO_RECHECK),
        ("A reverifier", RightState.TO_RECHECK),
        ("Refusée", RightState.REFUSED),
        ("Refusee", RightState.REFUSED),
        ("Refusé", RightState.REFUSED),
        ("REVOQUEE", RightState.REVOKED),
        ("Révoqué", RightState.REVOKED),
        ("Obsolète", RightState.OBSOLETE),
        ("obsolete", RightState.OBSOLETE),
        ("Résiliée", RightState.TERMINATED),
    ],
)
def test_states_in_any_spelling(text: str, state: RightState) -> None:
    assert normalise_state(text) is state


def test_unknown_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown access-right state"):
        normalise_state("Suspendue")


def test_proof_statuses() -> None:
    assert normalise_proof_status("preuve verifiee ko") is adict.ProofStatus.KO
    assert normalise_proof_status("Preuve Vérifiée OK") is adict.ProofStatus.OK
    assert normalise_proof_status(None) is None
    assert normalise_proof_status("") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Vrai", True), ("vrai", True), ("FAUX", False), ("Faux", False), (True, True),
     ("Oui", True), ("Non", False), ("false", False), (None, None), ("", None)],
)  # fmt: skip
def test_vrai_faux_booleans(value: object, expected: bool | None) -> None:
    assert parse_bool(value) is expected


def test_a_non_boolean_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_bool("peut-être")


# -- declaration body ------------------------------------------------------------------------


def declaration(**changes: Any) -> AccessDeclaration:
    fields: dict[str, Any] = {
        "pce": "GI999150",
        "role": Role.AUTHORISED_SUPPLY,
        "postcode": "75009",
        "consent_start": dt.date(2026, 11, 1),
        "consent_end": dt.date(2027, 10, 31),
        "data_types": frozenset({DataType.PUBLISHED, DataType.TECHNICAL}),
        "data_start": dt.date(2025, 1, 1),
        "data_end": dt.date(2027, 10, 31),
        "holder_company": "ACME SA",
    }
    fields.update(changes)
    return AccessDeclaration(**fields)


def test_declaration_wire_body_uses_vrai_faux_and_omits_empty_fields() -> None:
    body = declaration().to_wire()
    assert body["perim_donnees_publiees"] == "Vrai"
    assert body["perim_donnees_techniques"] == "Vrai"
    assert body["perim_donnees_informatives"] == "Faux"
    assert body["perim_donnees_contractuelles"] == "Faux"
    assert body["perim_donnees_conso_debut"] == "2025-01-01"
    assert "perim_donnees_inj_debut" not in body
    assert body["raison_sociale"] == "ACME SA"
    assert "nom_titulaire" not in body and "courriel_titulaire" not in body


# Reference grdf-adict.md §1.4, the fields of ADICT v2's demander_acces_in.
ADICT_V2_DECLARATION_FIELDS = frozenset(
    {
        "role_tiers",
        "raison_sociale",
        "nom_titulaire",
        "code_postal",
        "courriel_titulaire",
        "numero_telephone_mobile_titulaire",
        "date_debut_droit_acces",
        "date_fin_droit_acces",
        "perim_donnees_conso_debut",
        "perim_donnees_conso_fin",
        "perim_donnees_inj_debut",
        "perim_donnees_inj_fin",
        "perim_donnees_contractuelles",
        "perim_donnees_techniques",
        "perim_donnees_informatives",
        "perim_donnees_publiees",
    }
)


def test_declaration_sends_only_adict_v2_fields() -> None:
    """Reference grdf-adict.md §1.4: demander_acces_in has role_tiers, raison_sociale or
    nom_titulaire, code_postal, courriel_titulaire, numero_telephone_mobile_titulaire, the
    consent dates, the conso/inj windows and four "perim_donnees_*" flags (contractuelles,
    techniques, informatives, publiees). Nothing else goes to ADICT v2."""
    body = declaration(holder_email="a@b.example", holder_mobile="0699999999").to_wire()
    assert set(body) <= ADICT_V2_DECLARATION_FIELDS
    assert "perim_donnees_informatives_horaires" not in body
    with pytest.raises(BadRequestError, match="RSF"):
        declaration(data_types=frozenset({DataType.INFORMATIVE_HOURLY})).to_wire()


def test_declaration_sends_the_rsf_hourly_scope_only_with_rsf() -> None:
    body = declaration(data_types=frozenset({DataType.INFORMATIVE_HOURLY})).to_wire(rsf=True)
    assert body["perim_donnees_informatives_horaires"] == "Vrai"


def test_the_client_declares_with_the_configured_api_fields(settings: Any) -> None:
    """§1.4 as sent on the wire: with ADICT v2 alone (the default) no RSF field."""
    answer = {"id_droit_acces": "r-1", "id_pce": "GI999150", "etat_droit_acces": "A valider"}
    client, recorder = make(lambda request: httpx.Response(201, json=answer))
    client.declare_access(declaration=declaration())
    [call] = recorder.calls
    assert set(json.loads(call.content)) <= ADICT_V2_DECLARATION_FIELDS
    settings.GRDF_RSF = True
    client, recorder = make(lambda request: httpx.Response(201, json=answer))
    client.declare_access(declaration=declaration())
    [call] = recorder.calls
    assert json.loads(call.content)["perim_donnees_informatives_horaires"] == "Faux"


def test_injection_role_sends_the_injection_window() -> None:
    body = declaration(role=Role.AUTHORISED_INJECTION).to_wire()
    assert body["perim_donnees_inj_fin"] == "2027-10-31"
    assert "perim_donnees_conso_fin" not in body


@pytest.mark.parametrize("holders", [{"holder_name": "Dupont"}, {"holder_company": ""}])
def test_exactly_one_holder_identity(holders: dict[str, str]) -> None:
    with pytest.raises(BadRequestError, match="exactly one"):
        declaration(**holders).to_wire()


# -- parsing answers -------------------------------------------------------------------------


def test_rights_listing_normalises_and_filters_the_status_line() -> None:
    right = {
        "id_droit_acces": "6c1f",
        "id_pce": "GI999150",
        "role_tiers": "AUTORISE_CONTRAT_FOURNITURE",
        "etat_droit_acces": "À valider",
        "perim_donnees_publiees": "vrai",
        "perim_donnees_informatives": "Faux",
        "perim_donnees_techniques:": "Vrai",  # LOWATT's fixture typo (ref §1.5)
        "date_creation": "2026-03-29 02:30:00",
        "date_debut_droit_acces": "2026-01-01",
        "statut_controle_preuve": "Preuve en attente",
        "parcours": "TIERS_DIRECT",
    }
    client, recorder = make(lambda request: ndjson(right, STATUS_OK))
    [parsed] = client.list_access_rights()
    assert parsed.state is RightState.TO_VALIDATE
    assert parsed.state_label == "À valider"
    assert parsed.data_types == {DataType.PUBLISHED, DataType.TECHNICAL}
    assert parsed.proof_status is adict.ProofStatus.PENDING
    # 02:30 does not exist in Paris that night; it is read with the winter offset, in UTC.
    assert parsed.created_at is not None and parsed.created_at.tzinfo is dt.UTC
    assert recorder.calls[0].headers["Authorization"] == "Bearer t0k"


def test_search_sends_cumulative_list_filters() -> None:
    client, recorder = make(lambda request: ndjson(STATUS_OK))
    client.search_access_rights(pces=["GI999150"], states=[RightState.ACTIVE])
    sent = json.loads(recorder.calls[0].content)
    assert sent == {"id_pce": ["GI999150"], "etat_droit_acces": ["Active"]}
    assert recorder.calls[0].method == "POST"


def test_a_broken_right_line_is_a_problem_not_a_failure() -> None:
    good = {"id_droit_acces": "1", "etat_droit_acces": "Active"}
    client, _ = make(lambda request: ndjson(good, {"etat_droit_acces": "Active"}, STATUS_OK))
    records = client.list_access_rights()
    assert [r.right_id for r in records] == ["1"]
    assert len(records.problems) == 1


def test_consumption_records_are_typed_and_timezone_aware() -> None:
    client, recorder = make(lambda request: ndjson(record("2026-01-05"), STATUS_OK))
    [row] = client.informative_consumption(
        pce="GI999150", start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 6)
    )
    assert recorder.calls[0].url.params["date_debut"] == "2026-01-05"
    assert recorder.calls[0].url.params["date_fin"] == "2026-01-06"
    assert row.start == dt.datetime(2026, 1, 5, 5, tzinfo=dt.UTC)
    assert row.end - row.start == dt.timedelta(hours=24)
    assert row.kind is DataType.INFORMATIVE  # "Informative journalier", spec casing
    assert row.pcs == 11.16  # a numeric string
    assert row.energy_kwh == 8 and row.raw_volume_m3 == 1
    assert not row.is_estimated and not row.is_definitive


def test_periode_or_dates_but_not_both() -> None:
    client, _ = make(lambda request: ndjson(STATUS_OK))
    with pytest.raises(BadRequestError):
        client.published_consumption(pce="GI999150", periode="2026-01", start=dt.date(2026, 1, 1))
    with pytest.raises(BadRequestError):
        client.published_consumption(pce="GI999150", start=dt.date(2026, 1, 1))


def test_contractual_car_and_cja_as_numbers() -> None:
    answer = {"car": 13500, "cja": "41.5", "profil": {"profil_type_actuel": "P012"},
              "tarif_acheminement": "T2", "date_mes": "2021-08-02"}  # fmt: skip
    client, recorder = make(lambda request: httpx.Response(200, json=answer))
    data = client.contractual_data(pce="09999999900617", filters=["car", "cja"])
    assert recorder.calls[0].url.params.get_list("filtre") == ["car", "cja"]
    assert data.car == adict.Car(13500.0)
    assert data.cja == adict.Cja(41.5)
    assert data.profile == adict.Profile("P012")
    assert data.commissioning_date == dt.date(2021, 8, 2)


def test_contractual_car_and_cja_as_objects() -> None:
    answer = {
        "car": {"car_actuelle": 13500, "car_future": 14000},
        "cja": {"cja": 41.5, "cja_journaliere": 41.5, "cja_mensuelle": 1262},
        "profil": {"profil_type_actuel": "P013", "profil_type_futur": "P012",
                   "date_debut_profil_type_actuel": "2026-04-01"},
    }  # fmt: skip
    client, _ = make(lambda request: httpx.Response(200, json=answer))
    data = client.contractual_data(pce="09999999900617")
    assert data.car == adict.Car(13500.0, 14000.0)
    assert data.cja == adict.Cja(41.5, 41.5, 1262.0)
    assert data.profile == adict.Profile("P013", dt.date(2026, 4, 1), None, "P012")


def test_technical_data() -> None:
    answer = {
        "situation_compteur": {"numero_rue": "3", "nom_rue": "rue X", "code_postal": "75009",
                               "commune": "PARIS"},
        "caracteristiques_compteur": {"frequence": "1M", "client_sensible_mig": "Non"},
        "pitd": {"identifiant_pitd": "GD1234", "libelle_pitd": "PITD PARIS"},
    }  # fmt: skip
    client, _ = make(lambda request: httpx.Response(200, json=answer))
    data = client.technical_data(pce="09999999975102")
    assert data.address is not None and data.address.postcode == "75009"
    assert data.frequency == "1M"
    assert data.sensitive_client is False


def test_json_answer_that_is_not_json() -> None:
    client, _ = make(lambda request: httpx.Response(200, content=b"<html>"))
    with pytest.raises(AdictResponseError):
        client.technical_data(pce="09999999975102")


# -- functional errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message", "error"),
    [
        ("1000002", "Vous n'êtes pas autorisé à accéder à ce PCE", AccessDeniedError),
        ("1000001", "Le droit d'accès est expiré", AccessDeniedError),
        ("1000014", "Le titulaire a révoqué", AccessDeniedError),
        ("1000009", "Le périmètre ne couvre pas les données publiées", ScopeError),
        ("", "Le périmètre de votre droit ne couvre pas la période", ScopeError),
        ("9999", "Vous n'êtes pas autorisé", AccessDeniedError),
        ("2000000001", "Erreur technique", TechnicalError),
    ],
)
def test_http_200_statut_restitution_becomes_a_typed_error(
    code: str, message: str, error: type[Exception]
) -> None:
    line = {"pce": {"id_pce": "GI999150"}, "statut_restitution": {"code": code, "message": message}}
    client, _ = make(lambda request: ndjson(line, STATUS_OK))
    with pytest.raises(error) as caught:
        client.published_consumption(
            pce="GI999150", start=dt.date(2026, 1, 1), end=dt.date(2026, 2, 1)
        )
    assert caught.value.code == code  # type: ignore[attr-defined]
    assert caught.value.http_status == 200  # type: ignore[attr-defined]
    assert caught.value.pce == "GI999150"  # type: ignore[attr-defined]


def test_json_endpoint_with_statut_restitution() -> None:
    answer = {"statut_restitution": {"code": "1000002", "message": "Vous n'êtes pas autorisé"}}
    client, _ = make(lambda request: httpx.Response(200, json=answer))
    with pytest.raises(AccessDeniedError):
        client.contractual_data(pce="GI999150")


def test_no_data_is_an_empty_answer_with_a_note() -> None:
    line = record("2026-01-05", code="1000008", message="Il n'y a pas de données")
    client, _ = make(lambda request: ndjson(line, STATUS_OK))
    records = client.informative_consumption(
        pce="GI999150", start=dt.date(2026, 1, 5), end=dt.date(2026, 1, 6)
    )
    assert records.items == ()
    assert "1000008" in records.problems[0].reason
    assert issubclass(NoDataError, adict.FunctionalError)


def test_the_retryable_error_is_asked_again_for_its_period(no_waits: list[float]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.params["date_debut"] == "2026-01-01":
            retry = record("2026-01-03", code="2000100", message="Veuillez retenter votre appel")
            retry["periode"] = {"date_debut": "2026-01-03", "date_fin": "2026-01-05"}
            return ndjson(record("2026-01-01"), record("2026-01-02"), retry, STATUS_OK)
        assert dict(request.url.params) == {"date_debut": "2026-01-03", "date_fin": "2026-01-05"}
        return ndjson(record("2026-01-03"), record("2026-01-04"), STATUS_OK)

    client, recorder = make(answer, functional_retry_wait=2.5)
    records = client.informative_consumption(
        pce="GI999150", start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 5)
    )
    assert [r.gas_day for r in records] == [dt.date(2026, 1, d) for d in (1, 2, 3, 4)]
    assert len(recorder.calls) == 2
    assert no_waits == [2.5]


def test_the_retryable_error_gives_up_after_its_retries(no_waits: list[float]) -> None:
    retry = record("2026-01-01", code="2000100", message="Veuillez retenter votre appel")
    client, recorder = make(lambda request: ndjson(retry, STATUS_OK), functional_retries=2)
    with pytest.raises(RetryableError) as caught:
        client.informative_consumption(
            pce="GI999150", start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 2)
        )
    assert caught.value.period == (dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    assert len(recorder.calls) == 3
    # The one-day period written with equal dates is asked again as [day, day + 1).
    assert {(c.url.params["date_debut"], c.url.params["date_fin"]) for c in recorder.calls} == {
        ("2026-01-01", "2026-01-02")
    }
    assert len(no_waits) == 2


def test_stream_cut_by_a_technical_status_raises() -> None:
    status = {"code_statut_traitement": "2000000001", "message_retour_traitement": "Erreur"}
    client, _ = make(lambda request: ndjson(record("2026-01-01"), status))
    with pytest.raises(TechnicalError):
        client.informative_consumption(
            pce="GI999054", start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 2)
        )


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, BadRequestError), (404, NotFoundError), (409, ConflictError), (403, AccessDeniedError)],
)
def test_http_errors_become_typed_errors(status: int, error: type[Exception]) -> None:
    body = {
        "code_statut_traitement": "1000000013",
        "message_retour_traitement": "Le droit d'accès est révoqué",
    }
    client, _ = make(lambda request: httpx.Response(status, json=body))
    with pytest.raises(error) as caught:
        client.declare_access(declaration=declaration())
    assert caught.value.code == "1000000013"  # type: ignore[attr-defined]
    assert caught.value.http_status == status  # type: ignore[attr-defined]


def test_http_400_with_statut_restitution() -> None:
    body = {"statut_restitution": {"code": "1000005", "message": "PCE mal formaté"}}
    client, _ = make(lambda request: httpx.Response(400, json=body))
    with pytest.raises(BadRequestError, match="PCE mal formaté"):
        client.technical_data(pce="123")


def test_5xx_is_retried_then_a_provider_error(no_waits: list[float]) -> None:
    client, recorder = make(lambda request: httpx.Response(503), retries=2)
    with pytest.raises(ProviderError):
        client.technical_data(pce="GI999150")
    assert len(recorder.calls) == 3
    assert len(no_waits) == 2


def test_token_refused_is_an_authentication_error_naming_method_and_setting() -> None:
    """Reference grdf-adict.md §1.2: the token request is a form-urlencoded POST of
    "grant_type=client_credentials, client_id, client_secret, scope". A refusal must say how the
    credentials were sent and which setting changes it."""

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "invalid_client"})

    client = AdictClient(
        base_url=BASE, token_url=TOKEN_URL, client_id="bad", client_secret="bad",
        transport=httpx.MockTransport(refuse), rate_limiter=RateLimiter(1000),
    )  # fmt: skip
    with pytest.raises(AuthenticationError) as caught:
        client.list_access_rights()
    message = str(caught.value)
    assert "client_secret_post" in message
    assert "GRDF_TOKEN_AUTH_METHOD=basic" in message


def test_token_request_carries_credentials_in_the_form_body() -> None:
    """Reference grdf-adict.md §1.2: "POST form-urlencoded: grant_type=client_credentials,
    client_id, client_secret, scope=<api path>" — no Basic header."""
    client, recorder = make(lambda request: ndjson(STATUS_OK), scope="/adict/bas/v6")
    client.list_access_rights()
    [token_call] = recorder.token_calls
    assert token_call.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = dict(httpx.QueryParams(token_call.content.decode()))
    assert form["grant_type"] == "client_credentials"
    assert form["scope"] == "/adict/bas/v6"
    assert form["client_id"] == client.client_id
    assert form["client_secret"]
    assert "Authorization" not in token_call.headers


def test_basic_auth_method_on_request() -> None:
    """For a provider that wants HTTP Basic, ``auth_method="basic"`` sends only the header."""
    client, recorder = make(lambda request: ndjson(STATUS_OK), auth_method="basic")
    client.list_access_rights()
    [token_call] = recorder.token_calls
    assert token_call.headers["Authorization"].startswith("Basic ")
    form = dict(httpx.QueryParams(token_call.content.decode()))
    assert "client_secret" not in form and "client_id" not in form


# -- proofs ----------------------------------------------------------------------------------


def test_proof_limits_are_checked_before_sending() -> None:
    client, recorder = make(lambda request: httpx.Response(200, json=STATUS_OK))
    small = ProofFile("consentement.pdf", b"%PDF-1.4")
    with pytest.raises(ProofLimitError, match="at most 3"):
        client.upload_proofs(right_id="r", files=[small] * 4)
    with pytest.raises(ProofLimitError, match="larger than 4 MB"):
        client.upload_proofs(
            right_id="r", files=[ProofFile("big.pdf", b"x" * (4 * 1024 * 1024 + 1))]
        )
    with pytest.raises(ProofLimitError):
        client.upload_proofs(right_id="r", files=[])
    assert recorder.calls == []


def test_proofs_go_as_multipart_field_preuves() -> None:
    client, recorder = make(lambda request: httpx.Response(200, json=STATUS_OK))
    files = [ProofFile("a.pdf", b"%PDF-a"), ProofFile("b.png", b"\x89PNG", "image/png")]
    result = client.upload_proofs(right_id="r-1", files=files)
    [call] = recorder.calls
    assert call.method == "PUT" and call.url.path.endswith("/droit_acces/r-1/preuves")
    assert call.content.count(b'name="preuves"') == 2
    assert (result.files, result.code) == (2, "0000000000")


# -- rate limiting ---------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_token_bucket_spaces_requests_at_its_rate() -> None:
    fake = FakeTime()
    limiter = RateLimiter(2, clock=fake.clock, sleep=fake.sleep)
    waits = [limiter.acquire() for _ in range(4)]
    assert waits == [0.0, 0.5, 0.5, 0.5]
    fake.now += 10  # idle: one token back (burst 1), not twenty
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == 0.5


def test_token_bucket_allows_its_burst() -> None:
    fake = FakeTime()
    limiter = RateLimiter(1, burst=3, clock=fake.clock, sleep=fake.sleep)
    assert [limiter.acquire() for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]


def test_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_one_bucket_per_client_credential() -> None:
    first = rate_limiter_for(token_url=TOKEN_URL, client_id="shared-a")
    assert rate_limiter_for(token_url=TOKEN_URL, client_id="shared-a") is first
    assert rate_limiter_for(token_url=TOKEN_URL, client_id="shared-b") is not first
    assert first.rate == 1.0  # GRDF_REQUESTS_PER_SECOND's default


def test_every_attempt_takes_a_token(no_waits: list[float]) -> None:
    fake = FakeTime()
    limiter = RateLimiter(1, clock=fake.clock, sleep=fake.sleep)
    answers = iter([httpx.Response(503), ndjson(STATUS_OK), ndjson(STATUS_OK)])
    client, recorder = make(lambda request: next(answers), rate_limiter=limiter)
    client.list_access_rights()
    client.list_access_rights()
    # token + 503 + retry + second call: four requests, three waits of one second.
    assert len(recorder.calls) + len(recorder.token_calls) == 4
    assert fake.slept == [1.0, 1.0, 1.0]
