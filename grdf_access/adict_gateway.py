"""GRDF for the services: one ADICT client on the organisation's credential, errors translated.

The services use the client's records (``grdf_access.client``: ``AccessRight``,
``AccessDeclaration``, ``Records[ConsumptionRecord]``…) directly; this module adds only what
every call needs: the credential (the organisation's ``grdf`` provider credential when it has
one, else the settings', the simulator's on the embedded defaults), one request budget shared by
every process, and every client or transport error turned into ``GatewayError`` (with GRDF's
message), so a failed call never escapes as a 500.
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
from hub import metrics
from hub.http import ProviderError
from hub.models import Organisation, ProviderCredential

PROVIDER = "grdf"

T = TypeVar("T")


class GatewayError(Exception):
    """GRDF refused or failed a call; ``reason`` is GRDF's message (French) or ours."""

    def __init__(self, reason: str, *, code: str = "", status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status


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

    def declare(self, *, declaration: adict.AccessDeclaration) -> adict.AccessRight:
        return _call(lambda: self.client.declare_access(declaration=declaration))

    def modify(self, *, grdf_id: str, modification: adict.AccessModification) -> adict.AccessRight:
        return _call(lambda: self.client.modify_access(right_id=grdf_id, modification=modification))

    def terminate(self, *, grdf_id: str) -> None:
        _call(lambda: self.client.terminate_access(right_id=grdf_id))

    def revoke(self, *, grdf_id: str) -> None:
        _call(lambda: self.client.revoke_access(right_id=grdf_id))

    def list_rights(self, *, pces: Sequence[str] = ()) -> list[adict.AccessRight]:
        if pces:
            records = _call(lambda: self.client.search_access_rights(pces=list(pces)))
        else:
            records = _call(self.client.list_access_rights)
        return list(records)

    # Days are gas days [start, end).

    def published(
        self, *, pce: str, start: dt.date, end: dt.date
    ) -> adict.Records[adict.ConsumptionRecord]:
        return _call(lambda: self.client.published_consumption(pce=pce, start=start, end=end))

    def informative_daily(
        self, *, pce: str, start: dt.date, end: dt.date
    ) -> adict.Records[adict.ConsumptionRecord]:
        return _call(lambda: self.client.informative_consumption(pce=pce, start=start, end=end))

    def informative_hourly(
        self, *, pce: str, start: dt.date, end: dt.date
    ) -> adict.Records[adict.ConsumptionRecord]:
        return _call(lambda: self.client.hourly_consumption(pce=pce, start=start, end=end))

    def contractual(self, *, pce: str) -> dict[str, Any]:
        data = _call(lambda: self.client.contractual_data(pce=pce))
        result: dict[str, Any] = _jsonable(data)
        return result

    def technical(self, *, pce: str) -> dict[str, Any]:
        data = _call(lambda: self.client.technical_data(pce=pce))
        result: dict[str, Any] = _jsonable(data)
        return result

    def send_proofs(self, *, grdf_id: str, files: Sequence[adict.ProofFile]) -> None:
        _call(lambda: self.client.upload_proofs(right_id=grdf_id, files=list(files)))

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
                _count_wait(waited)
                self.last_slot = slot  # which slot this process took (tests across processes)
                return waited
            pause = max((slot + 1) / self.rate - now, 0.001)
            self._pause(pause)
            waited += pause
        # A saturated budget must not stall a sync for ever: go on, GRDF's 429 backs off.
        _count_wait(waited)
        return waited


def _count_wait(waited: float) -> None:
    if waited > 0:
        metrics.GRDF_RATE_WAITS.inc()
        metrics.GRDF_RATE_WAIT_SECONDS.inc(waited)


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
