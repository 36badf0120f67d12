"""The typed results of the ADICT client and their builders from GRDF's JSON (ref §1.5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from grdf_access.client.errors import AdictError, AdictResponseError, BadRequestError
from grdf_access.client.wire import (
    RSF_ONLY_TYPES,
    DataType,
    ProofStatus,
    RightState,
    Role,
    SubscriptionKind,
    _date,
    _fold,
    _instant,
    _number,
    _safe_bool,
    _text,
    normalise_proof_status,
    normalise_state,
    parse_bool,
    wire_bool,
)
from grdf_access.ndjson import LineProblem

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Records(Generic[T]):
    """The items of an NDJSON answer and the lines that could not be used.

    ``problems`` holds malformed lines and per-period notices such as "no data"; they are not
    fatal. Iterating a ``Records`` iterates its items.
    """

    items: tuple[T, ...]
    problems: tuple[LineProblem, ...] = ()

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True, slots=True)
class AccessRight:
    """One ``droit d'accès`` (ref §1.5 ``liste_acces_out``); ``raw`` is the object as received."""

    right_id: str
    pce: str
    role: str  # a Role value; kept a string so that a new GRDF role does not break parsing
    state: RightState
    state_label: str  # GRDF's spelling as received
    parcours: str  # "TIERS_DIRECT" or "CLIENT_CONNECT"
    consent_start: dt.date | None
    consent_end: dt.date | None
    data_start: dt.date | None  # perim_donnees_conso_debut (or _inj_ for injection roles)
    data_end: dt.date | None
    data_types: frozenset[DataType]
    holder_name: str
    holder_company: str
    holder_email: str
    holder_mobile: str
    postcode: str
    third_party_name: str
    created_at: dt.datetime | None
    proof_status: ProofStatus | None
    proof_deadline: dt.date | None
    revoked_at: dt.datetime | None
    revocation_source: str
    refused_at: dt.datetime | None
    refusal_source: str
    obsolete_at: dt.datetime | None
    obsolete_source: str
    terminated_at: dt.datetime | None  # RSF résiliation (provisional)
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    def grants(self, data_type: DataType) -> bool:
        return data_type in self.data_types

    @property
    def is_active(self) -> bool:
        return self.state is RightState.ACTIVE


@dataclass(frozen=True, slots=True)
class AccessDeclaration:
    """What ``PUT /pce/{id}/droit_acces`` sends (ref §1.4 ``demander_acces_in``).

    Exactly one of ``holder_name`` (natural person) and ``holder_company`` (legal person).
    ``data_start``/``data_end`` are the consumption window for supply roles, the injection
    window for injection roles.
    """

    pce: str
    role: Role
    postcode: str
    consent_start: dt.date
    consent_end: dt.date
    data_types: frozenset[DataType]
    data_start: dt.date | None = None
    data_end: dt.date | None = None
    holder_name: str = ""
    holder_company: str = ""
    holder_email: str = ""
    holder_mobile: str = ""

    def to_wire(self, *, rsf: bool = False) -> dict[str, Any]:
        """The JSON body: "Vrai"/"Faux" scopes, ISO dates, absent fields omitted.

        Only the fields of the API in use: ADICT v2's ``demander_acces_in`` (ref §1.4) has
        four data scopes; the hourly one exists only with RSF (``rsf``).
        """
        if bool(self.holder_name) == bool(self.holder_company):
            raise BadRequestError(
                "exactly one of holder_name and holder_company is required", http_status=0
            )
        body: dict[str, Any] = {
            "role_tiers": str(self.role),
            "code_postal": self.postcode,
            "date_debut_droit_acces": self.consent_start.isoformat(),
            "date_fin_droit_acces": self.consent_end.isoformat(),
        }
        if self.holder_name:
            body["nom_titulaire"] = self.holder_name
        if self.holder_company:
            body["raison_sociale"] = self.holder_company
        if self.holder_email:
            body["courriel_titulaire"] = self.holder_email
        if self.holder_mobile:
            body["numero_telephone_mobile_titulaire"] = self.holder_mobile
        window = "inj" if self.role.is_injection else "conso"
        if self.data_start is not None:
            body[f"perim_donnees_{window}_debut"] = self.data_start.isoformat()
        if self.data_end is not None:
            body[f"perim_donnees_{window}_fin"] = self.data_end.isoformat()
        for data_type in DataType:
            if data_type in RSF_ONLY_TYPES and not rsf:
                if data_type in self.data_types:
                    raise BadRequestError(
                        f"{data_type.value} is not an ADICT v2 data scope (RSF only)",
                        http_status=0,
                    )
                continue
            body[f"perim_donnees_{data_type.value}"] = wire_bool(data_type in self.data_types)
        return body


@dataclass(frozen=True, slots=True)
class AccessModification:
    """RSF "Modification" of a declared right (provisional): only the given fields change."""

    consent_end: dt.date | None = None
    data_start: dt.date | None = None
    data_end: dt.date | None = None
    data_types: frozenset[DataType] | None = None

    def to_wire(self, *, injection: bool = False) -> dict[str, Any]:
        window = "inj" if injection else "conso"
        body: dict[str, Any] = {}
        if self.consent_end is not None:
            body["date_fin_droit_acces"] = self.consent_end.isoformat()
        if self.data_start is not None:
            body[f"perim_donnees_{window}_debut"] = self.data_start.isoformat()
        if self.data_end is not None:
            body[f"perim_donnees_{window}_fin"] = self.data_end.isoformat()
        if self.data_types is not None:
            for data_type in DataType:
                body[f"perim_donnees_{data_type.value}"] = wire_bool(data_type in self.data_types)
        return body


@dataclass(frozen=True, slots=True)
class OperationResult:
    """A JSON acknowledgement: ``code_statut_traitement`` / ``message_retour_traitement``."""

    code: str
    message: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class ProofFile:
    """One proof document for ``PUT /droit_acces/{id}/preuves`` (ref §1.3)."""

    filename: str
    content: bytes = field(repr=False)
    content_type: str = "application/pdf"


@dataclass(frozen=True, slots=True)
class ProofUploadResult:
    right_id: str
    files: int
    code: str
    message: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Reading:
    """``releve_debut`` / ``releve_fin`` of a record (ref §1.5)."""

    date: dt.datetime | None
    reason: str  # raison_releve, e.g. "RNO"
    reason_label: str
    quality: str  # qualite_releve, e.g. "Mesure" / "Estimation"
    status: str  # statut_releve
    raw_index: float | None  # index_brut_*.valeur_index (m3)
    converted_index: float | None


@dataclass(frozen=True, slots=True)
class ConsumptionRecord:
    """One NDJSON line of published, informative daily or (RSF) informative hourly data.

    ``start``/``end`` bound the consumption ``[start, end)`` as aware UTC datetimes (a gas day
    runs 06:00 to 06:00 Paris time, so 23 or 25 hours on DST changes); ``gas_day`` is
    ``journee_gaziere`` (the date of the 06:00 start). ``energy_kwh`` is GRDF's value: never
    recompute it from integer volumes (ref §3.2).
    """

    pce: str
    kind: DataType  # PUBLISHED, INFORMATIVE or INFORMATIVE_HOURLY
    start: dt.datetime
    end: dt.datetime
    gas_day: dt.date | None
    raw_volume_m3: float | None  # volume_brut
    converted_volume_m3: float | None  # volume_converti
    energy_kwh: float | None  # energie
    pta_coefficient: float | None
    pcs: float | None
    conversion_coefficient: float | None
    qualification: str  # type_qualif_conso: "Mesuré" / "Estimé"
    status: str  # statut_conso: "Provisoire" / "Définitive"
    type_label: str  # type_conso as received
    flow: str  # sens_flux_gaz
    zero_reset: bool | None  # flag_retour_zero
    start_reading: Reading | None
    end_reading: Reading | None
    period_label: str  # periode.valeur when given
    publication_start: dt.date | None  # bordereau_publication (published data only)
    publication_end: dt.date | None
    publication_gas_days: int | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def is_estimated(self) -> bool:
        return _fold(self.qualification).startswith("estim")

    @property
    def is_definitive(self) -> bool:
        return _fold(self.status).startswith("definiti")


@dataclass(frozen=True, slots=True)
class InjectionRecord(ConsumptionRecord):
    """One line of ``donnees_injections_publiees``: the same shape read from ``injection{…}``."""


@dataclass(frozen=True, slots=True)
class Car:
    """``car``: a number in spec 1.6, ``{car_actuelle, car_future}`` in v1.9 (ref §1.5)."""

    current: float | None
    future: float | None = None


@dataclass(frozen=True, slots=True)
class Cja:
    """``cja``: a number in spec 1.6, ``{cja, cja_journaliere, cja_mensuelle}`` in v1.9."""

    value: float | None
    daily: float | None = None
    monthly: float | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    current: str
    start: dt.date | None = None
    end: dt.date | None = None
    future: str = ""


@dataclass(frozen=True, slots=True)
class ContractualData:
    pce: str
    car: Car | None  # kWh/year
    cja: Cja | None
    profile: Profile | None
    tariff: str  # tarif_acheminement: T1 … T4, TP
    commissioning_date: dt.date | None  # date_mes
    publication_date: dt.date | None
    daily_cap_kwh: float | None  # consommation_journaliere_plafond
    modulation: Mapping[str, Any] | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Address:
    street_number: str
    street: str
    complement: str
    postcode: str
    city: str


@dataclass(frozen=True, slots=True)
class TechnicalData:
    pce: str
    address: Address | None
    frequency: str  # "6M", "1M", "MM", "JJ"
    sensitive_client: bool | None  # client_sensible_mig
    pitd_id: str
    pitd_label: str
    calibre: str
    flow_code: str  # code_debit
    normalised_flow_code: str  # code_debit_normalise
    delivery_pressure: str
    meter_number: str
    ownership: Mapping[str, Any] | None
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Subscription:
    """An RSF TJDC/PPH subscription (provisional)."""

    subscription_id: str
    pce: str
    kind: SubscriptionKind
    start: dt.date
    end: dt.date | None
    state: str
    raw: Mapping[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class BulkDeclarationItem:
    """One line of an RSF mass declaration answer: the right, or the error for that PCE."""

    pce: str
    right: AccessRight | None
    error: AdictError | None


@dataclass(frozen=True, slots=True)
class BulkDeclarationResult:
    items: tuple[BulkDeclarationItem, ...]
    problems: tuple[LineProblem, ...] = ()

    @property
    def declared(self) -> list[AccessRight]:
        return [item.right for item in self.items if item.right is not None]

    @property
    def failed(self) -> list[BulkDeclarationItem]:
        return [item for item in self.items if item.error is not None]


# -- builders --------------------------------------------------------------------------------


def _scope(obj: Mapping[str, Any], data_type: DataType) -> bool:
    key = f"perim_donnees_{data_type.value}"
    value = obj.get(key)
    if value is None:
        # LOWATT's fixture has "perim_donnees_techniques:" (ref §1.5): accept a stray colon.
        value = obj.get(f"{key}:")
    try:
        return bool(parse_bool(value))
    except ValueError:
        return False


def _access_right(obj: Mapping[str, Any]) -> AccessRight:
    right_id = obj.get("id_droit_acces")
    if not right_id:
        raise AdictResponseError("an access right without id_droit_acces")
    role = _text(obj.get("role_tiers"))
    injection = "INJECTION" in role
    window = "inj" if injection else "conso"
    label = _text(obj.get("etat_droit_acces"))
    return AccessRight(
        right_id=str(right_id),
        pce=_text(obj.get("id_pce")),
        role=role,
        state=normalise_state(label),
        state_label=label,
        parcours=_text(obj.get("parcours")),
        consent_start=_date(obj.get("date_debut_droit_acces")),
        consent_end=_date(obj.get("date_fin_droit_acces")),
        data_start=_date(obj.get(f"perim_donnees_{window}_debut")),
        data_end=_date(obj.get(f"perim_donnees_{window}_fin")),
        data_types=frozenset(t for t in DataType if _scope(obj, t)),
        holder_name=_text(obj.get("nom_titulaire")),
        holder_company=_text(obj.get("raison_sociale_du_titulaire") or obj.get("raison_sociale")),
        holder_email=_text(obj.get("courriel_titulaire")),
        holder_mobile=_text(obj.get("numero_telephone_mobile_titulaire")),
        postcode=_text(obj.get("code_postal")),
        third_party_name=_text(obj.get("raison_sociale_du_tiers")),
        created_at=_instant(obj.get("date_creation") or obj.get("date_creation_droit_acces")),
        proof_status=normalise_proof_status(obj.get("statut_controle_preuve")),
        proof_deadline=_date(obj.get("date_limite_transmission_preuve")),
        revoked_at=_instant(obj.get("date_revocation")),
        revocation_source=_text(obj.get("source_revocation")),
        refused_at=_instant(obj.get("date_passage_a_refuse")),
        refusal_source=_text(obj.get("source_passage_a_refuse")),
        obsolete_at=_instant(obj.get("date_passage_a_obsolete")),
        obsolete_source=_text(obj.get("source_passage_a_obsolete")),
        terminated_at=_instant(obj.get("date_resiliation")),
        raw=obj,
    )


def _operation(obj: Mapping[str, Any]) -> OperationResult:
    return OperationResult(
        code=_text(obj.get("code_statut_traitement")),
        message=_text(obj.get("message_retour_traitement")),
        raw=obj,
    )


def _subscription(obj: Mapping[str, Any]) -> Subscription:
    start = _date(obj.get("date_debut"))
    if not obj.get("id_abonnement") or start is None:
        raise AdictResponseError("a subscription without id_abonnement or date_debut")
    return Subscription(
        subscription_id=str(obj["id_abonnement"]),
        pce=_text(obj.get("id_pce")),
        kind=SubscriptionKind(_text(obj.get("type_abonnement")).upper()),
        start=start,
        end=_date(obj.get("date_fin")),
        state=_text(obj.get("etat_abonnement")),
        raw=obj,
    )


def _reading(obj: Any, suffix: str) -> Reading | None:
    if not isinstance(obj, dict):
        return None
    raw_index = obj.get(f"index_brut_{suffix}") or {}
    converted = obj.get(f"index_converti_{suffix}") or {}
    return Reading(
        date=_instant(obj.get("date_releve")),
        reason=_text(obj.get("raison_releve")),
        reason_label=_text(obj.get("libelle_raison_releve")),
        quality=_text(obj.get("qualite_releve")),
        status=_text(obj.get("statut_releve")),
        raw_index=_number(raw_index.get("valeur_index")) if isinstance(raw_index, dict) else None,
        converted_index=(
            _number(converted.get("valeur_index")) if isinstance(converted, dict) else None
        ),
    )


_KINDS = {"publiee": DataType.PUBLISHED, "informative horaire": DataType.INFORMATIVE_HOURLY}


def _kind(label: str) -> DataType:
    folded = _fold(label)
    for prefix, kind in _KINDS.items():
        if folded.startswith(prefix):
            return kind
    return DataType.PUBLISHED if not folded.startswith("informative") else DataType.INFORMATIVE


def _record(obj: Mapping[str, Any], block: str, suffix: str, short: str) -> dict[str, Any]:
    """The fields shared by consumption and injection records."""
    body = obj.get(block)
    if not isinstance(body, dict):
        raise AdictResponseError(f"a record without {block}")
    start = _instant(body.get(f"date_debut_{suffix}"))
    end = _instant(body.get(f"date_fin_{suffix}"))
    if start is None or end is None:
        raise AdictResponseError(f"a record without {block} dates")
    coefficients = body.get("coeff_calcul") or {}
    period = obj.get("periode") or {}
    publication = obj.get("bordereau_publication") or {}
    pce = obj.get("pce")
    # Dates say "consommation", the other fields "conso" (ref §1.5); injection says "injection".
    type_label = _text(body.get(f"type_{short}"))
    return {
        "pce": _text(pce.get("id_pce") if isinstance(pce, dict) else pce),
        "kind": _kind(type_label),
        "start": start,
        "end": end,
        "gas_day": _date(body.get("journee_gaziere")),
        "raw_volume_m3": _number(body.get("volume_brut")),
        "converted_volume_m3": _number(body.get("volume_converti")),
        "energy_kwh": _number(body.get("energie")),
        "pta_coefficient": _number(coefficients.get("coeff_pta")),
        "pcs": _number(coefficients.get("valeur_pcs")),
        "conversion_coefficient": _number(coefficients.get("coeff_conversion")),
        "qualification": _text(body.get(f"type_qualif_{short}")),
        "status": _text(body.get(f"statut_{short}")),
        "type_label": type_label,
        "flow": _text(body.get("sens_flux_gaz")),
        "zero_reset": _safe_bool(body.get("flag_retour_zero")),
        "start_reading": _reading(obj.get("releve_debut"), "debut"),
        "end_reading": _reading(obj.get("releve_fin"), "fin"),
        "period_label": _text(period.get("valeur")) if isinstance(period, dict) else "",
        "publication_start": _date(publication.get("date_debut_bordereau")),
        "publication_end": _date(publication.get("date_fin_bordereau")),
        "publication_gas_days": (
            int(n) if (n := _number(publication.get("nb_jour_gazier"))) is not None else None
        ),
        "raw": obj,
    }


def _consumption(obj: dict[str, Any]) -> ConsumptionRecord:
    return ConsumptionRecord(**_record(obj, "consommation", "consommation", "conso"))


def _injection(obj: dict[str, Any]) -> InjectionRecord:
    return InjectionRecord(**_record(obj, "injection", "injection", "injection"))


def _car(value: Any) -> Car | None:
    if isinstance(value, dict):
        return Car(_number(value.get("car_actuelle")), _number(value.get("car_future")))
    number = _number(value)
    return None if number is None else Car(number)


def _cja(value: Any) -> Cja | None:
    if isinstance(value, dict):
        return Cja(
            _number(value.get("cja")),
            _number(value.get("cja_journaliere")),
            _number(value.get("cja_mensuelle")),
        )
    number = _number(value)
    return None if number is None else Cja(number)


def _profile(value: Any) -> Profile | None:
    if isinstance(value, str):
        return Profile(value)
    if not isinstance(value, dict):
        return None
    return Profile(
        _text(value.get("profil_type_actuel")),
        _date(value.get("date_debut_profil_type_actuel")),
        _date(value.get("date_fin_profil_type_actuel")),
        _text(value.get("profil_type_futur")),
    )


def _contractual(pce: str, obj: Mapping[str, Any]) -> ContractualData:
    modulation = obj.get("modulation")
    return ContractualData(
        pce=_text(obj.get("id_pce")) or pce,
        car=_car(obj.get("car")),
        cja=_cja(obj.get("cja")),
        profile=_profile(obj.get("profil")),
        tariff=_text(obj.get("tarif_acheminement")),
        commissioning_date=_date(obj.get("date_mes")),
        publication_date=_date(obj.get("date_publication")),
        daily_cap_kwh=_number(obj.get("consommation_journaliere_plafond")),
        modulation=modulation if isinstance(modulation, dict) else None,
        raw=obj,
    )


def _technical(pce: str, obj: Mapping[str, Any]) -> TechnicalData:
    site = obj.get("situation_compteur")
    address = None
    if isinstance(site, dict):
        address = Address(
            _text(site.get("numero_rue")),
            _text(site.get("nom_rue")),
            _text(site.get("complement_adresse")),
            _text(site.get("code_postal")),
            _text(site.get("commune")),
        )
    meter = obj.get("caracteristiques_compteur") or {}
    pitd = obj.get("pitd") or {}
    ownership = obj.get("regime_propriete")
    return TechnicalData(
        pce=_text(obj.get("id_pce")) or pce,
        address=address,
        frequency=_text(meter.get("frequence")),
        sensitive_client=_safe_bool(meter.get("client_sensible_mig")),
        pitd_id=_text(pitd.get("identifiant_pitd")),
        pitd_label=_text(pitd.get("libelle_pitd")),
        calibre=_text(obj.get("code_calibre") or meter.get("code_calibre")),
        flow_code=_text(obj.get("code_debit") or meter.get("code_debit")),
        normalised_flow_code=_text(
            obj.get("code_debit_normalise") or meter.get("code_debit_normalise")
        ),
        delivery_pressure=_text(obj.get("pression_livraison") or meter.get("pression_livraison")),
        meter_number=_text(obj.get("matricule_compteur") or meter.get("matricule_compteur")),
        ownership=ownership if isinstance(ownership, dict) else None,
        raw=obj,
    )
