"""Typed values: glued units, local dates around DST, horodates, STGE, day profiles, aliases."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.tic.frames import conforms
from tic.protocol import (
    AMBIGUOUS,
    DEGRADED_CLOCK,
    SEASON_MISMATCH,
    DynamicTariffEvent,
    Frame,
    MeterFamily,
    ProfileSlot,
    StatusRegister,
    TicStreamDecoder,
    decode_bytes,
    encode_frame,
)

PARIS = ZoneInfo("Europe/Paris")


def _pme(*groups: tuple[str, str]) -> Frame:
    (frame,) = TicStreamDecoder(MeterFamily.PMEPMI).feed(encode_frame(groups))
    return frame


def _saphir(*groups: tuple[str, str]) -> Frame:
    (frame,) = TicStreamDecoder(MeterFamily.SAPHIR).feed(encode_frame(groups, 2, "\t"))
    return frame


def _standard(*groups: tuple[str, str] | tuple[str, str, str]) -> Frame:
    (frame,) = decode_bytes(encode_frame([("ADSC", "031776013513"), *groups], 2, "\t"))
    return frame


def _offset(moment: object) -> timedelta | None:
    assert isinstance(moment, datetime)
    return moment.utcoffset()


@pytest.mark.parametrize(
    ("label", "raw", "value", "unit"),
    [
        ("EA_s", "422Wh", 422, "Wh"),
        ("ER-_s", "189varh", 189, "varh"),
        ("EAPP_s", "495VAh", 495, "VAh"),
        ("EAP_s", "9649kWh", 9_649_000, "Wh"),
        ("ER+P_s", "229kvarh", 229_000, "varh"),
        ("PS", "42kVA", 42_000, "VA"),
        ("PS", "250kW", 250_000, "W"),
        ("PA1MN", "6kW", 6_000, "W"),
        ("TGPHI_s", "-0,39", Decimal("-0.39"), None),
        ("TGPHI_s", "12.50", Decimal("12.50"), None),
    ],
)
def test_pme_quantities_in_base_units(label: str, raw: str, value: object, unit: str) -> None:
    frame = _pme((label, raw))
    assert conforms(frame), frame.errors
    group = frame.groups[label]
    assert (group.value, group.unit, group.raw) == (value, unit, raw)


def test_truncated_point_marker() -> None:
    group = _pme(("PA1_s", "0TkW")).groups["PA1_s"]
    assert group.value == 0 and "truncated_point" in group.flags


@pytest.mark.parametrize(
    ("label", "raw"),
    [
        ("EA_s", "422kW"),  # wrong unit for an energy
        ("EA_s", "-422Wh"),  # energies are unsigned
        ("EA_s", "4,5Wh"),  # and whole
        ("EA_s", "p22Wh"),  # '0' with bit 6 flipped: the checksum cannot see it
        ("EA_s", "422+h"),  # unit garbled
        ("PA1_s", "12H.kW"),  # SAPHIR marker on a PME-PMI label
        ("DATE", "26/08/16 10/29/04"),  # SAPHIR format on a PME-PMI meter
        ("DATE", "32/08/16 10:29:04"),
        ("PTCOUR1", "hpe"),
        ("CONFIG", "CONSOM"),
    ],
)
def test_format_errors_make_the_group_bad(label: str, raw: str) -> None:
    frame = _pme(("ADS", "041436028024"), (label, raw))
    assert not conforms(frame)
    assert frame.bad_groups == 1
    group = frame.groups[label]
    assert group.value is None and group.error
    assert frame.value("ADS") == "041436028024"


class TestLocalDatesAroundDST:
    """PME-PMI / SAPHIR dates carry no season flag (02E §2.9.3 (B), §2.10.3 (D))."""

    def test_ordinary_summer_and_winter(self) -> None:
        summer = _pme(("DATE", "26/08/16 10:29:04")).value("DATE")
        assert summer == datetime(2016, 8, 26, 8, 29, 4, tzinfo=ZoneInfo("UTC"))
        winter = _pme(("DATE", "25/12/26 12:00:00")).value("DATE")
        assert _offset(winter) == timedelta(hours=1)

    @pytest.mark.parametrize(
        ("raw", "offset"),
        [("29/03/26 01:59:59", 1), ("29/03/26 03:00:00", 2), ("29/03/26 03:30:00", 2)],
    )
    def test_spring_day_around_the_gap(self, raw: str, offset: int) -> None:
        frame = _pme(("DATE", raw))
        assert conforms(frame)
        assert _offset(frame.value("DATE")) == timedelta(hours=offset)
        assert not frame.groups["DATE"].flags

    @pytest.mark.parametrize("raw", ["29/03/26 02:00:00", "29/03/26 02:30:00", "29/03/26 02:59:59"])
    def test_time_in_the_spring_gap_is_an_error(self, raw: str) -> None:
        frame = _pme(("DATE", raw))
        assert not conforms(frame)
        group = frame.groups["DATE"]
        assert group.value is None
        assert group.error is not None and "DST gap" in group.error

    @pytest.mark.parametrize("raw", ["25/10/26 02:00:00", "25/10/26 02:30:00", "25/10/26 02:59:59"])
    def test_repeated_october_hour_is_flagged_not_guessed_silently(self, raw: str) -> None:
        frame = _pme(("DATE", raw))
        assert conforms(frame)
        group = frame.groups["DATE"]
        assert group.ambiguous and AMBIGUOUS in group.flags
        assert _offset(group.value) == timedelta(hours=2)  # first pass, summer time

    @pytest.mark.parametrize(
        ("raw", "offset"), [("25/10/26 01:59:59", 2), ("25/10/26 03:00:00", 1)]
    )
    def test_october_day_outside_the_repeated_hour(self, raw: str, offset: int) -> None:
        group = _pme(("DATE", raw)).groups["DATE"]
        assert not group.ambiguous
        assert _offset(group.value) == timedelta(hours=offset)

    def test_saphir_slashes_follow_the_same_rules(self) -> None:
        ambiguous = _saphir(("DATE", "25/10/26 02/30/00")).groups["DATE"]
        assert ambiguous.ambiguous
        assert not conforms(_saphir(("DATE", "29/03/26 02/30/00")))
        fine = _saphir(("DATE", "26/08/16 10/29/04")).value("DATE")
        assert fine == datetime(2016, 8, 26, 10, 29, 4, tzinfo=PARIS)


class TestLinkyHorodates:
    """``SAAMMJJhhmmss`` with the season letter (54E §6.2.1.1)."""

    @pytest.mark.parametrize(
        ("horodate", "expected"),
        [
            ("H081225223518", datetime(2008, 12, 25, 22, 35, 18, tzinfo=PARIS)),
            ("E090714074553", datetime(2009, 7, 14, 7, 45, 53, tzinfo=PARIS)),
        ],
    )
    def test_spec_examples(self, horodate: str, expected: datetime) -> None:
        frame = _standard(("DATE", horodate, ""))
        assert conforms(frame)
        assert frame.value("DATE") == expected
        assert frame.groups["DATE"].timestamp == expected
        assert frame.groups["DATE"].raw == ""

    def test_season_letter_resolves_the_repeated_hour(self) -> None:
        first = _standard(("DATE", "E261025023000", "")).value("DATE")
        second = _standard(("DATE", "H261025023000", "")).value("DATE")
        assert isinstance(first, datetime) and isinstance(second, datetime)
        assert second - first == timedelta(hours=1)
        assert (_offset(first), _offset(second)) == (timedelta(hours=2), timedelta(hours=1))

    def test_lowercase_season_means_degraded_clock(self) -> None:
        group = _standard(("DATE", "e261025023000", "")).groups["DATE"]
        assert group.degraded_clock and DEGRADED_CLOCK in group.flags
        assert _offset(group.value) == timedelta(hours=2)

    def test_letter_contradicting_the_calendar_is_flagged(self) -> None:
        group = _standard(("DATE", "E261225120000", "")).groups["DATE"]
        assert SEASON_MISMATCH in group.flags
        # The letter states the offset the meter used: 12:00 at UTC+2.
        assert group.value == datetime(2026, 12, 25, 10, 0, tzinfo=ZoneInfo("UTC"))

    def test_space_season_on_mobile_peak_groups(self) -> None:
        frame = _standard(("DPM1", " 261025023000", "01"), ("FPM1", " 261026060000", "01"))
        assert conforms(frame), frame.errors
        assert frame.groups["DPM1"].ambiguous
        assert frame.value("DPM1") == 1
        assert not frame.groups["FPM1"].flags

    def test_horodate_on_values(self) -> None:
        group = _standard(("SMAXSN", "E210423051903", "00924")).groups["SMAXSN"]
        assert (group.value, group.unit) == (924, "VA")
        assert group.timestamp == datetime(2021, 4, 23, 5, 19, 3, tzinfo=PARIS)

    @pytest.mark.parametrize(
        "group",
        [
            ("SMAXSN", "00924"),  # horodate missing
            ("EAST", "E210423051903", "002188830"),  # horodate on a plain label
            ("DATE", "X210423051903", ""),
            ("DATE", "E211323051903", ""),
            ("DATE", "E210423051903", "junk"),
        ],
    )
    def test_horodate_errors(self, group: tuple[str, str] | tuple[str, str, str]) -> None:
        assert not conforms(_standard(group))


def test_status_register_fields() -> None:
    status = _standard(("STGE", "003A0001")).value("STGE")
    assert isinstance(status, StatusRegister)
    assert status.dry_contact_open
    assert status.breaking_device == "closed"
    assert status.supplier_index == 1 and status.distributor_index == 1
    assert status.standard_mode and not status.degraded_clock
    assert status.euridis == "enabled_secured"
    assert status.cpl_status == "new_lock"
    assert not status.cpl_synchronised
    assert (status.tempo_today, status.tempo_tomorrow) == ("none", "none")
    # Bits 1-3 = 1 (overpower), 10-13 = 2 (index 3), 16 (degraded clock), 23 (CPL sync),
    # 24-25 = 1 (blue), 26-27 = 3 (red), 30-31 = 2 (mobile peak 2).
    word = (1 << 1) | (2 << 10) | (1 << 16) | (1 << 23) | (1 << 24) | (3 << 26) | (2 << 30)
    other = _standard(("STGE", f"{word:08X}")).value("STGE")
    assert isinstance(other, StatusRegister)
    assert other.breaking_device == "open_overpower"
    assert other.supplier_index == 3
    assert other.degraded_clock and other.cpl_synchronised
    assert (other.tempo_today, other.tempo_tomorrow) == ("blue", "red")
    assert other.mobile_peak == 2 and other.mobile_peak_notice == 0


@pytest.mark.parametrize("raw", ["003a0001", "003A000", "003A0001 ", "00E00000"])
def test_status_register_errors(raw: str) -> None:
    assert not conforms(_standard(("STGE", raw)))


def test_day_profile_blocks() -> None:
    data = " ".join(["00004003", "06004004", "2200C003"] + ["NONUTILE"] * 8)
    slots = _standard(("PJOURF+1", data)).value("PJOURF+1")
    assert slots == (
        ProfileSlot(time(0, 0), 0x4003),
        ProfileSlot(time(6, 0), 0x4004),
        ProfileSlot(time(22, 0), 0xC003),
    )
    assert isinstance(slots, tuple)
    night, day, evening = slots
    assert (night.tariff_index, day.tariff_index) == (3, 4)
    assert night.dry_contact == "tempo_configuration"
    assert evening.dry_contact == "closed"
    assert ProfileSlot(time(0, 0), 0x8001).dry_contact == "open"
    assert ProfileSlot(time(0, 0), 0x0030).virtual_contacts == (True, True) + (False,) * 5
    assert ProfileSlot(time(0, 0), 0x000B).tariff_index is None
    peak = _standard(("PPOINTE", data)).value("PPOINTE")
    assert peak == slots


@pytest.mark.parametrize(
    "data",
    [
        " ".join(["00004003"] + ["NONUTILE"] * 9),  # 10 blocks
        " ".join(["24004003"] + ["NONUTILE"] * 10),  # hour 24
        " ".join(["0000400g"] + ["NONUTILE"] * 10),
    ],
)
def test_day_profile_errors(data: str) -> None:
    assert not conforms(_standard(("PJOURF+1", data)))


def test_relays_spec_example() -> None:
    relays = _standard(("RELAIS", "140")).value("RELAIS")
    assert relays == (False, False, True, True, False, False, False, True)
    assert _standard(("RELAIS", "001")).value("RELAIS") == (True,) + (False,) * 7
    assert not conforms(_standard(("RELAIS", "256")))


def test_labels_are_spelled_as_the_spec_prints_them() -> None:
    """02E Tableau 10 (pp. 69-71) prints « DébP », « EAP_s », « EaP-1_s », « EaP-1_i »,
    « EaP_s2 », « EaP-1_s2 »: those are the canonical labels; a meter sending ``DebP`` or
    ``EAP_s2`` (the real PME-PMI capture does) is read under the spec's label, its own
    spelling kept in ``raw_label``."""
    frame = _pme(("EAP_s2", "9649kWh"), ("EAP-1_s", "9256kWh"), ("DebP", "14/08/16 02:50:00"))
    assert conforms(frame)
    assert frame.groups["EaP_s2"].raw_label == "EAP_s2"
    assert frame.groups["EaP-1_s"].value == 9_256_000
    assert frame.groups["DébP"].raw_label == "DebP"
    spelled = _pme(("EaP_s2", "1kWh"), ("EaP-1_s2", "2kWh"), ("EAP_s", "3kWh"))
    assert list(spelled.groups) == ["EaP_s2", "EaP-1_s2", "EAP_s"]
    assert all(g.raw_label == g.label for g in spelled.groups.values())


def test_every_alias_names_a_label_of_the_pme_table() -> None:
    """The alias table only maps onto labels the family table holds (02E Tableau 10)."""
    from tic.protocol.labels import ALIASES, TABLES

    assert set(ALIASES.values()) <= set(TABLES[MeterFamily.PMEPMI])
    assert not set(ALIASES) & set(TABLES[MeterFamily.PMEPMI])
    assert {"EAP-1_s", "EAP-1_i", "EAP_s2", "EAP-1_s2", "DebP", "DebP-1"} <= set(ALIASES)


@pytest.mark.parametrize(
    ("wire_label", "seen_as"),
    [
        (b"D\xe9bP-1", "DibP-1"),  # Latin-1 é, bit 7 stripped on reception
        (b"D\xc3\xa9bP_2", "DC)bP_2"),  # UTF-8 é, same
    ],
)
def test_accented_label_on_an_8_bit_line(wire_label: bytes, seen_as: str) -> None:
    data = b"14/07/16 02:25:00"
    zone = wire_label + b" " + data
    # 0x80 is 0 modulo 64: the checksum of the 8-bit text equals that of its 7-bit residue.
    group = b"\n" + zone + b" " + bytes([(sum(zone) & 0x3F) + 0x20]) + b"\r"
    decoder = TicStreamDecoder(MeterFamily.PMEPMI)
    (frame,) = decoder.feed(b"\x02" + group + b"\x03")
    assert conforms(frame), frame.errors
    canonical = "DébP-1" if seen_as.endswith("-1") else "DébP_2"
    assert frame.groups[canonical].raw_label == seen_as
    assert frame.value(canonical) == datetime(2016, 7, 14, 2, 25, tzinfo=PARIS)


def test_pme_dynamic_tariff_groups() -> None:
    frame = _pme(
        ("TDYN1CD", "01/12/26 07:00:00-P"),
        ("TDYN1CF", "01/12/26 09:00:00-HPH"),
        ("PREAVIS1", "TD- ? "),
        ("PREAVIS2", "TD-PM "),
        ("ETATDYN1", "000"),
    )
    assert conforms(frame), frame.errors
    start = frame.value("TDYN1CD")
    assert start == DynamicTariffEvent(datetime(2026, 12, 1, 7, tzinfo=PARIS), "P")
    assert frame.value("PREAVIS1") == "TD- ?"
    assert frame.value("PREAVIS2") == "TD-PM"


def test_historique_formats() -> None:
    data = encode_frame(
        [
            ("ADCO", "021861348497"),
            ("OPTARIF", "EJP."),
            ("PEJP", "30"),
            ("PTEC", "PM.."),
            ("DEMAIN", "----"),
            ("ADPS", "045"),
        ]
    )
    (frame,) = decode_bytes(data)
    assert conforms(frame), frame.errors
    assert frame.value("PEJP") == 30 and frame.groups["PEJP"].unit == "min"
    assert frame.value("ADPS") == 45
    bad = encode_frame([("ADCO", "021861348497"), ("PTEC", "XX..")])
    assert not conforms(decode_bytes(bad)[0])
