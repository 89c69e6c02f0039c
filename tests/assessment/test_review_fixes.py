"""Review findings on issue 20 (assessment): a unit's own settings never score itself, complaints in time by the
handling unit and complaints only, one definition of satisfaction, no-shows over settled bookings only."""

from datetime import date

import pytest
from sqlalchemy import select

from backend.assessment import scoring, service
from backend.assessment.aggregate import aggregate
from backend.assessment.indicators import INDICATORS
from backend.assessment.models import IndicatorSetting, UnitFigure
from backend.bookings.models import Booking, Slot
from backend.db import transaction
from backend.extensions import db
from backend.feedback.models import Complaint, FeedbackCase
from tests.assessment.helpers import TODAY, YEAR, at, build


@pytest.fixture
def small(world):
    build(world)
    aggregate(YEAR, today=TODAY)
    return world


def _value(unit, code):
    return db.session.scalar(
        select(UnitFigure.value_permille).where(
            UnitFigure.unit_id == unit.id, UnitFigure.year == YEAR, UnitFigure.code == code
        )
    )


def test_a_units_own_settings_never_score_itself_siblings_share_the_parents(small):
    before = service.scores_of([small.x, small.y], YEAR)
    with transaction():  # county X favours the one indicator it does best
        for indicator in INDICATORS:
            weight = 100 if indicator.code == "archives" else 0
            db.session.add(IndicatorSetting(unit_id=small.x.id, code=indicator.code, weight=weight))
    assert service.scores_of([small.x, small.y], YEAR) == before
    assert scoring.settings_for(small.x)["archives"].weight == next(
        i.default_weight for i in INDICATORS if i.code == "archives"
    )
    assert scoring.settings_for(small.x, own=True)["archives"].weight == 100  # its settings page shows its own
    assert scoring.settings_for(small.x1)["archives"].weight == 100  # …which apply to the units below it


def test_suggestions_do_not_count_as_complaints_closed_in_time(small):
    with transaction():
        veteran = small.vx1[0]
        suggestion = Complaint(veteran_id=veteran.id, kind="suggestion", unit_id=small.x1.id, text_sealed="s",
                               created_at=at(4, 1))  # fmt: skip
        db.session.add(suggestion)
        db.session.flush()
        db.session.add(FeedbackCase(source="complaint", complaint_id=suggestion.id, veteran_id=veteran.id,
                                    subject_unit_id=small.x1.id, unit_id=small.x.id, state="closed",
                                    due_on=date(YEAR, 4, 8), first_due_on=date(YEAR, 4, 8), closed_at=at(4, 5),
                                    closed_in_time=True))  # fmt: skip
    aggregate(YEAR, today=TODAY)
    assert _value(small.x, "complaints_in_time") == 0  # the one complaint (late); the suggestion is not counted
    assert _value(small.x1, "complaints_in_time") is None  # the station did not handle it


def test_future_bookings_do_not_dilute_the_no_show_rate(small):
    with transaction():
        slot = db.session.scalars(select(Slot).where(Slot.station_id == small.x1.id, Slot.status == "open")).first()
        for i, (veteran, status) in enumerate(((small.vx1[3], "booked"), (small.vx2[0], "checked_in"))):
            db.session.add(Booking(veteran_id=veteran.id, service_id=slot.service_id, slot_id=slot.id,
                                   station_id=small.x1.id, starts_at=slot.starts_at, code=f"F{YEAR}{i}",
                                   status=status))  # fmt: skip
    aggregate(YEAR, today=TODAY)
    assert _value(small.x1, "no_shows") == 500  # 1 no-show of 2 settled


# --- the PDF report and the recomputation (review items 8, 9, 14)


class _FakeHTML:
    calls = []

    def __init__(self, string, **kwargs):
        self.string, self.kwargs = string, kwargs
        _FakeHTML.calls.append(self)

    def write_pdf(self):
        return b"%PDF-fake"


@pytest.fixture
def fake_weasyprint(monkeypatch):
    import sys
    import types

    from backend.assessment import report

    report.clear_cache()
    _FakeHTML.calls = []
    monkeypatch.setitem(sys.modules, "weasyprint", types.SimpleNamespace(HTML=_FakeHTML))
    yield _FakeHTML.calls
    report.clear_cache()


def test_the_report_fetches_no_url_shows_cst_is_cached_and_rate_limited(
    small, portal_app, fake_weasyprint, monkeypatch
):
    from backend.assessment import report
    from tests.helpers import portal_as

    monkeypatch.setitem(portal_app.config, "ASSESSMENT_REPORT_RATE_LIMIT", "2 per minute")
    client = portal_as(portal_app, small.supervisor_parent)
    url = f"/assessment/report.pdf?unit={small.x.id}&year={YEAR}"
    assert client.get(url).status_code == 200 and client.get(url).status_code == 200
    assert len(fake_weasyprint) == 1  # the second download came from the cache
    fetcher = fake_weasyprint[0].kwargs["url_fetcher"]
    for address in ("file:///etc/passwd", "http://169.254.169.254/", "data:text/plain,x"):
        with pytest.raises(report.FetchRefused):
            fetcher(address)
    assert "北京时间" in fake_weasyprint[0].string and " UTC" not in fake_weasyprint[0].string
    assert client.get(url).status_code == 429


def test_recompute_only_from_the_province_one_run_at_a_time(small, portal_app, monkeypatch):
    from backend.assessment import settings as settings_service
    from backend.assessment import tasks
    from backend.errors import PermissionDenied
    from tests.factories import create_staff

    started = []
    monkeypatch.setattr(tasks, "start_recompute", lambda year, locked=False: started.append((year, locked)))
    with pytest.raises(PermissionDenied):  # a city's supervisor would recompute the whole country
        settings_service.request_recompute(actor=small.supervisor_parent, year=YEAR)
    province = create_staff(unit=small.province, roles=("supervisor",))
    try:
        settings_service.request_recompute(actor=province, year=YEAR)
        with pytest.raises(tasks.RecomputeRunning):
            settings_service.request_recompute(actor=province, year=YEAR)
        assert started == [(YEAR, True)]
    finally:
        tasks.release(YEAR)
    settings_service.request_recompute(actor=province, year=YEAR)
    tasks.release(YEAR)
    assert len(started) == 2


def test_recompute_is_rate_limited(small, portal_app, monkeypatch):
    from backend.assessment import tasks
    from tests.factories import create_staff
    from tests.helpers import portal_as

    monkeypatch.setattr(tasks, "start_recompute", lambda year, locked=False: tasks.release(year))
    monkeypatch.setitem(portal_app.config, "ASSESSMENT_RECOMPUTE_RATE_LIMIT", "1 per hour")
    client = portal_as(portal_app, create_staff(unit=small.province, roles=("supervisor",)))
    assert client.post("/assessment/recompute", data={"year": str(YEAR)}).status_code == 302
    assert client.post("/assessment/recompute", data={"year": str(YEAR)}).status_code == 429
    assert portal_as(portal_app, small.supervisor_parent).post(
        "/assessment/recompute", data={"year": str(YEAR)}
    ).status_code in (403, 404)
