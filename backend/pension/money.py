"""Exact money: amounts are integer fen; parsing, display and rounding go through here (never floats).

Rounding is explicit: ROUND_HALF_UP to the unit PENSION_ROUNDING names (分, 角 or 元), applied once, to the final
monthly amount of a component, never to intermediate products.
"""

from decimal import ROUND_HALF_UP, Decimal, DecimalException, InvalidOperation

from flask import current_app

from backend.errors import ValidationFailed

UNITS_FEN = {"fen": 1, "jiao": 10, "yuan": 100}
MAX_FEN = 10**11  # 10 亿元: nothing a person is paid is near this; a guard against typos and overflow


class BadAmount(ValidationFailed):
    code = "pension.bad_amount"
    message = "金额格式不正确：请填写不超过两位小数的非负数字（单位：元）"


def yuan_to_fen(text, *, allow_negative=False):
    """'1234.5' / '1,234.56' / '¥1234' -> 123450 / 123456 / 123400. More than 2 decimals is an error, not rounded."""
    cleaned = str(text or "").strip().replace(",", "").replace("，", "").removeprefix("¥").removeprefix("￥").strip()
    try:
        value = Decimal(cleaned)
    except (InvalidOperation, ValueError):
        raise BadAmount() from None
    if not value.is_finite() or value.as_tuple().exponent < -2 or (value < 0 and not allow_negative):
        raise BadAmount()
    if value.adjusted() > 12:  # checked before multiplying: '1E+999999999' would overflow the context
        raise BadAmount()
    try:
        fen = int(value * 100)
    except DecimalException:
        raise BadAmount() from None
    if abs(fen) > MAX_FEN:
        raise BadAmount()
    return fen


def fen_to_yuan(fen, *, grouping=True):
    """123456 -> '1,234.56' (or '1234.56'); negative amounts keep their sign."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    whole_text = f"{whole:,}" if grouping else str(whole)
    return f"{sign}{whole_text}.{cents:02d}"


def round_fen(value, unit=None):
    """Round a Decimal number of fen half up to the configured unit; returns int fen."""
    step = UNITS_FEN[unit or current_app.config.get("PENSION_ROUNDING", "fen")]
    units = (Decimal(value) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(units) * step


def parse_percent(text):
    """'3.5' -> Decimal('3.5'); at most 4 decimals, between -50 and 100 percent."""
    try:
        value = Decimal(str(text).strip().removesuffix("%"))
    except (InvalidOperation, ValueError):
        raise BadAmount("调整比例格式不正确：请填写百分数，如 3.5") from None
    if not value.is_finite() or value.as_tuple().exponent < -4 or not Decimal(-50) <= value <= Decimal(100):
        raise BadAmount("调整比例应在 -50% 至 100% 之间，最多四位小数")
    return value


def apply_percent(fen, percent, unit=None):
    """fen × (1 + percent/100), rounded once (round_fen)."""
    return round_fen(Decimal(int(fen)) * (Decimal(100) + Decimal(percent)) / Decimal(100), unit)
