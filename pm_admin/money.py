"""Money: parse what people type, round half-up to the fen, format, and say it in
Chinese capitals (大写) for receipts. Decimal end to end; a float is refused.

``Money`` and ``UnitPrice`` are the column types for amounts (Numeric(12, 2)) and
unit prices (Numeric(12, 4)); they refuse a float at the database boundary, so a
float can never reach a money column by any path (ORM or Core statement).
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Numeric
from sqlalchemy.types import TypeDecorator

from .errors import DomainError
from .i18n import _l

CENT = Decimal("0.01")
UNIT_PRICE_PLACES = 4
MAX_AMOUNT = Decimal("9999999999.99")  # what Numeric(12, 2) holds


class FloatRefused(TypeError):
    """A float was about to be written to a money column."""


def quantize(value: Decimal, places: int = 2) -> Decimal:
    """Round half-up (四舍五入) to ``places`` decimals."""
    if isinstance(value, float):
        raise FloatRefused("money must be Decimal, not float")
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def split_amount(total: Decimal, shares: list[Decimal]) -> list[Decimal]:
    """``total`` split in proportion to ``shares``, in fen, the parts summing exactly to it:
    each part rounded down, the fen left over given one each to the largest remainders
    (the earlier share first on a tie)."""
    if isinstance(total, float) or any(isinstance(s, float) for s in shares):
        raise FloatRefused("money must be Decimal, not float")
    whole = sum(shares, Decimal("0"))
    if whole <= 0 or any(s < 0 for s in shares):
        raise ValueError("shares must be non-negative and not all zero")
    cents = int(quantize(total).scaleb(2))
    exact = [Decimal(cents) * s / whole for s in shares]
    parts = [int(e) for e in exact]  # down: the shares and total are never negative
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in by_remainder[:cents - sum(parts)]:
        parts[i] += 1
    return [Decimal(p).scaleb(-2) for p in parts]


def parse_amount(text, *, places: int = 2, allow_zero: bool = False, allow_negative: bool = False,
                 what=None, plain: bool = False, thousands: bool = False) -> Decimal:
    """A user's input as a Decimal with at most ``places`` decimals.

    Accepts ``1234.5``, ``1,234.50``, ``¥1234.50`` and full-width digits; refuses
    more decimals than ``places`` (never rounds what a person typed), floats,
    non-numbers, NaN/Infinity, zero and negatives unless allowed. With ``plain``
    (quantities such as meter readings) only digits and a decimal point are taken:
    a comma is refused, since "12,5" is as likely a decimal comma as a thousands one. With
    ``thousands`` (amounts in bank files) a comma must separate groups of three digits:
    "1,234.50" is taken, "12,50" is refused rather than read as 1250."""
    what = what or _l("The amount")
    if isinstance(value := text, float):
        raise FloatRefused("money must be Decimal, not float")
    if isinstance(value, Decimal):
        number = value
    else:
        cleaned = str(value if value is not None else "").strip()
        cleaned = cleaned.translate(_FULL_WIDTH)
        if plain and "," in cleaned:
            raise DomainError(_l("%(what)s “%(value)s” has a comma: write a plain number with a decimal point, "
                                 "like 12.5."), what=what, value=str(text)[:40])
        if thousands and "," in cleaned and not _GROUPED.match(cleaned.replace("¥", "").replace("￥", "").strip()):
            raise DomainError(_l("%(what)s “%(value)s” has a comma that does not separate thousands: write it "
                                 "like 1,234.50."), what=what, value=str(text)[:40])
        if not plain:
            cleaned = cleaned.replace(",", "").replace("¥", "").replace("￥", "").replace(" ", "")
        if not cleaned:
            raise DomainError(_l("%(what)s is required."), what=what)
        if not _PLAIN.match(cleaned):  # no exponents (1e9), NaN, Infinity or 1_000
            raise DomainError(_l("%(what)s “%(value)s” is not a number."), what=what, value=str(text)[:40])
        number = Decimal(cleaned)
    if not number.is_finite():
        raise DomainError(_l("%(what)s “%(value)s” is not a number."), what=what, value=str(text)[:40])
    if abs(number) > MAX_AMOUNT:
        raise DomainError(_l("%(what)s is too large."), what=what)
    if number.as_tuple().exponent < -places and number != quantize(number, places):
        raise DomainError(_l("%(what)s may have at most %(places)d decimal places."), what=what, places=places)
    number = quantize(number, places)
    if number == 0 and not allow_zero:
        raise DomainError(_l("%(what)s must not be zero."), what=what)
    if number < 0 and not allow_negative:
        raise DomainError(_l("%(what)s must not be negative."), what=what)
    return number


_PLAIN = re.compile(r"^[-+]?[0-9]+(\.[0-9]+)?$")
_GROUPED = re.compile(r"^[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，－", "0123456789.,-")


def format_amount(value: Decimal | None, *, symbol: bool = False) -> str:
    """``Decimal("1234.5")`` → ``1,234.50`` (``¥1,234.50`` with ``symbol``)."""
    if value is None:
        return ""
    text = f"{quantize(value):,.2f}"
    return ("¥" + text) if symbol else text


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ["", "拾", "佰", "仟"]
_BIG_UNITS = ["", "万", "亿", "万亿"]


def _four_digits(group: int) -> str:
    """0 < group < 10000 → e.g. 1034 → 壹仟零叁拾肆 (no leading zero handling)."""
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += _DIGITS[digit] + _SMALL_UNITS[position]
    return text


def in_chinese_capitals(value: Decimal) -> str:
    """The amount in Chinese capitals as written on receipts and cheques (大写金额).

    ``1234.56`` → 壹仟贰佰叁拾肆元伍角陆分; ``100`` → 壹佰元整; ``100.05`` → 壹佰元零伍分;
    ``0.5`` → 伍角; ``1234.50`` → 壹仟贰佰叁拾肆元伍角; ``0`` → 零元整; a negative amount is prefixed with 负."""
    amount = quantize(value)
    if amount < 0:
        return "负" + in_chinese_capitals(-amount)
    cents = int(amount * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    if cents == 0:
        return "零元整"
    text = ""
    if yuan:
        groups = []
        while yuan:
            groups.append(yuan % 10000)
            yuan //= 10000
        zero_pending = False
        for index in range(len(groups) - 1, -1, -1):
            group = groups[index]
            if group == 0:
                zero_pending = bool(text)
                continue
            if text and (zero_pending or group < 1000):
                text += "零"
            zero_pending = False
            text += _four_digits(group) + _BIG_UNITS[index]
        text += "元"
    if jiao == 0 and fen == 0:
        return text + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif text:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    return text  # no 整 after 角 (《支付结算办法》: optional there)


class _RefusesFloat(TypeDecorator):
    impl = Numeric
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if isinstance(value, float):
            raise FloatRefused(f"a float ({value!r}) was about to be written to a money column; use Decimal")
        return value


class Money(_RefusesFloat):
    cache_ok = True
    """An amount in yuan: Numeric(12, 2), Decimal only."""

    def __init__(self):
        super().__init__(12, 2)


class UnitPrice(_RefusesFloat):
    cache_ok = True
    """A unit price: Numeric(12, 4), Decimal only."""

    def __init__(self):
        super().__init__(12, UNIT_PRICE_PLACES)


class Quantity(_RefusesFloat):
    cache_ok = True
    """A billed quantity (m², m³, kWh, months): Numeric(12, 2), Decimal only."""

    def __init__(self):
        super().__init__(12, 2)


class Percent(_RefusesFloat):
    cache_ok = True
    """A percentage such as a discount (Numeric(7, 4): 0.0500 means 0.05 %)."""

    def __init__(self):
        super().__init__(7, 4)
