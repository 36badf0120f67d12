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
    with pytest.raises(UnitError, match="impossible de convertir"):
        parse_triplet({"value": 1, "unit": "W"}).to("Wh")


def test_prefixed_units_as_series_store_them():
    from hub.units import prefixed_unit

    assert prefixed_unit("kWh") == ("Wh", Decimal(1000))
    assert prefixed_unit("W") == ("W", Decimal(1))
    with pytest.raises(UnitError):
        prefixed_unit("xWh")


def test_prices_per_mwh_convert_to_per_kwh_and_back():
    """Annex 2: "Float quantities (Power, Cost, CO2): each point is represented by a triplet"; a
    supplier quoting EUR/MWh means a thousandth of that per kWh."""
    quantity = parse_triplet({"value": 120, "unit": "€/MWh", "multiplier": ""})
    assert quantity == Quantity(Decimal("0.120"), "EUR/kWh")
    assert quantity.to("EUR/MWh") == Decimal(120)
    assert quantity.as_triplet(unit="€/MWh") == {"value": 120.0, "unit": "€/MWh", "multiplier": ""}
    assert parse_triplet({"value": 0.12, "unit": "EUR/kWh"}).to("€/MWh") == Decimal(120)
    assert parse_triplet({"value": 1, "unit": "EUR/MWh", "multiplier": "k"}).value == Decimal(1)


@pytest.mark.parametrize(
    "value",
    ["1e999999", "-1e999999", 10**20, "1" * 70, "10**5000", "1e16", 1e300],
)
def test_huge_values_are_refused_on_the_value_field(value):
    if value == "10**5000":
        value = 10**5000  # built here: pytest cannot print it as a test id
    with pytest.raises(UnitError) as info:
        parse_triplet({"value": value, "unit": "W", "multiplier": "G"})
    assert info.value.field == "value"


def test_bounded_numbers():
    from hub.units import parse_number

    assert parse_number("12.5", field="x") == Decimal("12.5")
    assert parse_number(3, field="x", minimum=Decimal(0), maximum=Decimal(3)) == 3
    for raw in (4, -1, "inf", "1e999999", True, None, [1]):
        with pytest.raises(UnitError) as info:
            parse_number(raw, field="x", minimum=Decimal(0), maximum=Decimal(3))
        assert info.value.field == "x"


def test_vanishing_values_are_refused_but_zero_is_a_number():
    assert parse_triplet({"value": 0, "unit": "W"}).value == 0
    with pytest.raises(UnitError) as info:
        parse_triplet({"value": "1e-999999", "unit": "W", "multiplier": "G"})
    assert info.value.field == "value"
