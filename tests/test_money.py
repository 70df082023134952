"""The money helper: parsing what people type, half-up rounding, formatting, 大写."""

from decimal import Decimal

import pytest

from pm_admin.errors import DomainError
from pm_admin.money import FloatRefused, format_amount, in_chinese_capitals, parse_amount, quantize


@pytest.mark.parametrize("amount, capitals", [
    ("0", "零元整"),
    ("0.5", "伍角"),
    ("0.05", "伍分"),
    ("1.05", "壹元零伍分"),
    ("10", "壹拾元整"),
    ("20", "贰拾元整"),
    ("110", "壹佰壹拾元整"),
    ("100.05", "壹佰元零伍分"),
    ("100.50", "壹佰元伍角"),
    ("1010", "壹仟零壹拾元整"),
    ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
    ("1000.06", "壹仟元零陆分"),
    ("10005", "壹万零伍元整"),
    ("100010", "壹拾万零壹拾元整"),
    ("1000000.00", "壹佰万元整"),
    ("10100000", "壹仟零壹拾万元整"),
    ("100000005", "壹亿零伍元整"),
    ("100010000", "壹亿零壹万元整"),
    ("9999999999.99", "玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ("-3.20", "负叁元贰角"),
])
def test_chinese_capitals(amount, capitals):
    assert in_chinese_capitals(Decimal(amount)) == capitals


@pytest.mark.parametrize("text, expected", [
    ("1234.5", "1234.50"), ("1,234.50", "1234.50"), ("¥88", "88.00"), ("１２３．４", "123.40"),
    (" 0.10 ", "0.10"), (Decimal("7.1"), "7.10"), ("2.500", "2.50"),
])
def test_parse_accepts_what_people_type(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text, message", [
    ("", "required"), ("abc", "not a number"), ("1.234", "at most 2 decimal places"), ("NaN", "not a number"),
    ("Infinity", "not a number"), ("0", "must not be zero"), ("-5", "must not be negative"),
    ("1e20", "not a number"), ("99999999999", "too large"), ("1.2.3", "not a number"),
])
def test_parse_refuses_bad_input_with_a_clear_message(text, message):
    with pytest.raises(DomainError) as error:
        parse_amount(text)
    assert message in str(error.value)


def test_unit_prices_take_four_places_not_five():
    assert parse_amount("2.1234", places=4) == Decimal("2.1234")
    with pytest.raises(DomainError, match="at most 4 decimal places"):
        parse_amount("2.12345", places=4)


def test_half_up_rounding_and_no_floats():
    assert quantize(Decimal("210.325")) == Decimal("210.33")
    assert quantize(Decimal("0.005")) == Decimal("0.01")
    assert quantize(Decimal("-0.005")) == Decimal("-0.01")
    assert quantize(Decimal("2.5"), 0) == Decimal("3")
    with pytest.raises(FloatRefused):
        quantize(0.1)
    with pytest.raises(FloatRefused):
        parse_amount(12.5)
    assert format_amount(Decimal("1234567.5")) == "1,234,567.50"
    assert format_amount(Decimal("3"), symbol=True) == "¥3.00"
