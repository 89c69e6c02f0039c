"""Review findings on issue 20: the person rated or complained about never handles the case (nor does their own
unit), closed-in-time is measured against the first deadline, assignment ids are checked."""

from datetime import date, datetime

import pytest
from freezegun import freeze_time

from backend.extensions import db
from backend.feedback import cases, complaints, handling, ratings, rules
from backend.feedback.models import FeedbackCase
from backend.registration.windows import CST
from tests.factories import create_staff
from tests.feedback.helpers import bad_rating, contact, veteran_with_account

GOLDEN = datetime(2026, 9, 29, 10, 0, tzinfo=CST)  # first deadline 2026-10-12 (tests/feedback/test_rules.py)


def test_a_bad_rating_of_center_staff_is_hidden_from_them_and_goes_above_their_center(world):
    veteran, account = veteran_with_account(world)
    record = contact(veteran, world.staff_x)  # county X's reviewer served at station X1
    _, case = ratings.rate(account=account, subject="contact", subject_id=record.id, score=1)
    assert case.subject_staff_id == world.staff_x.id
    assert case.unit_id == world.city.id  # not county X, the rated person's own center
    with pytest.raises(rules.CaseNotFound):
        cases.get_case(actor=world.staff_x, case_id=case.id)


def test_a_bad_rating_of_station_staff_goes_to_the_county(world):
    veteran, account = veteran_with_account(world)
    record = contact(veteran, world.target)
    _, case = ratings.rate(account=account, subject="contact", subject_id=record.id, score=2)
    assert case.subject_staff_id == world.target.id and case.unit_id == world.x.id


def test_a_complaint_about_center_staff_is_handled_above_their_center(world):
    veteran, account = veteran_with_account(world)
    contact(veteran, world.staff_x)
    _, case = complaints.submit(
        account=account, kind="complaint", about="staff", staff_id=world.staff_x.id, text="推诿"
    )
    assert case.subject_unit_id == world.x1.id and case.unit_id == world.city.id
    assert case.unit_id != db.session.get(type(world.staff_x), world.staff_x.id).org_unit_id


def _handle(actor, case_id, result, *, resolve_at, revisit_at):
    with freeze_time(resolve_at):
        handling.record_contact(actor=actor, case_id=case_id, note="已联系")
        handling.resolve(actor=actor, case_id=case_id, outcome="已处理")
    with freeze_time(revisit_at):
        handling.revisit(actor=actor, case_id=case_id, result=result)
    db.session.expire_all()
    return db.session.get(FeedbackCase, case_id)


def test_an_escalated_case_is_late_whatever_its_fresh_deadline(world):
    with freeze_time(GOLDEN):
        _, _, _, case = bad_rating(world)
    with freeze_time(datetime(2026, 10, 13, 1, 0, tzinfo=CST)):
        assert handling.escalate_overdue() == 1
    city = create_staff(unit=world.city, roles=("center_reviewer",))
    at = datetime(2026, 10, 14, 9, 0, tzinfo=CST)  # within the city's fresh deadline (10-20), after the first
    case = _handle(city, case.id, "satisfied", resolve_at=at, revisit_at=at)
    assert case.first_due_on == date(2026, 10, 12) and case.state == "closed" and case.closed_in_time is False


def test_unreachable_never_counts_as_in_time(world):
    with freeze_time(GOLDEN):
        _, _, _, case = bad_rating(world)
    case = _handle(world.staff_x, case.id, "unreachable", resolve_at=GOLDEN, revisit_at=GOLDEN)
    assert case.state == "closed" and case.closed_in_time is False


def test_in_time_is_judged_at_resolution_not_at_revisit(world):
    with freeze_time(GOLDEN):
        _, _, _, case = bad_rating(world)
    late_revisit = datetime(2026, 10, 20, 9, 0, tzinfo=CST)
    case = _handle(world.staff_x, case.id, "satisfied", resolve_at=GOLDEN, revisit_at=late_revisit)
    assert case.closed_in_time is True


def test_the_portal_and_the_assessment_count_satisfaction_alike(world, portal_app):
    from tests.helpers import portal_as

    for score in (3, 5):
        veteran, account = veteran_with_account(world)
        ratings.rate(account=account, subject="contact", subject_id=contact(veteran, world.target).id, score=score)
    page = portal_as(portal_app, world.staff_x).get("/feedback/").get_data(as_text=True)
    assert "50.0%" in page  # 非常满意 1 of 2: 基本满意 is not satisfied


@pytest.mark.parametrize("value", ["²", "١٢", "99999999999999999999999", "-1", "abc"])
def test_assigning_a_crafted_id_is_refused_not_a_500(world, portal_app, value):
    from tests.helpers import portal_as

    _, _, _, case = bad_rating(world)
    response = portal_as(portal_app, world.staff_x).post(
        f"/feedback/{case.id}/assign", data={"assignee": value, "version": str(case.version_id)}
    )
    assert response.status_code < 500
    with pytest.raises(rules.AssigneeInvalid):
        handling.assign(actor=world.staff_x, case_id=case.id, assignee_id=value)


def test_the_prompt_reads_the_event_times_pending_reads(world):
    """An assistance case closed long ago but edited today is not rateable (pending.py reads closed_on): no prompt."""
    from datetime import timedelta

    from sqlalchemy import inspect

    from backend.assistance.models import AssistanceCase
    from backend.db import transaction
    from backend.feedback import pending, prompts
    from backend.registration.windows import today_cst

    veteran, _ = veteran_with_account(world)
    with transaction():
        db.session.add(AssistanceCase(veteran_id=veteran.id, station_id=world.x1.id, category="other", status="closed",
                                      description_sealed="s", closed_on=today_cst() - timedelta(days=200)))  # fmt: skip
    assert pending.pending(veteran.id) == []
    assert prompts.prompt_pending() == 0
    for table, column in (("booking", "completed_at"), ("registration", "decided_at"), ("care_contact", "contact_on"),
                          ("assistance_case", "closed_on"), ("visit", "visited_on")):  # fmt: skip
        assert [column] in [i["column_names"] for i in inspect(db.engine).get_indexes(table)], table


def test_the_index_figures_are_capped_counts(world, portal_app, monkeypatch):
    from sqlalchemy import inspect

    from backend.registration.windows import today_cst
    from tests.helpers import portal_as

    monkeypatch.setattr(cases, "COUNT_CAP", 1)
    for _ in range(2):
        veteran, account = veteran_with_account(world)
        ratings.rate(account=account, subject="contact", subject_id=contact(veteran, world.target).id, score=5)
    counts = cases.score_counts(actor=world.staff_x, first=today_cst(), last=today_cst())
    assert counts[5].capped and str(counts[5]) == "1+" and counts[4].value == 0
    page = portal_as(portal_app, world.staff_x).get("/feedback/").get_data(as_text=True)
    assert 'data-testid="score-5">1+<' in page
    indexes = [i["column_names"] for i in inspect(db.engine).get_indexes("feedback_case")]
    assert ["state", "closed_at"] in indexes


def test_a_registration_is_rated_at_the_unit_it_was_made_at(world):
    from backend.db import transaction, utcnow
    from backend.feedback import pending
    from backend.registration.models import Registration
    from backend.registration.windows import today_cst

    veteran, account = veteran_with_account(world)  # at X1's grid
    with transaction():
        registration = Registration(veteran_id=veteran.id, unit_id=veteran.unit_id, year=today_cst().year,
                                    status="approved", decided_at=utcnow(), reviewer_id=world.staff_x.id)  # fmt: skip
        db.session.add(registration)
    with transaction():
        db.session.merge(veteran).place(world.y1)  # moved to district Y since
    event = pending.find_event(veteran.id, "registration", registration.id)
    assert event.station_id == world.x1.id
    rating, case = ratings.rate(account=account, subject="registration", subject_id=registration.id, score=1)
    assert rating.station_id == world.x1.id and case.subject_staff_id == world.staff_x.id
    assert case.unit_id == world.city.id  # the reviewer is county X's: handled above it


def test_attachments_lock_the_complaint_row(world, monkeypatch):
    veteran, account = veteran_with_account(world)
    complaint, _ = complaints.submit(account=account, kind="suggestion", text="希望延长服务时间")
    seen = []
    real = complaints.get_own
    monkeypatch.setattr(complaints, "get_own", lambda **kw: seen.append(kw.get("lock")) or real(**kw))
    from tests.files import samples

    complaints.add_attachment(account=account, complaint_id=complaint.id, filename="a.png", data=samples.png())
    assert seen == [True]
