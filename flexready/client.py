"""Operator side of Annex 1: send flexibility requests to any Flex Ready BACS (this hub's, the
certification emulator's, a customer's), on hub's HTTP factory. Knows nothing of the ORM."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from hub.http import build_client


class BacsApiError(Exception):
    """The BACS answered an error; ``status`` and ``body`` say which."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"BACS answered {status}: {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class PowerStep:
    start: dt.datetime
    end: dt.datetime
    value: float
    unit: str = "W"
    multiplier: str = "k"

    def as_json(self) -> dict[str, Any]:
        return {
            "power": {"unit": self.unit, "multiplier": self.multiplier, "value": self.value},
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


@dataclass(frozen=True)
class RemoteBacs:
    bacs_id: str
    name: str
    description: str


@dataclass(frozen=True)
class RemoteAsset:
    asset_id: str
    flex_product: str
    potential: Mapping[str, Any]


@dataclass(frozen=True)
class RequestAnswer:
    """A create or confirm answer: accepted (or confirmed), or refused with reasons."""

    status_code: int
    request_id: str
    status: str
    reasons: list[dict[str, Any]] = field(default_factory=list)
    body: Mapping[str, Any] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.status == "refused" or bool(self.reasons)


@dataclass
class OperatorClient:
    """One BACS API. ``session_id`` adds the annex's session segment; ``operator`` the
    ``/operator`` one; ``emulator_headers`` go out as ``EMULATOR_<name>`` headers."""

    base_url: str
    token: str
    session_id: str | None = None
    operator: bool = True
    emulator_headers: Mapping[str, str] = field(default_factory=dict)
    transport: httpx.BaseTransport | None = None
    _http: httpx.Client | None = None

    def __enter__(self) -> OperatorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            headers = {
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
                **{f"EMULATOR_{k}": v for k, v in self.emulator_headers.items()},
            }
            self._http = build_client(
                base_url=self.base_url.rstrip("/") + "/",
                headers=headers,
                transport=self.transport,
                provider="flexready-bacs",
                retries=1,
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _path(self, tail: str) -> str:
        parts = [self.session_id] if self.session_id else []
        if self.operator:
            parts.append("operator")
        return "/".join([*parts, tail])

    def _json(self, response: httpx.Response, *, ok: Sequence[int] = (200, 201)) -> Any:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code not in ok:
            raise BacsApiError(response.status_code, body)
        return body

    def list_bacs(self) -> list[RemoteBacs]:
        rows = self._json(self.http.get(self._path("bacs")))
        return [RemoteBacs(r["bacsID"], r.get("name", ""), r.get("description", "")) for r in rows]

    def list_assets(self, bacs_id: str) -> list[RemoteAsset]:
        rows = self._json(self.http.get(self._path(f"bacs/{bacs_id}/assets")))
        return [
            RemoteAsset(r["assetID"], r.get("flexProduct", ""), r.get("potential", {}))
            for r in rows
        ]

    def potential(self, bacs_id: str, asset_id: str) -> Mapping[str, Any]:
        body = self._json(
            self.http.get(self._path(f"bacs/{bacs_id}/assets/{asset_id}/flexibilities"))
        )
        return dict(body.get("potential", body))

    def _answer(self, response: httpx.Response, request_id: str) -> RequestAnswer:
        body = self._json(response, ok=(200, 201, 422))
        return RequestAnswer(
            response.status_code,
            body.get("requestID", request_id),
            # A refusal is a problem (status 422): the request's own status is beside it.
            str(body.get("requestStatus") or body.get("status", "")),
            list(body.get("reasons", [])),
            body,
        )

    def create_request(
        self,
        *,
        bacs_id: str,
        asset_id: str,
        request_id: str,
        flex_product: str,
        steps: Sequence[PowerStep],
    ) -> RequestAnswer:
        payload = {
            "requestID": request_id,
            "flexProduct": flex_product,
            "power": [s.as_json() for s in steps],
        }
        path = self._path(f"bacs/{bacs_id}/assets/{asset_id}/flexibilities/request")
        return self._answer(self.http.post(path, json=payload), request_id)

    def confirm_request(
        self,
        *,
        bacs_id: str,
        asset_id: str,
        request_id: str,
        flex_product: str,
        steps: Sequence[PowerStep],
        ack_price: Mapping[str, Any] | None = None,
    ) -> RequestAnswer:
        payload: dict[str, Any] = {
            "flexProduct": flex_product,
            "power": [s.as_json() for s in steps],
        }
        if ack_price is not None:
            payload["ackPrice"] = dict(ack_price)
        path = self._path(
            f"bacs/{bacs_id}/assets/{asset_id}/flexibilities/request/{request_id}/confirm"
        )
        return self._answer(self.http.post(path, json=payload), request_id)

    def realisation(self, *, bacs_id: str, asset_id: str, request_id: str) -> Mapping[str, Any]:
        path = self._path(
            f"bacs/{bacs_id}/assets/{asset_id}/flexibilities/request/{request_id}/consumptions"
        )
        return dict(self._json(self.http.get(path)))

    def consumptions(
        self, *, bacs_id: str, asset_id: str, start: dt.datetime, end: dt.datetime
    ) -> Mapping[str, Any]:
        path = self._path(f"bacs/{bacs_id}/assets/{asset_id}/consumptions")
        params = {"start": start.isoformat(), "end": end.isoformat()}
        return dict(self._json(self.http.get(path, params=params)))
