"""The arbitration rule (hub/control/README.md): priority order, limits, restore, one command."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.control.arbitration import DEFAULT, LoadState, Request, arbitrate
from hub.control.registry import Priority

NOW = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)  # the spring-forward night, Paris


def load(**kw):  # type: ignore[no-untyped-def]
    base = {"load_id": 1, "value": 1.0, "full": 1.0, "changed_at": NOW - dt.timedelta(hours=1)}
    return LoadState(**{**base, **kw})


def test_the_documented_order_decides():
    """Issue rule: « safety and manual override first, then Smart OA stop, Flex Ready confirmed
    request, subscribed-power servo, Ecowatt, tariff piloting »."""
    order = [
        Priority.SAFETY,
        Priority.MANUAL,
        Priority.SMARTOA_STOP,
        Priority.FLEXREADY_REQUEST,
        Priority.POWER_SERVO,
        Priority.ECOWATT,
        Priority.TARIFF,
    ]
    assert order == sorted(Priority)
    requests = [
        Request(1, 1.0, "tariff", Priority.TARIFF, "HC"),
        Request(1, 0.0, "servo", Priority.POWER_SERVO, "préavis"),
    ]
    (decision,) = arbitrate(loads=[load()], requests=requests, now=NOW)
    assert (decision.target, decision.holder, decision.send) == (0.0, "servo", True)
    manual = [*requests, Request(1, 1.0, "manuel", Priority.MANUAL, "visite")]
    (decision,) = arbitrate(loads=[load(value=0.0)], requests=manual, now=NOW)
    assert (decision.target, decision.holder) == (1.0, "manuel")


def test_a_reason_that_ends_restores_the_normal_value():
    (decision,) = arbitrate(loads=[load(value=0.0)], requests=[], now=NOW)
    assert (decision.target, decision.holder, decision.send) == (1.0, DEFAULT, True)


def test_min_off_time_holds_a_restore_but_not_a_manual_override():
    recent = load(value=0.0, changed_at=NOW - dt.timedelta(seconds=60), min_off_s=600)
    (decision,) = arbitrate(loads=[recent], requests=[], now=NOW)
    assert not decision.send and decision.blocked == "durée minimale d'arrêt"
    manual = Request(1, 1.0, "manuel", Priority.MANUAL, "visite")
    (decision,) = arbitrate(loads=[recent], requests=[manual], now=NOW)
    assert decision.send


def test_max_off_per_day_brings_the_load_back_whoever_wants_it_off():
    tired = load(value=0.0, max_off_s_per_day=3600, off_s_today=3600)
    servo = Request(1, 0.0, "servo", Priority.POWER_SERVO, "préavis")
    (decision,) = arbitrate(loads=[tired], requests=[servo], now=NOW)
    assert (decision.target, decision.send) == (1.0, True)


def test_an_unknown_state_is_never_commanded():
    (decision,) = arbitrate(loads=[load(value=None)], requests=[], now=NOW)
    assert not decision.send


values = st.sampled_from([0.0, 0.5, 1.0])
loads_strategy = st.lists(
    st.builds(
        LoadState,
        load_id=st.integers(1, 8),
        value=st.one_of(st.none(), values),
        full=st.just(1.0),
        changed_at=st.one_of(
            st.none(), st.integers(0, 7200).map(lambda s: NOW - dt.timedelta(seconds=s))
        ),
        min_on_s=st.integers(0, 3600),
        min_off_s=st.integers(0, 3600),
        max_off_s_per_day=st.one_of(st.none(), st.integers(0, 7200)),
        off_s_today=st.integers(0, 7200),
    ),
    max_size=8,
    unique_by=lambda x: x.load_id,
)
requests_strategy = st.lists(
    st.builds(
        Request,
        load_id=st.integers(1, 10),
        value=values,
        source=st.sampled_from(["a", "b", "c"]),
        priority=st.sampled_from(list(Priority)),
        reason=st.just("r"),
    ),
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(loads=loads_strategy, requests=requests_strategy)
def test_no_load_commanded_twice_and_limits_always_respected(loads, requests):
    """Issue: « no load commanded twice at once, limits always respected »."""
    decisions = arbitrate(loads=loads, requests=requests, now=NOW)
    assert len({d.load_id for d in decisions}) == len(decisions) == len(loads)
    by_id = {x.load_id: x for x in loads}
    for decision in decisions:
        state = by_id[decision.load_id]
        if not decision.send:
            continue
        assert state.value is not None and decision.target != state.value
        wanted = [r for r in requests if r.load_id == decision.load_id]
        top = min((r.priority for r in wanted), default=None)
        if top is not None and top <= Priority.MANUAL:
            continue  # safety and manual go past the limits, on purpose
        elapsed = (NOW - state.changed_at).total_seconds() if state.changed_at else None
        was_off, goes_off = state.value < state.full, decision.target < state.full
        if goes_off and not was_off:
            assert elapsed is None or elapsed >= state.min_on_s
            assert state.max_off_s_per_day is None or state.off_s_today < state.max_off_s_per_day
        if was_off and not goes_off and decision.reason != "arrêt maximal du jour atteint":
            assert elapsed is None or elapsed >= state.min_off_s
