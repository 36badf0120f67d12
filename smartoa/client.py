"""The EDF OA Smart OA API: the ``Effacement`` resource of one contract, validated.

Pure Python on the hub's HTTP factory: no ORM, typed results. One account and one token per
contract, so credentials travel with each call while a single client (and its connection pool)
serves every contract of a worker.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from hub.clock import local_day_bounds
from hub.http import ProviderError, build_client
from smartoa.schedule import Episode, Period, episodes_of

PROVIDER = "smartoa"


class SmartOAError(Exception):
    """Base class of the errors this client raises besides ``hub.http.ProviderError``."""


class SmartOAResponseError(SmartOAError):
    """The API answered 2xx with a body that is not a valid schedule; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid Smart OA answer: {reason}")
        self.reason = reason


class SmartOAAccessError(ProviderError):
    """Smart OA refused the call (401: token unknown or revoked; 403: IP not allowed)."""


@dataclass(frozen=True)
class Credentials:
    account_id: str
    token: str
    scheme: str = "bearer"  # "bearer" or "basic" (account id as user, token as password)

    def __repr__(self) -> str:  # never print the token, even in a traceback
        return f"Credentials(account_id={self.account_id!r}, scheme={self.scheme!r})"


@dataclass(frozen=True)
class Schedule:
    contract_id: str
    update_date: dt.datetime
    application_date: dt.date
    periods: tuple[Period, ...]
    raw: str

    @property
    def episodes(self) -> list[Episode]:
        return episodes_of(self.periods)


class BearerAuth(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def auth_for(credentials: Credentials) -> httpx.Auth:
    if credentials.scheme == "basic":
        return httpx.BasicAuth(credentials.account_id, credentials.token)
    return BearerAuth(credentials.token)


class SmartOAClient:
    """Fetches ``Effacement``; close it (or use it as a context manager) when done."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        resource_path: str | None = None,
        transport: httpx.BaseTransport | None = None,
        retries: int = 3,
    ) -> None:
        self.resource_path = resource_path or settings.SMARTOA_RESOURCE_PATH
        self._http = build_client(
            base_url=base_url or settings.SMARTOA_API_URL,
            provider=PROVIDER,
            transport=transport,
            retries=retries,
            headers={"Accept": "application/json"},
            # One client serves every contract, each with its own token: a cookie an answer
            # set for one contract must not ride on the next contract's call.
            keep_cookies=False,
        )
        # Merged with the base URL once: httpx parses and merges a relative URL again at each
        # call, which cost more than the rest of building the request.
        self._url = self._http.build_request("GET", self.resource_path).url

    def __enter__(self) -> SmartOAClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def fetch_schedule(self, *, credentials: Credentials, contract_id: str = "") -> Schedule:
        """The contract's current schedule; ``contract_id``, when given, must match the answer's."""
        response = self._http.get(self._url, auth=auth_for(credentials))
        if response.is_error:
            raise error_of(response)
        return parse_schedule(response.content, expected_id=contract_id)


# Keys of an error body that carry its message, most telling first.
_MESSAGE_KEYS = ("detail", "message", "error_description", "title", "error")
_MAX_MESSAGE = 300


def error_of(response: httpx.Response) -> ProviderError:
    """The error of a 4xx/5xx answer, its message decoded from the JSON body when it is one.

    A JSON body escapes accents (``autoris\\u00e9e``): the message is read from the decoded
    object, so a person reads ``autorisée``.
    """
    status = response.status_code
    message = _message_of(response.content)
    text = f"{response.reason_phrase} — {message}" if message else response.reason_phrase
    cls = SmartOAAccessError if status in (401, 403) else ProviderError
    return cls(PROVIDER, status, text)


def _message_of(body: bytes) -> str:
    raw = body.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(raw)
    except ValueError:
        return raw[:_MAX_MESSAGE]
    if isinstance(data, dict):
        parts = [data[k].strip() for k in _MESSAGE_KEYS if isinstance(data.get(k), str)]
        message = " — ".join(dict.fromkeys(p for p in parts if p))
    elif isinstance(data, str):
        message = data
    else:
        message = json.dumps(data, ensure_ascii=False)
    return message[:_MAX_MESSAGE]


def parse_schedule(body: bytes | str, *, expected_id: str = "") -> Schedule:
    """Validate an ``Effacement`` answer; raises SmartOAResponseError naming the first fault."""
    raw = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise SmartOAResponseError(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SmartOAResponseError("the answer is not a JSON object")
    contract_id = _string(data, "id")
    if expected_id and contract_id != expected_id:
        raise SmartOAResponseError(f"id {contract_id!r} is not the contract {expected_id!r}")
    update_date = _instant(data.get("update_date"), "update_date")
    try:
        application_date = dt.date.fromisoformat(_string(data, "application_date"))
    except ValueError:
        raise SmartOAResponseError("application_date is not a YYYY-MM-DD date") from None
    periods = _periods(data.get("data"))
    _check_covers_day(periods, application_date)
    return Schedule(contract_id, update_date, application_date, tuple(periods), raw)


def _string(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise SmartOAResponseError(f"{key} is missing or not a string")
    return value


def _instant(value: Any, where: str) -> dt.datetime:
    # ISO 8601 with an explicit offset: a naive time would be ambiguous on DST nights.
    if not isinstance(value, str) or "T" not in value:
        raise SmartOAResponseError(f"{where} is not an ISO 8601 date-time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise SmartOAResponseError(f"{where} is not an ISO 8601 date-time") from None
    if parsed.utcoffset() is None:
        raise SmartOAResponseError(f"{where} has no UTC offset")
    return parsed.astimezone(dt.UTC)


def _periods(items: Any) -> list[Period]:
    if not isinstance(items, list) or not items:
        raise SmartOAResponseError("data is missing or empty")
    periods: list[Period] = []
    for index, item in enumerate(items):
        where = f"data[{index}]"
        if not isinstance(item, dict):
            raise SmartOAResponseError(f"{where} is not an object")
        start = _instant(item.get("start_date"), f"{where}.start_date")
        end = _instant(item.get("end_date"), f"{where}.end_date")
        value = item.get("value")
        # bool is an int in Python: true/false are not the API's 0.0/1.0.
        if isinstance(value, bool) or not isinstance(value, int | float) or value not in (0, 1):
            raise SmartOAResponseError(f"{where}.value must be 0.0 or 1.0")
        if end <= start:
            raise SmartOAResponseError(f"{where} ends before it starts")
        if periods and start != periods[-1].end:
            raise SmartOAResponseError(f"{where} does not start where the previous period ends")
        periods.append(Period(start, end, float(value)))
    return periods


def _check_covers_day(periods: list[Period], day: dt.date) -> None:
    midnight, next_midnight = local_day_bounds(day)
    if periods[0].start != midnight or periods[-1].end != next_midnight:
        raise SmartOAResponseError(f"the periods do not cover the local day {day.isoformat()}")
