"""Exact money (issue 18): yuan text to fen, refusals, and half-up rounding at 分, 角 and 元 (never floats)."""

from decimal import Decimal

import pytest

from backend.pension import money
from backend.pension.money import BadAmount, apply_percent, fen_to_yuan, round_fen, yuan_to_fen


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0", 0),
        ("0.01", 1),
        ("1234.5", 123450),
        ("1,234.56", 123456),
        ("1，234.56", 123456),
        ("¥1234", 123400),
        ("￥ 3500.00", 350000),
        (" 0.10 ", 10),
        ("1000000000", 100000000000),  # 10 亿元: the ceiling itself
    ],
)
def test_yuan_text_becomes_exact_fen(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize(
    "text",
    ["", "  ", "abc", "1.005", "0.001", "12.345", "-1", "-0.01", "1e3x", "NaN", "Infinity", "1000000000.01", "9" * 30],
)
def test_bad_amounts_are_refused_not_rounded(text):
    with pytest.raises(BadAmount) as caught:
        yuan_to_fen(text)
    assert caught.value.code == "pension.bad_amount" and "两位小数" in caught.value.message


def test_negative_only_when_asked():
    assert yuan_to_fen("-12.30", allow_negative=True) == -1230


def test_display_keeps_two_decimals_and_sign():
    assert fen_to_yuan(123456) == "1,234.56"
    assert fen_to_yuan(123456, grouping=False) == "1234.56"
    assert fen_to_yuan(-5) == "-0.05"
    assert fen_to_yuan(0) == "0.00"
    assert fen_to_yuan(None) == ""


@pytest.mark.parametrize(
    ("fen", "unit", "expected"),
    [
        (Decimal("0.5"), "fen", 1),  # 0.005 元 -> 0.01 元
        (Decimal("0.4999"), "fen", 0),
        (Decimal("5"), "jiao", 10),  # 0.05 元 -> 0.1 元
        (Decimal("4.999"), "jiao", 0),
        (Decimal("50"), "yuan", 100),  # 0.50 元 -> 1 元
        (Decimal("49.99"), "yuan", 0),
        (Decimal("123456.5"), "fen", 123457),
        (Decimal("123455"), "jiao", 123460),
        (Decimal("123450"), "yuan", 123500),
        (Decimal("-0.5"), "fen", -1),  # half away from zero for a negative change
    ],
)
def test_round_half_up_at_each_unit(fen, unit, expected):
    assert round_fen(fen, unit) == expected


def test_rounding_reads_the_configured_unit(app, monkeypatch):
    monkeypatch.setitem(app.config, "PENSION_ROUNDING", "jiao")
    assert round_fen(Decimal("12345")) == 12350
    monkeypatch.setitem(app.config, "PENSION_ROUNDING", "yuan")
    assert round_fen(Decimal("12345")) == 12300


def test_percent_applies_once_on_exact_decimals():
    assert apply_percent(333_333, Decimal("3.5"), "fen") == 345_000  # 344999.655 -> rounded once, half up
    assert apply_percent(100_001, money.parse_percent("0.5"), "fen") == 100_501  # 100501.005 -> 100501
    assert apply_percent(300_000, money.parse_percent("-10"), "yuan") == 270_000
    with pytest.raises(BadAmount):
        money.parse_percent("3.12345")
