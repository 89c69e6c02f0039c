"""GB 11643-1999 ID numbers (S2, S4) and mobile numbers (S3): property tests and tables."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.veterans.identity import InvalidIdNumber, InvalidMobile, make_id_number, normalize_mobile, parse_id_number

pytestmark = pytest.mark.no_db

ADDRESS_CODES = ["110105", "440524", "320102", "310101", "510104", "650102", "230103", "460105"]
valid_ids = st.builds(
    make_id_number,
    st.sampled_from(ADDRESS_CODES),
    st.dates(min_value=date(1900, 1, 1), max_value=date.today()),
    st.integers(min_value=0, max_value=999),
)


@pytest.mark.parametrize(
    "number,birth,gender",
    [("11010519491231002X", date(1949, 12, 31), "F"), ("440524188001010014", date(1880, 1, 1), "M")],
)
def test_standard_examples_are_accepted(number, birth, gender):
    info = parse_id_number(number)
    assert (info.number, info.birth_date, info.gender) == (number, birth, gender)


def test_lowercase_x_and_spaces_are_normalized():
    assert parse_id_number(" 11010519491231002x ").number == "11010519491231002X"


@settings(max_examples=2000, deadline=None)
@given(valid_ids)
def test_generated_valid_ids_are_accepted(number):
    info = parse_id_number(number)
    assert info.number == number
    assert info.gender == ("M" if int(number[16]) % 2 else "F")


@settings(max_examples=300, deadline=None)
@given(valid_ids)
def test_every_single_substitution_is_rejected(number):
    for i in range(18):
        for c in "0123456789X":
            if c == number[i] or (i < 17 and c == "X"):
                continue
            mutated = number[:i] + c + number[i + 1 :]
            with pytest.raises(InvalidIdNumber):
                parse_id_number(mutated)


@settings(max_examples=300, deadline=None)
@given(valid_ids)
def test_every_adjacent_transposition_is_rejected(number):
    for i in range(17):
        if number[i] == number[i + 1]:
            continue
        swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
        with pytest.raises(InvalidIdNumber):
            parse_id_number(swapped)


@pytest.mark.parametrize(
    "body", ["11010519990230", "11010519990431", "11010520230229", "11010519991301", "11010519990100"]
)
def test_impossible_dates_are_rejected(body):
    body17 = body + "123"
    from backend.veterans.identity import check_char

    with pytest.raises(InvalidIdNumber):
        parse_id_number(body17 + check_char(body17))


def test_future_birth_date_is_rejected():
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(InvalidIdNumber):
        parse_id_number(make_id_number("110105", tomorrow, 1))


@pytest.mark.parametrize(
    "raw", ["", None, "110105491231002", "11010519491231002", "1101051949123100201", "ABCDEFGHIJKLMNOPQR"]
)
def test_wrong_length_and_15_digit_form_are_rejected(raw):
    with pytest.raises(InvalidIdNumber):
        parse_id_number(raw)


MOBILE_OK = [
    ("13800138000", "13800138000"),
    ("19912345678", "19912345678"),
    ("15000000000", "15000000000"),
    ("+8613800138000", "13800138000"),
    ("8613800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("+86 138-0013-8000", "13800138000"),
    (" 13900139000 ", "13900139000"),
    ("14700000000", "14700000000"),
    ("16612345678", "16612345678"),
    ("17712345678", "17712345678"),
    ("18812345678", "18812345678"),
    ("13000000000", "13000000000"),
    ("8619912345678", "19912345678"),
    ("+86-199-1234-5678", "19912345678"),
    ("135 1234 5678", "13512345678"),
    ("86 135 1234 5678", "13512345678"),
    ("15912345678", "15912345678"),
    ("18612345678", "18612345678"),
    ("13312345678", "13312345678"),
    ("17012345678", "17012345678"),
    ("16512345678", "16512345678"),
    ("14512345678", "14512345678"),
    ("19012345678", "19012345678"),
]
MOBILE_BAD = [
    "1380013800",
    "138001380001",
    "03800138000",
    "23800138000",
    "12800138000",
    "11800138000",
    "10800138000",
    "",
    None,
    "abcdefghijk",
    "1380013800a",
    "+8512345678901",
    "+86 1380013800",
    "861380013800",
    "138001380000000",
    "+1 13800138000",
    "0086138001380001",
    "138.0013.8000",
    "138/0013/8000",
    "1-2-3",
    "00000000000",
    "99999999999",
    "+8623800138000",
    "8612800138000",
    "1 3 8",
]


@pytest.mark.parametrize("raw,expected", MOBILE_OK)
def test_mobile_accepts_and_normalizes(raw, expected):
    assert normalize_mobile(raw) == expected


@pytest.mark.parametrize("raw", MOBILE_BAD)
def test_mobile_rejects(raw):
    with pytest.raises(InvalidMobile):
        normalize_mobile(raw)
