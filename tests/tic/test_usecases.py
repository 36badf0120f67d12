"""The use cases computed from frames, without a database (tic.usecases)."""

from __future__ import annotations

import datetime as dt

from hub import quantities as q
from tic.protocol import Frame, TicStreamDecoder, encode_frame
from tic.simulator import PARIS, SimulatedPmePmi, linky_standard_frame
from tic.usecases import TD_QUANTITY, MeterRuntime, process

T0 = dt.datetime(2026, 3, 10, 9, 0, 3, tzinfo=dt.UTC)


def _frames(data: bytes) -> list[Frame]:
    return TicStreamDecoder().feed(data)


def _run(
    meter: SimulatedPmePmi,
    runtime: MeterRuntime,
    *,
    seconds: int,
    power: float,
    start=T0,
    period="HPE",
):
    outcomes = []
    for second in range(0, seconds, 10):
        at = start + dt.timedelta(seconds=second)
        (frame,) = _frames(meter.frame(at=at, power_va=power, period=period))
        assert frame.valid, frame.errors
        outcomes.append((at, process(runtime, frame, at=at)))
    return outcomes


def test_index_names_keep_labels_apart() -> None:
    def name(label: str) -> str:
        return q.index_for(label).name

    assert name("EAp1SD") == "energy_index_eap1sd"
    assert name("ER+P_s") != name("ER-P_s")
    assert name("EAP_s2") == "energy_index_eap_s2"


def test_power_over_td_as_share_of_ps_from_apparent_energy() -> None:
    runtime = MeterRuntime(td_minutes=10)
    outcomes = _run(SimulatedPmePmi(ads="041436028024"), runtime, seconds=900, power=21_000)
    assert runtime.subscribed_power == 42_000 and runtime.power_unit == "VA"
    # EAPP_s is in whole VAh: the mean over 10 minutes is exact to well under 1 %.
    assert abs(runtime.power - 21_000) < 210
    assert abs(runtime.power_share - 50) < 0.5
    quantities = {m.quantity for _at, o in outcomes for m in o.measures}
    assert {
        q.APPARENT_POWER_IMPORT.name,
        q.SUBSCRIBED_POWER_SHARE.name,
        q.SUBSCRIBED_POWER.name,
        q.TD_APPARENT_ENERGY_IMPORT.name,
        q.index_for("EAP_s").name,
    } <= quantities
    assert not any(e.kind.startswith("preavis") for _at, o in outcomes for e in o.events)


def test_preavis_start_and_end_are_events() -> None:
    runtime = MeterRuntime()
    meter = SimulatedPmePmi(ads="041436028024")
    _run(meter, runtime, seconds=60, power=20_000)
    high = _run(meter, runtime, seconds=60, power=40_000, start=T0 + dt.timedelta(minutes=1))
    assert [e.kind for _at, o in high for e in o.events] == ["preavis_start"]
    assert runtime.preavis and runtime.preavis_since == high[0][0]
    low = _run(meter, runtime, seconds=30, power=10_000, start=T0 + dt.timedelta(minutes=2))
    assert [e.kind for _at, o in low for e in o.events] == ["preavis_end"]
    assert not runtime.preavis


def test_clock_drift_alert_past_threshold_and_cleared() -> None:
    runtime = MeterRuntime(drift_threshold=60)
    late = SimulatedPmePmi(ads="041436028024", drift=dt.timedelta(seconds=-95))
    (_at, outcome), *_ = _run(late, runtime, seconds=10, power=1000)
    assert [e.kind for e in outcome.events] == ["drift_alert"]
    assert -96 <= runtime.drift <= -94
    fixed = SimulatedPmePmi(ads="041436028024", drift=dt.timedelta(seconds=2))
    (_, cleared), *_ = _run(fixed, runtime, seconds=10, power=1000)
    assert [e.kind for e in cleared.events] == ["drift_cleared"]


def test_drift_accounts_for_the_wire_time_after_the_date_group() -> None:
    meter = SimulatedPmePmi(ads="041436028024")
    (frame,) = _frames(meter.frame(at=T0, power_va=0))
    wire = (len(frame.raw) - frame.raw.find(b"\nDATE")) * 10 / 1200
    runtime = MeterRuntime()
    # Received once the whole frame is in, at 1200 Bd: without the correction it looks late.
    process(runtime, frame, at=T0 + dt.timedelta(seconds=wire), baud=1200)
    assert abs(runtime.drift) < 0.01


def test_tariff_changes_and_energy_per_period_per_day_on_a_dst_day() -> None:
    # 2026-03-29 (Paris, 23 h): frames from 21:50 UTC on the 28th (22:50 local) to past midnight.
    runtime = MeterRuntime()
    meter = SimulatedPmePmi(ads="041436028024")
    start = dt.datetime(2026, 3, 28, 22, 50, tzinfo=dt.UTC)
    energy: dict = {}
    events = []
    for second in range(0, 1200, 10):
        at = start + dt.timedelta(seconds=second)
        period = "HPE" if at < dt.datetime(2026, 3, 28, 23, 0, tzinfo=dt.UTC) else "HCE"
        (frame,) = _frames(meter.frame(at=at, power_va=36_000, period=period))
        outcome = process(runtime, frame, at=at)
        events += outcome.events
        for key, wh in outcome.energy.items():
            energy[key] = energy.get(key, 0) + wh
    changes = [(e.calendar, e.previous, e.current) for e in events if e.kind == "tariff_change"]
    assert changes == [("distributeur", "HPE", "HCE"), ("fournisseur", "HPE", "HCE")]
    days = {day for day, _cal, _period in energy}
    # 23:00 UTC is midnight in Paris: the energy after it belongs to the 29th.
    assert days == {dt.date(2026, 3, 28), dt.date(2026, 3, 29)}
    total = sum(wh for (day, cal, _p), wh in energy.items() if cal == "distributeur")
    assert abs(total - 36_000 * 0.9 * (1190 / 3600)) < 40  # whole-Wh counters


def test_linky_standard_power_and_reference_power() -> None:
    runtime = MeterRuntime()
    (frame,) = _frames(linky_standard_frame(adsc="061961361253", at=T0, east=1000, sinsts=1500))
    outcome = process(runtime, frame, at=T0)
    assert runtime.subscribed_power == 6000 and runtime.power == 1500
    assert runtime.power_share == 25.0
    assert runtime.tariff_periods == {"fournisseur": "BASE"}
    assert any(m.quantity == q.index_for("EAST").name and m.value == 1000 for m in outcome.measures)


# Groups of every SAPHIR frame (02E Tableau 12) the tests below do not vary.
SAPHIR_EVERY_FRAME = [("ER+S", "0varh"), ("ER-S", "0varh"), ("PTCOURF", "HPH")]


def _saphir(groups: list[tuple[str, str]]) -> Frame:
    (frame,) = _frames(encode_frame(groups + SAPHIR_EVERY_FRAME, mode=2, separator="\t"))
    assert frame.valid, frame.errors
    return frame


def test_saphir_subscribed_power_is_kept_between_long_frames() -> None:
    runtime = MeterRuntime()
    head = [("ADS", "041436028024"), ("DATE", "10/03/26 10/00/03")]
    long = _saphir(
        [("LG_TRM", "TRM_LONGUE"), *head, ("TD", "10"), ("EAS", "0Wh"), ("PTCOURD", "HPH"),
         ("PSp1", "250kW"), ("PSp2", "300kW"), ("LIB_p1D", "P  "), ("LIB_p2D", "HPH")]
    )  # fmt: skip
    process(runtime, long, at=T0)
    assert runtime.subscribed_power == 300_000 and runtime.power_unit == "W"
    for step in range(1, 8):
        at = T0 + dt.timedelta(seconds=10 * step)
        short = _saphir(
            [("LG_TRM", "TRM_COURTE"), *head, ("EAS", f"{step * 500}Wh"), ("PTCOURD", "HPH")]
        )
        process(runtime, short, at=at)
    assert runtime.subscribed_power == 300_000
    # 500 Wh every 10 s is 180 kW: 60 % of PSp2.
    assert abs(runtime.power_share - 60) < 0.1


def test_paris_offset_of_simulated_frames() -> None:
    meter = SimulatedPmePmi(ads="041436028024")
    (frame,) = _frames(meter.frame(at=T0, power_va=0))
    assert frame.value("DATE") == T0.astimezone(PARIS).replace(microsecond=0)


def test_drift_on_the_repeated_october_hour_is_not_an_hour_off() -> None:
    # 2026-10-25 01:30 UTC is 02:30 local on the second pass (UTC+1); a PME-PMI date says only
    # "25/10/26 02:30:00", which the decoder reads as the first pass (UTC+2).
    runtime = MeterRuntime(drift_threshold=60)
    at = dt.datetime(2026, 10, 25, 1, 30, 5, tzinfo=dt.UTC)
    meter = SimulatedPmePmi(ads="041436028024")
    (frame,) = _frames(meter.frame(at=at, power_va=0))
    assert frame.groups["DATE"].ambiguous
    outcome = process(runtime, frame, at=at)
    assert abs(runtime.drift) < 1
    assert not [e for e in outcome.events if e.kind == "drift_alert"]


# --- plausibility of energy registers -------------------------------------------------------


def _linky(east: int, at: dt.datetime) -> Frame:
    (frame,) = _frames(linky_standard_frame(adsc="061961361253", at=at, east=east))
    assert frame.valid, frame.errors
    return frame


def test_impossible_index_is_not_booked_and_the_next_plausible_one_resumes() -> None:
    """54E §6.2.2: EAST is « Energie active soutirée totale » in Wh, a register that only
    grows; PREF (kVA) bounds how fast (with our margin of 2 and 5 s). A jump of 12,345,678 Wh
    in 10 s on a 6 kVA meter, or a step back, cannot be consumption: not booked, flagged,
    counted, one event for the run; the next plausible value books what was really drawn."""
    runtime = MeterRuntime()
    energy: dict = {}
    events = []
    steps = [(0, 1000), (10, 1010), (20, 12_346_688), (30, 1005), (40, 1030)]
    outcomes = []
    for second, east in steps:
        at = T0 + dt.timedelta(seconds=second)
        outcome = process(runtime, _linky(east, at), at=at)
        outcomes.append(outcome)
        events += outcome.events
        for key, wh in outcome.energy.items():
            energy[key] = energy.get(key, 0) + wh
    assert [o.implausible for o in outcomes] == [0, 0, 2, 2, 0]  # EAST and EASF01
    assert [e.kind for e in events] == ["implausible"]
    assert events[0].current == "EASF01, EAST" and events[0].value == 12_346_688
    index = [m for o in outcomes for m in o.measures if m.quantity == q.index_for("EAST").name]
    assert [m.plausible for m in index] == [True, True, False, False, True]
    assert sum(energy.values()) == 30  # 1000 → 1010 → 1030, nothing of the glitches
    assert runtime.accepted[q.index_for("EAST").name][0] == 1030


def test_td_counter_may_restart_but_not_exceed_what_ps_allows() -> None:
    """02E Tableau 10: « EAPP_s Energie apparente soutirée (au primaire) depuis dernier top
    Td ». It restarts from 0 at each top; what it holds after a restart, or adds between two
    frames, cannot exceed PS (42 kVA here, margin 2) over the time elapsed."""
    runtime = MeterRuntime()
    meter = SimulatedPmePmi(ads="041436028024")
    _run(meter, runtime, seconds=60, power=21_000)
    at = T0 + dt.timedelta(seconds=60)
    frame_bytes = meter.frame(at=at, power_va=21_000)
    # The same frame with EA_s at 99,999 Wh: 10 s at 84 kW would make 233 Wh at most.
    (frame,) = _frames(
        encode_frame(
            [
                (label, "99999Wh" if label == "EA_s" else group.raw)
                for label, group in _frames(frame_bytes)[0].groups.items()
            ]
        )
    )
    outcome = process(runtime, frame, at=at)
    assert outcome.implausible == 1 and not outcome.energy
    assert [e.kind for e in outcome.events] == ["implausible"]
    # The next frame from the meter is plausible again and books energy.
    later = T0 + dt.timedelta(seconds=70)
    (good,) = _frames(meter.frame(at=later, power_va=21_000))
    resumed = process(runtime, good, at=later)
    assert resumed.implausible == 0 and sum(resumed.energy.values()) > 0


def test_a_register_that_really_jumped_is_taken_up_after_three_agreeing_values() -> None:
    """A replaced or reset register is refused three times, then followed: never stuck."""
    runtime = MeterRuntime()
    process(runtime, _linky(1000, T0), at=T0)
    plausible = []
    for n, east in enumerate([500, 501, 502, 503, 504], 1):
        at = T0 + dt.timedelta(seconds=10 * n)
        outcome = process(runtime, _linky(east, at), at=at)
        plausible.append(outcome.implausible == 0)
    assert plausible == [False, False, False, True, True]


def test_power_over_td_is_there_at_the_first_frame_after_a_restart() -> None:
    """After a restart, the Td counters stored over the last Td minutes rebuild the history:
    the power over Td is known at once, not after 30 s."""
    meter = SimulatedPmePmi(ads="041436028024")
    before = MeterRuntime(td_minutes=10)
    outcomes = _run(meter, before, seconds=300, power=21_000)
    stored: dict[str, list[tuple[dt.datetime, float]]] = {}
    for at, outcome in outcomes:
        for m in outcome.measures:
            if m.quantity in TD_QUANTITY.values():
                stored.setdefault(m.quantity, []).append((at, m.value))
    restarted = MeterRuntime(td_minutes=10)
    restarted.restore(
        td_points=stored,
        last_values={},
        subscribed_power=before.subscribed_power,
        power_unit=before.power_unit,
    )
    at = T0 + dt.timedelta(seconds=300)
    (frame,) = _frames(meter.frame(at=at, power_va=21_000))
    process(restarted, frame, at=at)
    assert restarted.power is not None and abs(restarted.power - 21_000) < 300
    fresh = MeterRuntime(td_minutes=10)
    process(fresh, frame, at=at)
    assert fresh.power is None  # what a restart without the stored series showed


def test_a_td_counter_that_restarts_above_its_last_value_still_counts_the_interval() -> None:
    """The Td counters restart from 0 at each top (02E §2.9.3). A load that starts just before
    a top gives, after it, a value no lower than the last one before it: the top on the meter's
    clock says the counter restarted, and what it holds is what was drawn since."""
    runtime = MeterRuntime(td_minutes=10)
    start = T0 + dt.timedelta(minutes=9, seconds=37)  # 10:09:40 in Paris, 20 s before a top
    meter = SimulatedPmePmi(ads="041436028024")
    outcomes = _run(meter, runtime, seconds=60, power=30_000, start=start)
    apparent = [
        next(m.value for m in o.measures if m.quantity == TD_QUANTITY["EAPP_s"])
        for _at, o in outcomes
    ]
    assert apparent[2] >= apparent[1]  # across the top: the case a falling value misses
    per_calendar: dict[str, float] = {}
    for _at, o in outcomes:
        for (_day, calendar, _period), wh in o.energy.items():
            per_calendar[calendar] = per_calendar.get(calendar, 0.0) + wh
    # The active energy of the five intervals, in each calendar.
    expected = 30_000 * 0.9 * 50 / 3600
    assert per_calendar and all(abs(wh - expected) < 2 for wh in per_calendar.values())
    assert abs(runtime.power - 30_000) < 100
    assert [o.td_restarted for _at, o in outcomes] == [False, False, True, False, False, False]
