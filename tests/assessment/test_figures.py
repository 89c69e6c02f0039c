"""Each indicator against the hand-counted world of tests/assessment/helpers.py, the roll-up (the county equals the sum
of its stations), scoring against hand-computed points and the ranking among siblings."""

import pytest
from sqlalchemy import select

from backend.assessment import scoring, service
from backend.assessment.aggregate import aggregate, median
from backend.assessment.models import IndicatorSetting, UnitFigure
from backend.db import transaction
from backend.extensions import db
from tests.assessment.helpers import TODAY, YEAR, build


@pytest.fixture
def small(world):
    build(world)
    aggregate(YEAR, today=TODAY)
    return world


def figure(unit, code, year=YEAR):
    return db.session.scalars(
        select(UnitFigure).where(UnitFigure.unit_id == unit.id, UnitFigure.year == year, UnitFigure.code == code)
    ).one()


def values(unit, year=YEAR):
    rows = db.session.scalars(select(UnitFigure).where(UnitFigure.unit_id == unit.id, UnitFigure.year == year))
    return {row.code: row.value_permille for row in rows}


EXPECTED = {
    # code: (x1, x2, X) value ×1000
    "registration": (750, 500, 667),  # approved of active veterans: 3/4, 1/2, 4/6 (the inactive one not counted)
    "review_hours": (6000, 4000, 4000),  # medians of (1, 2, 10, 30), (4), (1, 2, 4, 10, 30) hours
    "contact_coverage": (500, 0, 333),  # veterans contacted this year: 2/4, 0/2, 2/6
    "contacts_overdue": (250, None, 250),  # plans due before today: 1/4; x2 has no plan
    "visits": (50000, 50000, 50000),  # done visits per 100 active veterans: 2/4, 1/2, 3/6
    "assistance": (25000, 100000, 50000),  # cases opened per 100: 1/4, 2/2, 3/6
    "payment_days": (6000, 2000, 4000),  # medians of (6), (2), (2, 6) days
    "bookings_served": (25000, 0, 16667),  # completed per 100: 1/4, 0/2, 1/6
    "no_shows": (500, None, 500),  # no-shows of bookings not cancelled: 1/2
    "utilisation": (400, None, 400),  # places taken / open capacity: 2/5 (the cancelled slot not counted)
    "notifications_read": (667, 0, 500),  # inbox entries of notifications read: 2/3, 0/1, 2/4
    "satisfaction": (667, 0, 500),  # ratings ≥ 4: 2/3, 0/1, 2/4
    "complaints_in_time": (None, None, 0),  # complaints closed in time, by the handling unit X: 0/1 (not the rating)
    "grid_coverage": (500, 500, 500),  # station + grid + worker: 2/4, 1/2, 3/6
    "onboarding": (667, None, 667),  # steps done by their due date: 2/3
    "archives": (None, None, 1000),  # X's room (yearly): due 1, done 1
    "training": (0, None, 1167),  # tenths of hours per active staff: x1 0/1; X (35 + 0) / 3 staff
}


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_each_indicator_against_hand_counts(small, code):
    x1, x2, x = EXPECTED[code]
    assert (values(small.x1).get(code), values(small.x2).get(code), values(small.x).get(code)) == (x1, x2, x)


def test_counts_roll_up_to_the_county_and_city_as_sums(small):
    for code in EXPECTED:
        if code in ("review_hours", "payment_days"):
            continue  # medians: checked above from the subtree's histogram
        county, stations = figure(small.x, code), [figure(small.x1, code), figure(small.x2, code)]
        own = {"archives": (1, 1), "training": (35, 2), "complaints_in_time": (0, 1)}.get(code, (0, 0))  # at X
        assert county.numerator == sum(s.numerator for s in stations) + own[0], code
        assert county.denominator == sum(s.denominator for s in stations) + own[1], code
        city = figure(small.city, code)
        assert city.numerator == county.numerator + figure(small.y, code).numerator + (0 if code != "training" else 0)


def test_grids_get_no_rows_and_snapshots_only_for_the_current_year(small):
    assert not db.session.scalars(select(UnitFigure).where(UnitFigure.unit_id == small.x1_grid.id)).all()
    aggregate(YEAR - 1, today=TODAY)
    last = values(small.x1, YEAR - 1)
    assert "grid_coverage" not in last and "contacts_overdue" not in last
    assert last["registration"] == 250  # last year's approved (x1[0]) over today's 4 active veterans


def test_recomputing_is_idempotent(small):
    before = db.session.scalar(select(db.func.count()).select_from(UnitFigure))
    aggregate(YEAR, today=TODAY)
    assert db.session.scalar(select(db.func.count()).select_from(UnitFigure)) == before


def test_median_of_histograms():
    from collections import Counter

    assert median(Counter()) is None
    assert median(Counter({3: 1})) == 3
    assert median(Counter({1: 1, 2: 1, 10: 1, 30: 1})) == 6
    assert median(Counter({2: 2, 9: 1})) == 2


def _set(unit, weights, targets=None):
    with transaction():
        for code, weight in weights.items():
            db.session.add(
                IndicatorSetting(
                    unit_id=unit.id, code=code, weight=weight, target_permille=(targets or {}).get(code, 1000)
                )
            )


def test_score_and_ranking_hand_computed(small):
    """At the city: registration 60 (target 100 %), satisfaction 40 (target 80 %), every other weight 0.
    x1: 60 × 0.75 + 40 × min(667/800, 1) = 45 + 33.35 = 78.35; x2: 60 × 0.5 + 0 = 30. Rank: x1 1st, x2 2nd.
    Lower is better: contacts_overdue 250 against a target of 50 achieves 50/250 = 0.2."""
    zero = {code: 0 for code in EXPECTED}
    _set(small.city, {**zero, "registration": 60, "satisfaction": 40}, {"satisfaction": 800})
    scores = service.scores_of([small.x1, small.x2], YEAR)
    assert scores == {small.x1.id: 78.35, small.x2.id: 30.0}
    assert service.sibling_rank(small.x1, YEAR) == (1, 2)
    assert service.sibling_rank(small.x2, YEAR) == (2, 2)
    assert scoring.achievement("contacts_overdue", 250, 50) == 0.2
    assert scoring.achievement("contacts_overdue", 0, 50) == 1.0
    assert scoring.achievement("registration", None, 900) == 0.0
    assert scoring.rank({"a": 90, "b": 80, "c": 90, "d": 70}) == {"a": 1, "c": 1, "b": 3, "d": 4}


def test_the_nearest_ancestors_setting_applies(small):
    _set(small.city, {"registration": 60})
    _set(small.x, {"registration": 30})
    assert scoring.settings_for(small.x1)["registration"].weight == 30
    assert scoring.settings_for(small.y1)["registration"].weight == 60
    assert scoring.settings_for(small.y1)["satisfaction"].weight == 10  # no row: the registry's default


def test_the_scheduled_run_acts_once_a_day(small):
    from backend.assessment.aggregate import nightly

    assert nightly(force=False) == 0  # computed today already (the fixture)
    assert nightly() > 0
