"""RTE's Ecowatt v5 API: the national grid signal for today and the next three days.

Facts (RTE's Ecowatt v5 API documentation on data.rte-france.com): OAuth2 client credentials, the
client authenticating to the token URL with HTTP Basic; ``GET /open_api/ecowatt/v5/signals`` (or
``/open_api/ecowatt/v5/sandbox/signals``) without parameters answers ``{"signals":
[{GenerationFichier, jour, dvalue, message, values: [{pas, hvalue}]}]}``. The list is not ordered,
``jour`` is local midnight with its offset, ``pas`` is the hour of the local day (matched by value,
not by position) and some days carry fewer values than hours. ``hvalue`` is 0 (low-carbon), 1
(normal), 2 (orange) or 3 (red); ``dvalue`` is the day's level. One call per 15 minutes: more
answers 429 with ``Retry-After``.

Pure Python on the hub's HTTP factory: no ORM, typed results, typed errors.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from hub.clock import hours_in_local_day, local_midnight
from hub.http import ClientCredentials, build_client, raise_for_provider
from hub.http.retry import HubRetry

PROVIDER = "ecowatt"
SIGNALS_PATH = "/open_api/ecowatt/v5/signals"
SANDBOX_PATH = "/open_api/ecowatt/v5/sandbox/signals"
LEVELS = range(0, 4)


class EcowattError(Exception):
    """Base class of this client's errors besides ``hub.http.ProviderError``."""


class EcowattResponseError(EcowattError, ValueError):
    """A 2xx answer that is not a valid signal; ``field`` is the JSON path."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class EcowattRateLimited(EcowattError):
    """RTE answered 429: no call before ``retry_at`` (None when it gave no usable Retry-After)."""

    def __init__(self, retry_at: dt.datetime | None) -> None:
        super().__init__(f"rate limited until {retry_at.isoformat() if retry_at else '?'}")
        self.retry_at = retry_at


@dataclass(frozen=True, slots=True)
class EcowattHour:
    pas: int
    start: dt.datetime  # UTC: local midnight of the day + ``pas`` hours of elapsed time
    level: int


@dataclass(frozen=True)
class EcowattDay:
    day: dt.date
    generated_at: dt.datetime | None
    level: int  # dvalue
    message: str
    hours: tuple[EcowattHour, ...]  # ordered by pas; may have gaps

    def hour(self, pas: int) -> EcowattHour | None:
        return next((h for h in self.hours if h.pas == pas), None)

    @property
    def worst(self) -> int:
        return max([self.level, *(h.level for h in self.hours)])


@dataclass(frozen=True)
class EcowattForecast:
    days: tuple[EcowattDay, ...]  # ordered by day
    ignored_values: int  # values whose ``pas`` falls outside their local day
    raw: str

    def day(self, day: dt.date) -> EcowattDay | None:
        return next((d for d in self.days if d.day == day), None)


def parse_signals(body: bytes | str) -> EcowattForecast:
    raw = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise EcowattResponseError("body", f"not JSON ({exc})") from None
    signals = data.get("signals") if isinstance(data, dict) else None
    if not isinstance(signals, list):
        raise EcowattResponseError("signals", "missing or not an array")
    days: dict[dt.date, EcowattDay] = {}
    ignored = 0
    for index, item in enumerate(signals):
        day, dropped = _day(item, f"signals[{index}]")
        if day.day in days:
            raise EcowattResponseError(f"signals[{index}].jour", f"{day.day} appears twice")
        days[day.day] = day
        ignored += dropped
    return EcowattForecast(tuple(days[d] for d in sorted(days)), ignored, raw)


def _day(item: Any, where: str) -> tuple[EcowattDay, int]:
    if not isinstance(item, dict):
        raise EcowattResponseError(where, "not an object")
    jour = _instant(item.get("jour"), f"{where}.jour")
    # The day is the date of ``jour`` in its own offset (local midnight), never the UTC date.
    day = jour.date()
    generated = item.get("GenerationFichier")
    generated_at = _instant(generated, f"{where}.GenerationFichier") if generated else None
    level = _level(item.get("dvalue"), f"{where}.dvalue")
    message = item.get("message") or ""
    if not isinstance(message, str):
        raise EcowattResponseError(f"{where}.message", "not a string")
    values = item.get("values")
    if not isinstance(values, list):
        raise EcowattResponseError(f"{where}.values", "missing or not an array")
    midnight = local_midnight(day)
    hours_in_day = hours_in_local_day(day)
    hours: dict[int, EcowattHour] = {}
    dropped = 0
    for i, value in enumerate(values):
        here = f"{where}.values[{i}]"
        if not isinstance(value, dict):
            raise EcowattResponseError(here, "not an object")
        pas = value.get("pas")
        if isinstance(pas, bool) or not isinstance(pas, int) or pas < 0:
            raise EcowattResponseError(f"{here}.pas", "not a non-negative integer")
        hour_level = _level(value.get("hvalue"), f"{here}.hvalue")
        if pas >= hours_in_day:
            # No source says what RTE sends on a 23-hour day; an hour that does not exist is
            # counted and left out rather than failing the whole four-day answer.
            dropped += 1
            continue
        if pas in hours:
            raise EcowattResponseError(f"{here}.pas", f"hour {pas} appears twice")
        hours[pas] = EcowattHour(pas, midnight + dt.timedelta(hours=pas), hour_level)
    ordered = tuple(hours[p] for p in sorted(hours))
    return EcowattDay(day, generated_at, level, message, ordered), dropped


def _instant(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise EcowattResponseError(where, "missing or not a string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise EcowattResponseError(where, "not an ISO 8601 date-time") from None
    if parsed.utcoffset() is None:
        raise EcowattResponseError(where, "no UTC offset")
    return parsed


def _level(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
        raise EcowattResponseError(where, "must be an integer from 0 to 3")
    return value


def retry_at(response: httpx.Response, *, now: dt.datetime) -> dt.datetime | None:
    """When ``Retry-After`` (seconds or HTTP date) allows the next call."""
    header = response.headers.get("Retry-After", "").strip()
    if not header:
        return None
    if header.isdigit():
        return now + dt.timedelta(seconds=int(header))
    try:
        parsed = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def configured() -> bool:
    """Whether RTE credentials are set (a hub may run before its Ecowatt keys are issued)."""
    return bool(settings.ECOWATT_CLIENT_ID and settings.ECOWATT_CLIENT_SECRET)


def _no_retry_on_429() -> HubRetry:
    # Retrying a 429 inside the call would only earn another 429: the caller waits for
    # Retry-After across runs instead. Server errors and broken connections are still retried.
    return HubRetry(
        total=2,
        backoff_factor=0.5,
        max_backoff_wait=10,
        backoff_jitter=0.5,
        status_forcelist=[500, 502, 503, 504],
        respect_retry_after_header=False,
    )


class EcowattClient:
    """Close it (or use it as a context manager) when done."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        sandbox: bool | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        credentials = ClientCredentials(
            token_url=token_url or settings.ECOWATT_TOKEN_URL,
            client_id=client_id or settings.ECOWATT_CLIENT_ID,
            client_secret=client_secret or settings.ECOWATT_CLIENT_SECRET,
        )
        if not credentials.client_id or not credentials.client_secret:
            raise ImproperlyConfigured("ECOWATT_CLIENT_ID and ECOWATT_CLIENT_SECRET must be set")
        use_sandbox = settings.ECOWATT_SANDBOX if sandbox is None else sandbox
        self.path = SANDBOX_PATH if use_sandbox else SIGNALS_PATH
        self._http = build_client(
            base_url=base_url or settings.ECOWATT_API_URL,
            provider=PROVIDER,
            auth=credentials,
            transport=transport,
            headers={"Accept": "application/json"},
        )

    def __enter__(self) -> EcowattClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def fetch(self, *, now: dt.datetime) -> EcowattForecast:
        """Today's and the next days' signals; raises EcowattRateLimited on a 429."""
        response = self._http.get(self.path, extensions={"retry": _no_retry_on_429()})
        if response.status_code == httpx.codes.TOO_MANY_REQUESTS:
            raise EcowattRateLimited(retry_at(response, now=now))
        return parse_signals(raise_for_provider(response).content)
