"""The portal's feedback pages, the hidden-from-subject rule on every path, the workbench card, and the auditor's
conduct views."""

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditLog
from backend.audit.service import record_now
from backend.extensions import db
from backend.feedback import cases, handling, rules
from backend.feedback.models import FeedbackCase
from tests.factories import create_staff
from tests.feedback.helpers import bad_rating, colleague, complaint_about, contact, veteran_with_account
from tests.helpers import PortalClient


def _as(portal_app, staff):
    client = PortalClient(portal_app)
    client.login(staff)
    return client


def _views(case_id):
    return db.session.scalar(
        select(func.count()).where(AuditLog.action == "feedback.case_viewed", AuditLog.object_id == str(case_id))
    )


def test_list_and_figures_in_scope(world, portal_app):
    _, _, rating, case = bad_rating(world)
    page = _as(portal_app, world.staff_x).get("/feedback/", expect=200).text
    assert f"case-{case.id}" in page and "评价与投诉" in page
    assert 'data-testid="score-1">1<' in page
    other = _as(portal_app, world.staff_y).get("/feedback/", expect=200).text
    assert f"case-{case.id}" not in other and 'data-testid="score-1">0<' in other
    _as(portal_app, world.staff_y).get(f"/feedback/{case.id}", expect=404)


def test_handlers_read_the_text_every_view_audited_others_do_not(world, portal_app):
    _, _, _, case = bad_rating(world, comment="电话一直打不通")
    assert "电话一直打不通" in _as(portal_app, world.staff_x).get(f"/feedback/{case.id}", expect=200).text
    page = _as(portal_app, world.supervisor_parent).get(f"/feedback/{case.id}", expect=200).text
    assert "电话一直打不通" not in page and "内容仅办理人员可见" in page
    assert _views(case.id) == 2


def test_the_steps_through_the_portal(world, portal_app):
    _, _, _, case = bad_rating(world)
    client = _as(portal_app, world.staff_x)
    client.post(f"/feedback/{case.id}/assign", data={"assignee": "me", "version": case.version_id}, expect=302)
    db.session.expire_all()
    case = db.session.get(FeedbackCase, case.id)
    client.post(f"/feedback/{case.id}/contact", data={"note": "已电话联系", "version": case.version_id}, expect=302)
    db.session.expire_all()
    case = db.session.get(FeedbackCase, case.id)
    client.post(f"/feedback/{case.id}/resolve", data={"outcome": "已整改", "version": case.version_id}, expect=302)
    db.session.expire_all()
    case = db.session.get(FeedbackCase, case.id)
    client.post(f"/feedback/{case.id}/revisit", data={"result": "unreachable", "version": case.version_id}, expect=302)
    db.session.expire_all()
    case = db.session.get(FeedbackCase, case.id)
    # closed, but an unreachable veteran never confirmed it: not counted as in time (review item 4)
    assert case.state == "closed" and case.assignee_id == world.staff_x.id and case.closed_in_time is False
    assert cases.handling(case) == {"contacts": ["已电话联系"], "outcome": "已整改"}


def test_a_stale_form_is_told(world, portal_app):
    _, _, _, case = bad_rating(world)
    client = _as(portal_app, world.staff_x)
    old = case.version_id
    client.post(f"/feedback/{case.id}/contact", data={"note": "a", "version": old}, expect=302)
    client.post(f"/feedback/{case.id}/contact", data={"note": "b", "version": old}, expect=302)
    db.session.expire_all()
    assert cases.handling(db.session.get(FeedbackCase, case.id))["contacts"] == ["a"]


# --- hidden from the subject


@pytest.fixture
def about_a_handler(world):
    """A complaint about a center reviewer of county X who served the veteran: the city handles it (never the
    person's own center)."""
    subject = colleague(world)
    _, _, complaint, case = complaint_about(world, subject, text="审核员刁难")
    return subject, complaint, case


def test_the_subject_never_sees_the_case_on_any_path(world, portal_app, about_a_handler):
    subject, _, case = about_a_handler
    assert case.unit_id == world.city.id
    city_handler = create_staff(unit=world.city, roles=("center_reviewer",))
    client = _as(portal_app, subject)
    assert f"case-{case.id}" not in client.get("/feedback/", expect=200).text
    assert f"case-{case.id}" not in client.get("/feedback/?overdue=1", expect=200).text
    assert f"case-{case.id}" not in client.get("/feedback/?state=open", expect=200).text
    client.get(f"/feedback/{case.id}", expect=404)
    for step, data in (
        ("assign", {"assignee": "me"}),
        ("contact", {"note": "x"}),
        ("resolve", {"outcome": "x"}),
        ("revisit", {"result": "satisfied"}),
    ):
        client.post(f"/feedback/{case.id}/{step}", data=data, expect=404)
    client.get(f"/feedback/{case.id}/attachments/1", expect=404)
    assert "审核员刁难" not in client.get("/", expect=200).text
    assert cases.list_cases(actor=subject)[0] == []
    assert [c.value for c in cases.count_due(actor=subject, within_days=10)] == [0, 0]
    with pytest.raises(rules.CaseNotFound):
        cases.view_case(actor=subject, case_id=case.id)
    with pytest.raises(rules.CaseNotFound):
        handling.record_contact(actor=subject, case_id=case.id, note="x")
    db.session.expire_all()
    assert db.session.get(FeedbackCase, case.id).state == "open"
    # the subject's own center does not see it; the city's handler does and may not hand it to the subject
    assert f"case-{case.id}" not in _as(portal_app, world.staff_x).get("/feedback/", expect=200).text
    assert f"case-{case.id}" in _as(portal_app, city_handler).get("/feedback/", expect=200).text
    assert [c.value for c in cases.count_due(actor=city_handler, within_days=10)] == [1, 0]
    with pytest.raises(rules.AssigneeInvalid):
        handling.assign(actor=city_handler, case_id=case.id, assignee_id=subject.id)
    assert subject not in cases.colleagues(case)


def test_ratings_of_what_the_viewer_served_still_count(world, portal_app):
    veteran, account = veteran_with_account(world)
    from backend.feedback import ratings

    ratings.rate(account=account, subject="contact", subject_id=contact(veteran, world.staff_x).id, score=1)
    assert cases.score_counts(actor=world.staff_x, first=rules_today(), last=rules_today())[1].value == 1


def rules_today():
    from backend.registration.windows import today_cst

    return today_cst()


def test_the_workbench_card(world, portal_app):
    from datetime import timedelta

    from backend.db import transaction

    _, _, _, case = bad_rating(world)
    with transaction():
        db.session.get(FeedbackCase, case.id).due_on = rules_today() - timedelta(days=1)
    page = _as(portal_app, world.staff_x).get("/", expect=200).text
    assert 'data-testid="card-feedback"' in page and 'data-testid="todo-feedback_due-value">1<' in page
    assert 'data-testid="todo-feedback_overdue-value">1<' in page


# --- the auditor's views


def test_auditor_views(world, portal_app, about_a_handler):
    subject, _, case = about_a_handler
    record_now(actor=world.staff_x, action="veterans.reveal", object_type="veteran", object_id=1)
    record_now(actor=world.staff_x, action="access.denied", result="denied")
    client = _as(portal_app, world.auditor)
    conduct = client.get("/audit/conduct", expect=200).text
    assert f"conduct-{case.id}" in conduct and subject.full_name in conduct and "审核员刁难" not in conduct
    volumes = client.get("/audit/volumes", expect=200).text
    assert f"volume-{world.staff_x.id}" in volumes
    assert "越权访问被拒绝" in client.get("/audit/refusals", expect=200).text
    staff_page = client.get(f"/audit/staff/{world.staff_x.id}", expect=200).text
    assert "查看完整证件号" in staff_page
    client.get("/audit/staff/999999999", expect=404)
    for url in ("/audit/conduct", "/audit/volumes", "/audit/refusals", f"/audit/staff/{world.staff_x.id}"):
        _as(portal_app, world.staff_x).get(url, expect=403)


def test_unusual_volumes_are_highlighted(world, app):
    from backend.audit import oversight
    from backend.registration.windows import today_cst

    peers = [create_staff(unit=world.x1) for _ in range(3)]
    for peer in peers:
        record_now(actor=peer, action="veterans.reveal", object_type="veteran", object_id=1)
    for _ in range(5):
        record_now(actor=world.staff_x, action="veterans.reveal", object_type="veteran", object_id=1)
    today = today_cst()
    rows, reveal_median, _ = oversight.volumes(actor=world.auditor, first=today, last=today)
    assert reveal_median == 1
    assert [(v.staff_id, v.unusual) for v in rows][0] == (world.staff_x.id, True)
    assert not any(v.unusual for v in rows[1:])
