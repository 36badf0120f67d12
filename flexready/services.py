"""Flexibility requests through their lifecycle; each step is one named action and one audit event.

received -> accepted | refused -> confirmed -> active -> realised | failed
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from flexready import program as prog
from flexready import realisation, selectors
from flexready.models import Asset, CertificationSession, FlexRequest, RequestStatus
from hub import mqtt
from hub.actors import Actor
from hub.models import AuditEvent
from hub.services import audit
from hub.units import UnitError, parse_number, parse_triplet

PRICE_UNIT = "EUR/kWh"


class DuplicateRequest(Exception):
    """The asset already holds a request with this requestID."""


class WrongState(Exception):
    """The action does not apply to the request in its current status."""

    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"a {status} request cannot be {action}")
        self.status = status


@dataclass(frozen=True)
class Caller:
    label: str
    ip: str | None = None
    user: Any = None


@dataclass(frozen=True)
class Outcome:
    request: FlexRequest
    reasons: list[prog.Reason]

    @property
    def refused(self) -> bool:
        return bool(self.reasons)


# Home Assistant (hub.mqtt): an event when an operator's request is confirmed.
MQTT_CONFIRMED = mqtt.Entity(
    "flexready_request",
    "Flex Ready : demande confirmée",
    component="event",
    event_types=("request_confirmed",),
)


def potential_of(asset: Asset) -> prog.Potential:
    return prog.Potential(
        flex_product=asset.flex_product,
        power_w=asset.power_w,
        mobilisation_delay=dt.timedelta(seconds=asset.mobilisation_delay_s),
        max_duration=dt.timedelta(seconds=asset.max_duration_s),
        activations_per_day=asset.activations_per_day,
        periods=[(p.start, p.end) for p in asset.periods.all()],
    )


def _activations_that_day(asset: Asset, start: dt.datetime, *, exclude: int | None) -> int:
    live = FlexRequest.objects.filter(selectors.live_that_day(start), asset=asset)
    if exclude is not None:
        live = live.exclude(pk=exclude)
    return live.count()


def _event(
    request: FlexRequest, *, action: str, caller: Caller, now: dt.datetime, after: Mapping[str, Any]
) -> AuditEvent:
    return audit.build(
        action=f"flexready.request.{action}",
        actor=Actor(user=caller.user, label=caller.label, ip=caller.ip),
        organisation=request.asset.bacs.organisation,
        target=request,
        after=dict(after),
        at=now,
    )


def _record(
    request: FlexRequest, *, action: str, caller: Caller, now: dt.datetime, after: Mapping[str, Any]
) -> None:
    audit.record_many([_event(request, action=action, caller=caller, now=now, after=after)])


def parse_request_id(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise prog.ProgramError("requestID", _("required (a non-empty string)"))
    if len(raw) > 100:
        raise prog.ProgramError("requestID", _("at most 100 characters"))
    return raw.strip()


def parse_product(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise prog.ProgramError("flexProduct", _("required (a product code such as WID)"))
    return raw.strip()


def create_request(
    *,
    asset: Asset | selectors.AssetKey,
    request_id: str,
    flex_product: str,
    steps: Sequence[prog.ProgramStep],
    now: dt.datetime,
    caller: Caller,
    session: CertificationSession | None = None,
    emulator_headers: Mapping[str, str] | None = None,
) -> Outcome:
    """Receive a request, check it against the asset's potential, accept or refuse it.

    ``asset`` is the asset, or the caller's names for it: it is then read with its lock and the
    day's counts, in one statement (``Asset.DoesNotExist`` when there is none, or when the
    key's operator maps to no organisation).
    A refused request is kept (with its reasons) so that the operator and the journal see it;
    its requestID is then taken.
    """
    try:
        with transaction.atomic():
            # With the lock, the day's activations and whether the requestID is taken: under
            # the lock nobody else can add a request to this asset meanwhile.
            asset, live, taken = _locked(asset, start=steps[0].start, request_id=request_id)
            if taken:
                raise DuplicateRequest(request_id)
            reasons = prog.check(
                potential=potential_of(asset),
                flex_product=flex_product,
                steps=steps,
                now=now,
                activations_that_day=live,
            )
            request = FlexRequest(
                asset=asset,
                request_id=request_id,
                flex_product=flex_product,
                program=[s.as_json() for s in steps],
                start=steps[0].start,
                end=steps[-1].end,
                # Stored with its outcome at once; the trail still shows "received" first.
                status=RequestStatus.REFUSED if reasons else RequestStatus.ACCEPTED,
                reasons=[r.as_json() for r in reasons],
                caller=caller.label[:200],
                session=session,
                emulator_headers=dict(emulator_headers or {}),
                received_at=now,
            )
            audit.insert_recorded(
                request,
                events=[
                    _event(
                        request,
                        action="received",
                        caller=caller,
                        now=now,
                        after={"request_id": request_id, "program": request.program},
                    ),
                    _event(
                        request,
                        action=request.status,
                        caller=caller,
                        now=now,
                        after={"status": request.status, "reasons": request.reasons},
                    ),
                ],
            )
    except IntegrityError:
        # A request stored outside this path (admin, a data fix) with the same requestID.
        raise DuplicateRequest(request_id) from None
    return Outcome(request, reasons)


def _locked(
    asset: Asset | selectors.AssetKey, *, start: dt.datetime, request_id: str
) -> tuple[Asset, int, bool]:
    """The asset, locked to the end of the transaction, with its live requests on the local
    day of ``start`` and whether ``request_id`` is taken (read in the same statement as the
    lock, its allowed periods too, when named by a key). One request at a time per asset, so
    two concurrent requests cannot both take the day's last activation; the asset's row alone
    (FOR NO KEY UPDATE): rows referring to it (requests of other callers being confirmed,
    journal entries) are not held up."""
    if isinstance(asset, selectors.AssetKey):
        found = selectors.locked_asset(asset, day_of=start, request_id=request_id)
        return found.asset, found.live_that_day, found.request_id_taken
    list(
        Asset.objects.select_for_update(no_key=True)
        .filter(pk=asset.pk)
        .order_by()
        .values_list("pk", flat=True)
    )
    live, taken = selectors.day_counts(asset=asset, start=start, request_id=request_id)
    return asset, live, taken


def parse_ack_price(raw: Any) -> dict[str, Any] | None:
    """The confirmation's ``ackPrice`` triplet, kept as the operator wrote it (unit spelling and
    multiplier) with its value in EUR/kWh; a unit that is not a price per energy is a 400."""
    if raw is None:
        return None
    try:
        quantity = parse_triplet(raw)
    except UnitError as exc:
        raise prog.ProgramError(f"ackPrice.{exc.field}", exc.reason) from None
    if quantity.unit != PRICE_UNIT:
        raise prog.ProgramError(
            "ackPrice.unit",
            _("a price is needed (EUR/kWh), got %(unit)s") % {"unit": quantity.unit},
        )
    multiplier = raw.get("multiplier") or ""
    return {
        "value": str(parse_number(raw["value"])),
        "unit": str(raw["unit"]).strip(),
        "multiplier": multiplier,
        "eur_per_kwh": str(quantity.value),
    }


def ack_price_triplet(stored: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The stored ``ackPrice`` as the annex's triplet, in the operator's own terms."""
    if not stored:
        return None
    return {
        "unit": stored.get("unit", PRICE_UNIT),
        "multiplier": stored.get("multiplier", ""),
        "value": float(stored["value"]),
    }


def _against_request(request: FlexRequest, steps: Sequence[prog.ProgramStep]) -> list[prog.Reason]:
    """A confirmation may keep or lower what was accepted, never ask for more or elsewhen."""
    accepted = [prog.ProgramStep.from_json(s) for s in request.program]
    reasons = []
    for i, step in enumerate(steps):
        covering = [a for a in accepted if a.start < step.end and step.start < a.end]
        inside = request.start <= step.start and step.end <= request.end
        if not inside:
            reasons.append(
                prog.Reason(
                    f"power[{i}]",
                    "outside_request",
                    f"[{step.start.isoformat()}, {step.end.isoformat()}) is not inside the "
                    f"accepted request [{request.start.isoformat()}, {request.end.isoformat()})",
                )
            )
        elif any(step.power_w > a.power_w for a in covering):
            reasons.append(
                prog.Reason(
                    f"power[{i}].power.value",
                    "power_above_request",
                    f"{step.power_w} W is more than the accepted request",
                )
            )
    return reasons


def confirm_request(
    *,
    request: FlexRequest,
    flex_product: str,
    steps: Sequence[prog.ProgramStep],
    ack_price: Mapping[str, Any] | None,
    now: dt.datetime,
    caller: Caller,
    activations_that_day: int | None = None,
) -> Outcome:
    """Confirm an accepted request; the confirmed program replaces the accepted one.

    A confirmation that breaks a rule is refused with its reasons and the request stays
    accepted, so the operator may confirm again correctly. ``activations_that_day``: the
    asset's other live requests on the day of ``steps[0]``, when the caller read them with the
    request (``selectors.request_to_confirm``); counted here otherwise.
    """
    # The caller's copy is checked without a lock: only a confirmation changes an accepted
    # request's program, and the UPDATE below applies only while the request is still
    # accepted, so a copy that moved on meanwhile ends as WrongState, not as a second
    # confirmation. The day's count needs no lock either: this request is already one of
    # the day's live ones, and creations (which lock the asset) count it.
    if request.status != RequestStatus.ACCEPTED:
        raise WrongState(request.status, "confirmed")
    if activations_that_day is None:
        activations_that_day = _activations_that_day(
            request.asset, steps[0].start, exclude=request.pk
        )
    reasons = prog.check(
        potential=potential_of(request.asset),
        flex_product=flex_product,
        steps=steps,
        now=now,
        activations_that_day=activations_that_day,
    ) + _against_request(request, steps)
    if reasons:
        with transaction.atomic():
            # Refused: the request stays as it is; the trail says so while it is accepted.
            asset = request.asset
            request = FlexRequest.objects.select_for_update(no_key=True).get(pk=request.pk)
            request.asset = asset
            if request.status != RequestStatus.ACCEPTED:
                raise WrongState(request.status, "confirmed")
            _record(
                request,
                action="confirmation_refused",
                caller=caller,
                now=now,
                after={"reasons": [r.as_json() for r in reasons]},
            )
        return Outcome(request, reasons)
    program = [s.as_json() for s in steps]
    stored_price = dict(ack_price) if ack_price is not None else None
    event = _event(
        request,
        action="confirmed",
        caller=caller,
        now=now,
        after={"program": program, "ack_price": stored_price},
    )
    # The UPDATE applies only to a request still accepted (its own row lock, no SELECT
    # before it), and its event is written in the same statement: one round trip, atomic
    # and committed on its own.
    updated = audit.update_row_recorded(
        FlexRequest,
        pk=request.pk,
        expected={"status": RequestStatus.ACCEPTED},
        values={
            "program": program,
            "start": steps[0].start,
            "end": steps[-1].end,
            "ack_price": stored_price,
            "status": RequestStatus.CONFIRMED,
            "confirmed_at": now,
        },
        events=[event],
    )
    if not updated:
        current = FlexRequest.objects.filter(pk=request.pk).values_list("status", flat=True)
        raise WrongState(next(iter(current), request.status), "confirmed")
    request.program = program
    request.start, request.end = steps[0].start, steps[-1].end
    request.ack_price = stored_price
    request.status = RequestStatus.CONFIRMED
    request.confirmed_at = now
    # Outside a transaction the statement has committed: published now; inside one (a
    # caller's), once it commits.
    mqtt.publish_event_on_commit(
        organisation_id=request.asset.bacs.organisation_id,
        entity=MQTT_CONFIRMED,
        event_type="request_confirmed",
        attributes={"request": request.request_id, "start": request.start, "end": request.end},
    )
    return Outcome(request, [])


def advance(*, request: FlexRequest, now: dt.datetime, caller: Caller) -> FlexRequest:
    """Move a confirmed request along the clock: active at its start, then realised or failed.

    The end is judged on the building's meter once its data covers the request; without data
    for ``FLEXREADY_DATA_GRACE`` after the end the request fails. The row is locked and read
    again first, as ``confirm_request`` does: beat and a reader advancing the same request at
    once move it (and audit the move) once. ``request`` is updated in place and returned.
    """
    if request.status not in (RequestStatus.CONFIRMED, RequestStatus.ACTIVE) or now < request.start:
        return request  # nothing to move: no lock taken
    with transaction.atomic():
        locked = (
            FlexRequest.objects.select_for_update(of=("self",))
            .select_related("asset__bacs__organisation", "asset__bacs__metering_point")
            .get(pk=request.pk)
        )
        _advance_locked(locked, now=now, caller=caller)
    request.status, request.realisation = locked.status, locked.realisation
    return request


def _advance_locked(request: FlexRequest, *, now: dt.datetime, caller: Caller) -> None:
    if request.status == RequestStatus.CONFIRMED and now >= request.start:
        request.status = RequestStatus.ACTIVE
        request.save(update_fields=["status"])
        _record(request, action="active", caller=caller, now=now, after={"status": "active"})
    if request.status != RequestStatus.ACTIVE or now < request.end:
        return
    result = realisation.realise(request=request, now=now)
    request.realisation = result.as_json()
    grace = dt.timedelta(seconds=settings.FLEXREADY_DATA_GRACE_SECONDS)
    if result.complete:
        ratio = Decimal(str(settings.FLEXREADY_REALISATION_MIN_RATIO))
        ok = result.requested_wh > 0 and result.delivered_wh >= ratio * result.requested_wh
        request.status = RequestStatus.REALISED if ok else RequestStatus.FAILED
    elif now >= request.end + grace:
        request.status = RequestStatus.FAILED
    request.save(update_fields=["status", "realisation"])
    if request.status != RequestStatus.ACTIVE:
        _record(
            request,
            action=request.status,
            caller=caller,
            now=now,
            after={
                "status": request.status,
                "delivered_wh": str(result.delivered_wh),
                "requested_wh": str(result.requested_wh),
            },
        )
