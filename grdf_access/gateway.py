"""What the services need from GRDF, in the services' own terms.

``grdf_access.client`` speaks ADICT (and later RSF); this module narrows it to the operations
the services use and to small records they store, so a change of API version stays here.
``AdictGateway`` (in ``grdf_access.adict_gateway``) adapts the client to this protocol; tests may
pass any object with the same methods.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class GatewayError(Exception):
    """GRDF refused or failed a call; ``reason`` is GRDF's message (French) or ours."""

    def __init__(self, reason: str, *, code: str = "", status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Declaration:
    pce: str
    role: str
    postcode: str
    consent_start: dt.date
    consent_end: dt.date
    data_start: dt.date
    data_end: dt.date
    published: bool
    informative_daily: bool
    informative_hourly: bool
    contractual: bool
    technical: bool
    holder_name: str = ""
    holder_company: str = ""
    holder_email: str = ""
    holder_phone: str = ""


@dataclass(frozen=True)
class RemoteRight:
    """A right as GRDF lists it."""

    grdf_id: str
    pce: str
    state: str  # GRDF's etat_droit_acces, as sent
    consent_start: dt.date | None = None
    consent_end: dt.date | None = None
    data_start: dt.date | None = None
    data_end: dt.date | None = None
    proof_status: str = ""
    proof_deadline: dt.date | None = None
    journey: str = ""
    reason: str = ""  # why it was refused, revoked or made obsolete, when GRDF says
    # What a right declared outside the hub is imported with.
    role: str = ""
    types: frozenset[str] = frozenset()  # the hub's DataType values granted
    holder_name: str = ""
    holder_company: str = ""
    holder_email: str = ""
    holder_phone: str = ""
    postcode: str = ""


@dataclass(frozen=True)
class Reading:
    """One consumption record: a gas day, an hour or a published period."""

    start: dt.datetime  # aware
    end: dt.datetime  # aware
    energy_kwh: float | None
    volume_m3: float | None = None
    index_end_m3: float | None = None
    gas_day: dt.date | None = None
    estimated: bool = False
    provisional: bool = False


@dataclass
class ReadingBatch:
    """The records of one call and GRDF's notes on it (e.g. "no data" for a period)."""

    readings: list[Reading]
    notes: list[str] = field(default_factory=list)


@dataclass
class ProofFile:
    filename: str
    content_type: str
    content: bytes = field(repr=False)


class Gateway(Protocol):
    def declare(self, *, declaration: Declaration) -> RemoteRight: ...

    def modify(self, *, grdf_id: str, declaration: Declaration) -> RemoteRight: ...

    def terminate(self, *, grdf_id: str) -> None: ...

    def revoke(self, *, grdf_id: str) -> None: ...

    def list_rights(self, *, pces: Sequence[str] = ()) -> list[RemoteRight]: ...

    def published(self, *, pce: str, start: dt.date, end: dt.date) -> ReadingBatch: ...

    def informative_daily(self, *, pce: str, start: dt.date, end: dt.date) -> ReadingBatch: ...

    def informative_hourly(self, *, pce: str, start: dt.date, end: dt.date) -> ReadingBatch: ...

    # Days are gas days [start, end).

    def contractual(self, *, pce: str) -> dict[str, Any]: ...

    def technical(self, *, pce: str) -> dict[str, Any]: ...

    def send_proofs(self, *, grdf_id: str, files: Sequence[ProofFile]) -> None: ...

    def subscribe(
        self, *, pce: str, kind: str, start: dt.date, end: dt.date | None
    ) -> tuple[str, str]: ...  # (GRDF id, state)

    def cancel_subscription(self, *, grdf_id: str) -> None: ...
