"""Adjustment rules (issue 18, part 2): the percent rule's SQL integer arithmetic rounds half up exactly like
money.apply_percent (hand-computed cases, then a sweep), and the form's rule, table and month parsing."""

import random
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import BigInteger, literal, select

from backend.errors import ValidationFailed
from backend.extensions import db
from backend.pension import adjustments, money
from backend.pension.adjust_preview import percent_expr


def _sql(old_fen, percent):
    return db.session.scalar(select(percent_expr(literal(old_fen, BigInteger), percent)))


HAND = [
    # (old fen, percent, new fen): worked by hand
    (333_333, "3.5", 345_000),  # 3333.33 × 1.035 = 3449.99655 -> 3450.00
    (123_456, "2", 125_925),  # 1234.56 × 1.02 = 1259.2512 -> 1259.25
    (300, "3.5", 311),  # 3.00 × 1.035 = 3.105 yuan = 310.5 fen: half up -> 311 (banker's rounding would give 310)
    (5, "10", 6),  # 5.5 fen -> 6
    (100, "-2.5", 98),  # 97.5 fen -> 98
    (250_000, "0.0001", 250_000),  # 250000.25 fen -> 250000
    (250_000, "0.0002", 250_001),  # 250000.5 fen -> 250001
    (0, "5", 0),
    (99_999_999_999, "100", 199_999_999_998),  # the largest amount doubles without overflow
]


@pytest.mark.parametrize(("old", "percent", "new"), HAND)
def test_percent_rounds_half_up_at_the_fen(app, old, percent, new):
    assert money.apply_percent(old, Decimal(percent)) == new
    assert _sql(old, percent) == new


def test_jiao_and_yuan_rounding(app, monkeypatch):
    monkeypatch.setitem(app.config, "PENSION_ROUNDING", "jiao")
    assert _sql(123_456, "2") == 125_930  # 12592.512 jiao -> 12593 jiao
    assert _sql(333_333, "3.5") == 345_000
    monkeypatch.setitem(app.config, "PENSION_ROUNDING", "yuan")
    assert _sql(123_456, "2") == 125_900  # 1259.2512 yuan -> 1259 yuan
    assert _sql(305, "-50") == 200  # 1.525 yuan -> 2 yuan


def test_sql_and_decimal_agree_on_a_sweep(app):
    rng = random.Random(18)
    cases = [
        (rng.randrange(0, 2_000_000), str(Decimal(rng.randrange(-500_000, 1_000_000)) / 10_000)) for _ in range(300)
    ]
    for old, percent in cases:
        assert _sql(old, percent) == money.apply_percent(old, Decimal(percent)), (old, percent)


def test_parse_rule():
    assert adjustments.parse_rule("percent", percent="3.5%") == {"percent": "3.5"}
    assert adjustments.parse_rule("fixed", amount="-12.50") == {"fen": -1250}
    table = adjustments.parse_rule("table", table="一类 100\n二类=-20.5\n\n三类，0", table_mode="delta")
    assert table == {"mode": "delta", "rows": {"一类": 10_000, "二类": -2050, "三类": 0}}
    assert adjustments.parse_rule("table", table="一类 3000", table_mode="set")["rows"] == {"一类": 300_000}
    for rule, kwargs in [
        ("percent", {"percent": "abc"}),
        ("percent", {"percent": "0"}),
        ("percent", {"percent": "1.00001"}),
        ("fixed", {"amount": "1.234"}),
        ("fixed", {"amount": "0"}),
        ("table", {"table": ""}),
        ("table", {"table": "一类 -1", "table_mode": "set"}),
        ("table", {"table": "一类"}),
        ("other", {}),
    ]:
        with pytest.raises(ValidationFailed):
            adjustments.parse_rule(rule, **kwargs)


def test_parse_month_bounds(app):
    today = date(2026, 5, 20)
    assert adjustments.parse_month("2026-07", today=today) == date(2026, 7, 1)
    assert adjustments.parse_month("2023-05", today=today) == date(2023, 5, 1)  # 36 months back: allowed
    for bad in ("2023-04", "2027-06", "2026-13", "", "x"):
        with pytest.raises(ValidationFailed):
            adjustments.parse_month(bad, today=today)
