"""Case opening rules, due dates on China's working-day calendar (frozen time, 2026 golden week), escalation up the
tree (stopping at the province), and the closed loop's steps."""

from datetime import date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from backend.errors import StaleUpdate
from backend.extensions import db
from backend.feedback import complaints, handling, ratings, rules
from backend.feedback.models import FeedbackCase, FeedbackCaseEvent
from backend.inbox.models import InboxMessage
from backend.registration.windows import CST
from tests.feedback.helpers import bad_rating, colleague, complaint_about, contact, station_worker, veteran_with_account

GOLDEN = datetime(2026, 9, 29, 10, 0, tzinfo=CST)  # a Tuesday before the National Day holiday


def test_working_days_skip_the_golden_week_and_count_the_make_up_saturday(app):
    # 9-30 (1), Oct 1-7 off, 10-08 (2), 10-09 (3), Saturday 10-10 is a make-up working day (4), 10-12 (5)
    assert rules.add_working_days(date(2026, 9, 29), 5) == date(2026, 10, 12)
    # an ordinary weekend: Friday + 1 working day is Monday
    assert rules.add_working_days(date(2026, 6, 5), 1) == date(2026, 6, 8)
    assert rules.working_days_until(date(2026, 9, 29), date(2026, 10, 12)) == 5


def test_a_bad_rating_opens_a_case_for_the_county_due_in_five_working_days(world):
    with freeze_time(GOLDEN):
        veteran, _, rating, case = bad_rating(world, score=2)
    assert case.unit_id == world.x.id and case.subject_unit_id == world.x1.id and case.source == "rating"
    assert case.due_on == date(2026, 10, 12) and case.state == "open"
    kinds = db.session.scalars(select(InboxMessage.kind).where(InboxMessage.veteran_id == veteran.id)).all()
    assert kinds == ["feedback.case"]


@pytest.mark.parametrize("score", [3, 4, 5])
def test_a_good_rating_opens_no_case(world, score):
    veteran, account = veteran_with_account(world)
    record = contact(veteran, world.staff_x)
    _, case = ratings.rate(account=account, subject="contact", subject_id=record.id, score=score)
    assert case is None


def test_complaints_and_suggestions_open_a_case(world):
    worker = station_worker(world)
    _, _, complaint, case = complaint_about(world, worker)
    assert case.subject_staff_id == worker.id and case.complaint_id == complaint.id and case.unit_id == world.x.id
    veteran, account = veteran_with_account(world)
    _, suggestion_case = complaints.submit(account=account, kind="suggestion", text="希望延长周六服务时间")
    assert suggestion_case.subject_staff_id is None and suggestion_case.subject_unit_id == veteran.station_id


def test_a_complaint_about_someone_who_never_served_the_veteran_is_refused(world):
    _, account = veteran_with_account(world)
    stranger = station_worker(world)
    with pytest.raises(rules.TargetInvalid):
        complaints.submit(account=account, kind="complaint", about="staff", staff_id=stranger.id, text="x")
    with pytest.raises(rules.TargetInvalid):
        complaints.submit(account=account, kind="complaint", unit_id=world.y1.id, text="x")


def _events(case):
    return db.session.scalars(
        select(FeedbackCaseEvent.action).where(FeedbackCaseEvent.case_id == case.id).order_by(FeedbackCaseEvent.id)
    ).all()


def test_overdue_cases_escalate_after_the_holiday_and_stop_at_the_province(world):
    with freeze_time(GOLDEN):
        _, _, _, case = bad_rating(world)
    with freeze_time(datetime(2026, 10, 12, 18, 0, tzinfo=CST)):  # the due day itself: not overdue
        assert handling.escalate_overdue() == 0
    with freeze_time(datetime(2026, 10, 13, 1, 0, tzinfo=CST)):
        assert handling.escalate_overdue() == 1
        assert handling.escalate_overdue() == 0  # idempotent: a new due date
    db.session.expire_all()
    case = db.session.get(FeedbackCase, case.id)
    assert case.unit_id == world.city.id and case.escalations == 1 and case.assignee_id is None
    assert case.due_on == date(2026, 10, 20)  # 14, 15, 16, (17-18 weekend), 19, 20
    with freeze_time(datetime(2026, 10, 21, 9, 0, tzinfo=CST)):
        assert handling.escalate_overdue() == 1
    with freeze_time(datetime(2026, 12, 1, 9, 0, tzinfo=CST)):
        assert handling.escalate_overdue() == 0  # at the province: stays there
    db.session.expire_all()
    case = db.session.get(FeedbackCase, case.id)
    assert case.unit_id == world.province.id and case.escalations == 2
    assert _events(case) == ["opened", "escalated", "escalated"]


def test_the_closed_loop_in_time(world):
    with freeze_time(GOLDEN):
        _, _, _, case = bad_rating(world)
        actor = world.staff_x
        handling.assign(actor=actor, case_id=case.id, assignee_id=actor.id, expected_version=case.version_id)
        handling.record_contact(actor=actor, case_id=case.id, note="电话联系，已致歉")
        handling.resolve(actor=actor, case_id=case.id, outcome="已批评教育当事人")
    with freeze_time(datetime(2026, 10, 12, 9, 0, tzinfo=CST)):
        handling.revisit(actor=actor, case_id=case.id, result="satisfied")
    db.session.expire_all()
    case = db.session.get(FeedbackCase, case.id)
    assert case.state == "closed" and case.closed_in_time is True and case.revisit_result == "satisfied"
    assert _events(case) == ["opened", "assigned", "contacted", "resolved", "revisited", "closed"]


def test_an_unsatisfied_revisit_moves_the_case_up(world):
    _, _, _, case = bad_rating(world)
    actor = world.staff_x
    handling.record_contact(actor=actor, case_id=case.id, note="已联系")
    handling.resolve(actor=actor, case_id=case.id, outcome="已处理")
    handling.revisit(actor=actor, case_id=case.id, result="unsatisfied")
    db.session.expire_all()
    case = db.session.get(FeedbackCase, case.id)
    assert case.state == "open" and case.unit_id == world.city.id and case.escalations == 1


def test_a_stale_version_is_refused(world):
    _, _, _, case = bad_rating(world)
    version = case.version_id
    handling.record_contact(actor=world.staff_x, case_id=case.id, note="已联系", expected_version=version)
    with pytest.raises(StaleUpdate):
        handling.resolve(actor=world.staff_x, case_id=case.id, outcome="x", expected_version=version)


def test_steps_out_of_order_are_refused(world):
    _, _, _, case = bad_rating(world)
    with pytest.raises(rules.CaseStateInvalid):
        handling.resolve(actor=world.staff_x, case_id=case.id, outcome="x")
    with pytest.raises(rules.CaseStateInvalid):
        handling.revisit(actor=world.staff_x, case_id=case.id, result="satisfied")


def test_assignment_only_to_handlers_of_the_handling_unit(world):
    _, _, _, case = bad_rating(world)
    mate = colleague(world)
    handling.assign(actor=world.staff_x, case_id=case.id, assignee_id=mate.id)
    for wrong in (world.staff_y, station_worker(world), world.supervisor_parent):
        with pytest.raises(rules.AssigneeInvalid):
            handling.assign(actor=world.staff_x, case_id=case.id, assignee_id=wrong.id)
    assert db.session.scalar(select(func.count()).where(FeedbackCaseEvent.case_id == case.id)) == 2
