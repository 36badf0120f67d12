"""The electricity supplier's commodity-price signal (Flex Ready Annex 2), fetched and validated.

``GET /sessions/{session_id}/suppliers/commodity/prices?delivery_point=&start_date=&end_date=``
answers ``{step, horodate, power, cost, co2}``: parallel arrays, one entry per step, the
quantities as ``{value, unit, multiplier}`` triplets (Annex 2, "Data Formatting" and appendix).

Pure Python on the hub's HTTP factory: no ORM, typed results, and a typed error naming the
field and the reason for anything that is not a valid signal.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from hub.clock import PARIS
from hub.http import ClientCredentials, build_client, raise_for_provider
from hub.units import UnitError, parse_triplet, triplet

PROVIDER = "flexready-supplier"
PRICES_PATH = "/sessions/{session_id}/suppliers/commodity/prices"

# Each quantity's canonical unit in hub.units; power is stored in kW, the others as they are.
POWER_UNIT = "W"
COST_UNIT = "EUR/kWh"
CO2_UNIT = "gCO2eq/kWh"
ARRAYS = ("step", "horodate", "power", "cost", "co2")
# Integers of the signal (step numbers, horizon) beyond this are mistakes, not data.
INT_MAX = 1_000_000


class SupplierSignalError(ValueError):
    """A signal that is not valid; ``field`` is the JSON path (``cost[2].unit``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class SignalPoint:
    step: int
    at: dt.datetime  # UTC
    power_kw: float
    price_eur_per_kwh: float
    co2_g_per_kwh: float


@dataclass(frozen=True)
class SupplierSignal:
    points: tuple[SignalPoint, ...]
    horizon: int | None = None

    @property
    def start(self) -> dt.datetime | None:
        return self.points[0].at if self.points else None


def parse_signal(body: bytes | str | Mapping[str, Any]) -> SupplierSignal:
    """Validate a signal; raises SupplierSignalError on the first fault found."""
    data = _load(body)
    arrays = {}
    for name in ARRAYS:
        value = data.get(name)
        if not isinstance(value, list):
            raise SupplierSignalError(name, "missing or not an array")
        arrays[name] = value
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise SupplierSignalError("step", f"arrays of unequal length ({shown})")
    horizon = data.get("horizon")
    if horizon is not None:
        horizon = _step(horizon, "horizon")
    points: list[SignalPoint] = []
    for i in range(lengths["step"]):
        at = _instant(arrays["horodate"][i], f"horodate[{i}]")
        if points and at <= points[-1].at:
            raise SupplierSignalError(f"horodate[{i}]", "not after the previous horodate")
        points.append(
            SignalPoint(
                step=_step(arrays["step"][i], f"step[{i}]"),
                at=at,
                power_kw=_quantity(arrays["power"][i], f"power[{i}]", POWER_UNIT, "k"),
                price_eur_per_kwh=_quantity(arrays["cost"][i], f"cost[{i}]", COST_UNIT, ""),
                co2_g_per_kwh=_quantity(arrays["co2"][i], f"co2[{i}]", CO2_UNIT, ""),
            )
        )
    return SupplierSignal(tuple(points), horizon)


def _load(body: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        return body
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise SupplierSignalError("body", f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SupplierSignalError("body", "not a JSON object")
    return data


def _step(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SupplierSignalError(where, "not an integer")
    if not 0 <= value <= INT_MAX:
        raise SupplierSignalError(where, f"out of range [0, {INT_MAX}]")
    return value


def _instant(value: Any, where: str) -> dt.datetime:
    # An offset is required: a naive local time is ambiguous on the night clocks go back.
    if not isinstance(value, str) or "T" not in value:
        raise SupplierSignalError(where, "not an ISO 8601 date-time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SupplierSignalError(where, "not an ISO 8601 date-time") from None
    if parsed.utcoffset() is None:
        raise SupplierSignalError(where, "no UTC offset")
    return parsed.astimezone(dt.UTC)


def _quantity(value: Any, where: str, unit: str, multiplier: str) -> float:
    try:
        quantity = parse_triplet(value)
    except UnitError as exc:
        raise SupplierSignalError(f"{where}.{exc.field}", exc.reason) from None
    if quantity.unit != unit:
        raise SupplierSignalError(f"{where}.unit", f"must be {unit}, not {quantity.unit}")
    return float(quantity.to(unit, multiplier))


def signal_json(points: list[SignalPoint] | tuple[SignalPoint, ...]) -> dict[str, Any]:
    """Points in the annex's own format (steps renumbered from 1), local ISO 8601 offsets."""
    return {
        "step": list(range(1, len(points) + 1)),
        "horodate": [p.at.astimezone(PARIS).isoformat(timespec="seconds") for p in points],
        "power": [triplet(p.power_kw, "W", "k") for p in points],
        "cost": [triplet(p.price_eur_per_kwh, "€/kWh", "") for p in points],
        "co2": [triplet(p.co2_g_per_kwh, "gCO2eq/kWh", "") for p in points],
    }


def configured_credentials() -> ClientCredentials | None:
    """The supplier's OIDC client-credentials login from the settings, if configured.

    Annex 2: "The needed JWT token will be provided during user authentication using the TSG
    authentication provider (OIDC compliant)". A polling server has no browser for the
    ``/auth/login`` redirect, so it uses the provider's token endpoint with its client id and
    secret; the token is cached and asked for again ``early_expiry`` seconds before it expires
    (and once more on a 401).
    """
    token_url = settings.FLEXREADY_SUPPLIER_TOKEN_URL
    client_id = settings.FLEXREADY_SUPPLIER_CLIENT_ID
    client_secret = settings.FLEXREADY_SUPPLIER_CLIENT_SECRET
    if not (token_url and client_id and client_secret):
        return None
    return ClientCredentials(token_url=token_url, client_id=client_id, client_secret=client_secret)


class SupplierClient:
    """Fetches a delivery point's signal; close it (or use it as a context manager) when done.

    Authentication: ``credentials`` (default: :func:`configured_credentials`), else a fixed
    ``token`` (default ``FLEXREADY_SUPPLIER_TOKEN``, e.g. one copied from a browser login).
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token: str | None = None,
        credentials: ClientCredentials | None = None,
        transport: httpx.BaseTransport | None = None,
        retries: int = 3,
    ) -> None:
        if credentials is None and token is None:
            credentials = configured_credentials()
        if credentials is None and token is None:
            token = settings.FLEXREADY_SUPPLIER_TOKEN
        base_url = base_url or settings.FLEXREADY_SUPPLIER_URL
        if not base_url:
            raise ImproperlyConfigured("FLEXREADY_SUPPLIER_URL is not set")
        self._http = build_client(
            base_url=base_url,
            provider=PROVIDER,
            transport=transport,
            retries=retries,
            auth=credentials,
            headers={"Accept": "application/json"}
            | ({"Authorization": f"Bearer {token}"} if token and credentials is None else {}),
        )

    def __enter__(self) -> SupplierClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def fetch(
        self, *, session_id: str, delivery_point: str, start: dt.datetime, end: dt.datetime
    ) -> SupplierSignal:
        """The signal of ``delivery_point`` for ``[start, end)`` (aware datetimes)."""
        response = raise_for_provider(
            self._http.get(
                PRICES_PATH.format(session_id=session_id),
                params={
                    "delivery_point": delivery_point,
                    # Paris offsets, like the signal's own horodates.
                    "start_date": start.astimezone(PARIS).isoformat(),
                    "end_date": end.astimezone(PARIS).isoformat(),
                },
            )
        )
        return parse_signal(response.content)
