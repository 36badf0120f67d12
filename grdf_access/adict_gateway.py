"""The services' ``Gateway`` on top of ``grdf_access.client.AdictClient``.

Maps the client's typed records to the small ones the services store, and every client or
transport error to ``GatewayError`` (with GRDF's message), so a failed call never escapes as
a 500. The credentials are the organisation's ``grdf`` provider credential when it has one,
else the settings' (the simulator's on the embedded defaults).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from typing import Any, TypeVar

import httpx
from django.conf import settings
from django.core.cache import cache

from grdf_access import client as adict
from grdf_access.gateway import (
    Declaration,
    GatewayError,
    ProofFile,
    Reading,
    ReadingBatch,
    RemoteRight,
)
from grdf_access.models import DataType
from hub.http import ProviderError
from hub.models import Organisation, ProviderCredential

PROVIDER = "grdf"

_TYPES = {
    DataType.PUBLISHED: adict.DataType.PUBLISHED,
    DataType.INFORMATIVE_DAILY: adict.DataType.INFORMATIVE,
    DataType.INFORMATIVE_HOURLY: adict.DataType.INFORMATIVE_HOURLY,
    DataType.CONTRACTUAL: adict.DataType.CONTRACTUAL,
    DataType.TECHNICAL: adict.DataType.TECHNICAL,
}

_HUB_TYPES = {wire: hub for hub, wire in _TYPES.items()}

T = TypeVar("T")


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except adict.AdictError as exc:
        raise GatewayError(exc.message or str(exc), code=exc.code, status=exc.http_status) from exc
    except ProviderError as exc:
        raise GatewayError(f"GRDF indisponible : {exc}", status=503) from exc
    except httpx.HTTPError as exc:
        raise GatewayError(f"GRDF injoignable : {type(exc).__name__}", status=503) from exc


def _call(fn: Callable[[], T]) -> T:
    with _translated():
        return fn()


def _remote(right: adict.AccessRight) -> RemoteRight:
    reason = right.refusal_source or right.revocation_source or right.obsolete_source
    return RemoteRight(
        grdf_id=right.right_id,
        pce=right.pce,
        state=str(right.state),
        consent_start=right.consent_start,
        consent_end=right.consent_end,
        data_start=right.data_start,
        data_end=right.data_end,
        proof_status=str(right.proof_status) if right.proof_status else "",
        proof_deadline=right.proof_deadline,
        journey=right.parcours,
        reason=reason,
        role=right.role,
        types=frozenset(_HUB_TYPES[t] for t in right.data_types if t in _HUB_TYPES),
        holder_name=right.holder_name,
        holder_company=right.holder_company,
        holder_email=right.holder_email,
        holder_phone=right.holder_mobile,
        postcode=right.postcode,
    )


def _types(declaration: Declaration) -> frozenset[adict.DataType]:
    flags = {
        DataType.PUBLISHED: declaration.published,
        DataType.INFORMATIVE_DAILY: declaration.informative_daily,
        DataType.INFORMATIVE_HOURLY: declaration.informative_hourly,
        DataType.CONTRACTUAL: declaration.contractual,
        DataType.TECHNICAL: declaration.technical,
    }
    return frozenset(_TYPES[t] for t, granted in flags.items() if granted)


def _reading(record: adict.ConsumptionRecord) -> Reading:
    end_reading = record.end_reading
    estimated = record.is_estimated or bool(
        end_reading and end_reading.quality.lower().startswith("estim")
    )
    return Reading(
        start=record.start,
        end=record.end,
        energy_kwh=record.energy_kwh,
        volume_m3=record.raw_volume_m3,
        index_end_m3=end_reading.raw_index if end_reading else None,
        gas_day=record.gas_day,
        estimated=estimated,
        provisional=bool(record.status) and not record.is_definitive,
    )


def _batch(records: adict.Records[adict.ConsumptionRecord]) -> ReadingBatch:
    return ReadingBatch(
        readings=[_reading(r) for r in records],
        notes=[p.reason if hasattr(p, "reason") else str(p) for p in records.problems],
    )


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        data = asdict(value)
        data.pop("raw", None)
        return {k: _jsonable(v) for k, v in data.items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class AdictGateway:
    """One organisation's door to GRDF through one ADICT client."""

    def __init__(self, client: adict.AdictClient) -> None:
        self.client = client

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> AdictGateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def declare(self, *, declaration: Declaration) -> RemoteRight:
        wire = adict.AccessDeclaration(
            pce=declaration.pce,
            role=adict.Role(declaration.role),
            postcode=declaration.postcode,
            consent_start=declaration.consent_start,
            consent_end=declaration.consent_end,
            data_types=_types(declaration),
            data_start=declaration.data_start,
            data_end=declaration.data_end,
            holder_name=declaration.holder_name,
            holder_company=declaration.holder_company,
            holder_email=declaration.holder_email,
            holder_mobile=declaration.holder_phone,
        )
        return _remote(_call(lambda: self.client.declare_access(declaration=wire)))

    def modify(self, *, grdf_id: str, declaration: Declaration) -> RemoteRight:
        change = adict.AccessModification(
            consent_end=declaration.consent_end,
            data_start=declaration.data_start,
            data_end=declaration.data_end,
            data_types=_types(declaration),
        )
        return _remote(
            _call(lambda: self.client.modify_access(right_id=grdf_id, modification=change))
        )

    def terminate(self, *, grdf_id: str) -> None:
        _call(lambda: self.client.terminate_access(right_id=grdf_id))

    def revoke(self, *, grdf_id: str) -> None:
        _call(lambda: self.client.revoke_access(right_id=grdf_id))

    def list_rights(self, *, pces: Sequence[str] = ()) -> list[RemoteRight]:
        if pces:
            records = _call(lambda: self.client.search_access_rights(pces=list(pces)))
        else:
            records = _call(self.client.list_access_rights)
        return [_remote(r) for r in records]

    def published(self, *, pce: str, start: dt.date, end: dt.date) -> ReadingBatch:
        return _batch(
            _call(lambda: self.client.published_consumption(pce=pce, start=start, end=end))
        )

    def informative_daily(self, *, pce: str, start: dt.date, end: dt.date) -> ReadingBatch:
        return _batch(
            _call(lambda: self.client.informative_consumption(pce=pce, start=start, end=end))
        )

    def informative_hourly(self, *, pce: str, start: dt.date, end: dt.date) -> ReadingBatch:
        return _batch(_call(lambda: self.client.hourly_consumption(pce=pce, start=start, end=end)))

    def contractual(self, *, pce: str) -> dict[str, Any]:
        data = _call(lambda: self.client.contractual_data(pce=pce))
        result: dict[str, Any] = _jsonable(data)
        return result

    def technical(self, *, pce: str) -> dict[str, Any]:
        data = _call(lambda: self.client.technical_data(pce=pce))
        result: dict[str, Any] = _jsonable(data)
        return result

    def send_proofs(self, *, grdf_id: str, files: Sequence[ProofFile]) -> None:
        wire = [adict.ProofFile(f.filename, f.content, f.content_type) for f in files]
        _call(lambda: self.client.upload_proofs(right_id=grdf_id, files=wire))

    def subscribe(
        self, *, pce: str, kind: str, start: dt.date, end: dt.date | None
    ) -> tuple[str, str]:
        made = _call(
            lambda: self.client.subscribe(
                pce=pce, kind=adict.SubscriptionKind(kind), start=start, end=end
            )
        )
        return made.subscription_id, made.state

    def cancel_subscription(self, *, grdf_id: str) -> None:
        _call(lambda: self.client.cancel_subscription(subscription_id=grdf_id))


def credentials_for(organisation: Organisation) -> tuple[str, str] | None:
    """The organisation's GRDF client id and secret, if it stored some."""
    stored = (
        ProviderCredential.objects.filter(organisation=organisation, provider=PROVIDER)
        .order_by("pk")
        .first()
    )
    if stored is None or not stored.client_id:
        return None
    return stored.client_id, stored.secret


def owns_credential(organisation: Organisation) -> bool:
    """Whether rights listed by the organisation's GRDF credential are the organisation's.

    True for its own stored credential; for the settings' credential (shared by every
    organisation without one) only for the organisation named by
    ``GRDF_EXTERNAL_RIGHTS_ORGANISATION``, so that no right reaches another tenant.
    """
    if credentials_for(organisation) is not None:
        return True
    owner = getattr(settings, "GRDF_EXTERNAL_RIGHTS_ORGANISATION", "")
    return bool(owner) and owner == organisation.slug


def default_transport() -> httpx.BaseTransport | None:
    """The transport of new gateways: None (the network); tests serve the simulator in-process."""
    return None


class SharedRateLimiter(adict.RateLimiter):
    """One request budget per client credential for every process at once.

    The client's own bucket is per process; Celery workers and web processes share one GRDF
    account, so the budget lives in the shared cache (Redis in production): time is cut into
    slots of ``1 / rate`` seconds and a request claims a free slot with an atomic ``add``,
    waiting for the next slot when another process took it.
    """

    def __init__(
        self,
        *,
        key: str,
        rate: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = 60.0,
    ) -> None:
        super().__init__(rate, clock=clock, sleep=sleep)
        self.key = hashlib.sha256(key.encode()).hexdigest()[:16]
        self._now = clock
        self._pause = sleep
        self.max_wait = max_wait
        self.last_slot: int | None = None

    def acquire(self) -> float:
        waited = 0.0
        while waited < self.max_wait:
            now = self._now()
            slot = int(now * self.rate)
            if cache.add(f"grdf-rate:{self.key}:{slot}", 1, timeout=int(2 / self.rate) + 2):
                self.last_slot = slot  # which slot this process took (tests across processes)
                return waited
            pause = max((slot + 1) / self.rate - now, 0.001)
            self._pause(pause)
            waited += pause
        # A saturated budget must not stall a sync for ever: go on, GRDF's 429 backs off.
        return waited


def default_rate_limiter() -> adict.RateLimiter | None:
    """The limiter of new gateways: None (one shared budget per credential, see below)."""
    return None


def gateway_for(
    organisation: Organisation,
    *,
    transport: httpx.BaseTransport | None = None,
    rate_limiter: adict.RateLimiter | None = None,
) -> AdictGateway:
    """A gateway on the organisation's credential (or the settings'); close it when done."""
    credentials = credentials_for(organisation)
    client_id, secret = credentials if credentials else (None, None)
    limiter = rate_limiter or default_rate_limiter()
    if limiter is None:
        limiter = SharedRateLimiter(
            key=f"{settings.GRDF_TOKEN_URL}|{client_id or settings.GRDF_CLIENT_ID}",
            rate=settings.GRDF_REQUESTS_PER_SECOND,
        )
    return AdictGateway(
        adict.AdictClient(
            client_id=client_id,
            client_secret=secret,
            transport=transport or default_transport(),
            rate_limiter=limiter,
        )
    )
