"""GB 11643-1999 resident ID numbers and mainland mobile numbers: validate, normalize, derive."""

import re
from dataclasses import dataclass
from datetime import date

from backend.errors import ValidationFailed

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


class InvalidIdNumber(ValidationFailed):
    code = "veterans.invalid_id_number"
    message = "身份证号码无效，请核对18位号码（含末位校验码）"


class InvalidMobile(ValidationFailed):
    code = "veterans.invalid_mobile"
    message = "手机号码无效，请填写11位手机号"


def check_char(body17):
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(body17, WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: date
    gender: str  # "M" or "F"


def parse_id_number(raw, *, today=None):
    """Validate a GB 11643-1999 ID number; return IdInfo(number, birth_date, gender).

    Trims, uppercases x, requires 17 digits plus a digit or X, a real birth date not in the future, and the
    ISO 7064 MOD 11-2 check character. The 15-digit 1989 form is refused.
    :raises InvalidIdNumber:
    """
    number = (raw or "").strip().upper()
    if not _ID_RE.match(number):
        raise InvalidIdNumber(details={"id_number": "身份证号码应为18位，末位可为X"})
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(details={"id_number": "身份证号码中的出生日期不存在"}) from None
    if birth > (today or date.today()) or birth.year < 1850:
        raise InvalidIdNumber(details={"id_number": "身份证号码中的出生日期不合理"})
    if check_char(number[:17]) != number[17]:
        raise InvalidIdNumber(details={"id_number": "身份证号码校验位不正确，请核对"})
    return IdInfo(number=number, birth_date=birth, gender="M" if int(number[16]) % 2 else "F")


def normalize_mobile(raw):
    """Strip spaces and dashes and a leading +86/86; require 1[3-9] and 11 digits. :raises InvalidMobile:"""
    value = re.sub(r"[\s-]", "", str(raw or ""))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    if not _MOBILE_RE.match(value):
        raise InvalidMobile(details={"phone": "手机号码应为11位，以13-19开头"})
    return value


def make_id_number(address_code, birth, sequence):
    """Build a valid ID number (demo data and tests): 6-digit address code, date, 3-digit sequence."""
    body = f"{address_code}{birth:%Y%m%d}{sequence:03d}"
    return body + check_char(body)
