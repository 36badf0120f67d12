from decimal import Decimal

import pytest

from hub.units import Quantity, UnitError, parse_triplet


@pytest.mark.parametrize(
    ("triplet", "value", "unit"),
    [
        ({"value": 12, "unit": "W", "multiplier": "k"}, Decimal(12000), "W"),
        ({"value": 12.5, "unit": "W", "multiplier": "k"}, Decimal(12500), "W"),
        (
            {"value": 3.1415, "unit": "gCO2eq/kWh", "multiplier": ""},
            Decimal("3.1415"),
            "gCO2eq/kWh",
        ),
        ({"value": 1200, "unit": "€/kWh", "multiplier": ""}, Decimal(1200), "EUR/kWh"),
        ({"value": 2, "unit": "Wh", "multiplier": "M"}, Decimal(2_000_000), "Wh"),
        ({"value": 1, "unit": "VArh", "multiplier": "G"}, Decimal(1_000_000_000), "varh"),
        ({"value": 250, "unit": "W", "multiplier": "m"}, Decimal("0.250"), "W"),
        ({"value": "80", "unit": "VA"}, Decimal(80), "VA"),
    ],
)
def test_triplets_convert_to_base_units(triplet, value, unit):
    assert parse_triplet(triplet) == Quantity(value, unit)


def test_quantity_expressed_with_a_multiplier():
    assert parse_triplet({"value": 80, "unit": "W", "multiplier": "k"}).to("W", "M") == Decimal(
        "0.08"
    )
    assert parse_triplet({"value": 1, "unit": "W", "multiplier": "k"}).as_triplet("k") == {
        "value": 1.0,
        "unit": "W",
        "multiplier": "k",
    }


@pytest.mark.parametrize(
    ("triplet", "field"),
    [
        ({"value": 1, "unit": "furlong", "multiplier": ""}, "unit"),
        ({"value": 1, "unit": "W", "multiplier": "x"}, "multiplier"),
        ({"value": "abc", "unit": "W", "multiplier": ""}, "value"),
        ({"value": None, "unit": "W"}, "value"),
        ({"value": True, "unit": "W"}, "value"),
        ({"value": "NaN", "unit": "W"}, "value"),
        ({"value": 1}, "unit"),
        ("12 kW", "value"),
    ],
)
def test_bad_triplets_name_the_bad_field(triplet, field):
    with pytest.raises(UnitError) as info:
        parse_triplet(triplet)
    assert info.value.field == field


def test_converting_between_different_units_is_refused():
    with pytest.raises(UnitError, match="cannot convert"):
        parse_triplet({"value": 1, "unit": "W"}).to("Wh")


def test_prefixed_units_as_series_store_them():
    from hub.units import prefixed_unit

    assert prefixed_unit("kWh") == ("Wh", Decimal(1000))
    assert prefixed_unit("W") == ("W", Decimal(1))
    with pytest.raises(UnitError):
        prefixed_unit("xWh")
