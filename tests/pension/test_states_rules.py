"""Pay states (issue 18, part 1): suspension by the registration_overdue rule when a registration is overdue (frozen
dates), resumption with back pay when it is approved, manual suspend / resume with a previewed back pay, stop, the
rules page."""

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.db import transaction
from backend.extensions import db
from backend.pension import profile, rules, states
from backend.pension.models import PayRule, PayStateEvent
from backend.registration import jobs, review
from backend.registration.models import Registration
from tests.helpers import portal_as
from tests.pension.pay_helpers import set_amount, started_veteran, suspend, version
from tests.registration.helpers import FULL


def _registration(veteran, year, status):
    with transaction():
        reg = Registration(
            veteran_id=veteran.id, unit_id=veteran.unit_id, year=year, status=status, content=FULL, return_reasons={}
        )
        db.session.add(reg)
    return reg


def _events(veteran):
    return db.session.scalars(
        select(PayStateEvent).where(PayStateEvent.veteran_id == veteran.id).order_by(PayStateEvent.id)
    ).all()


def test_the_four_rules_are_seeded_by_the_migration():
    seeded = {r.code: (r.action, r.automatic) for r in rules.all_rules()}
    assert seeded == {
        "death": ("stop", False),
        "reenlisted": ("stop", False),
        "public_post": ("suspend", False),
        "registration_overdue": ("suspend", True),
    }
    assert db.session.get(PayRule, "registration_overdue").params == {"grace_days": 0}


def test_overdue_registration_suspends_pay_and_approval_resumes_with_back_pay(world):
    veteran = started_veteran(world, start_on=date(2026, 1, 1), base="3000")
    set_amount(world, veteran, "base", "3300", "2026-06")  # an adjustment inside the suspended months
    other = started_veteran(world, start_on=date(2026, 1, 1))  # registered in time: untouched
    reg = _registration(veteran, 2026, "draft")
    _registration(other, 2026, "submitted")
    with freeze_time("2026-03-31 12:00:00"):  # 20:00 CST on the last day: still open
        jobs.mark_overdue()
    assert profile.profile_of(veteran.id).state == "active"
    with freeze_time("2026-04-02 02:00:00"):
        jobs.mark_overdue()
        assert states.suspend_overdue(2026) == 0  # idempotent
    pay = profile.profile_of(veteran.id)
    assert (pay.state, pay.state_since, pay.state_reason) == ("suspended", date(2026, 4, 1), "registration_overdue")
    assert profile.profile_of(other.id).state == "active"
    assert db.session.scalar(select(AuditLog.details).where(AuditLog.action == "pension.auto_suspended"))["count"] == 1
    rule_message = rules.veteran_message(pay)["message"]
    assert "年度确认" in rule_message

    with freeze_time("2026-08-10 02:00:00"):
        with transaction():
            db.session.get(Registration, reg.id).status = "submitted"
        db.session.refresh(reg)
        review.approve(actor=world.staff_x, registration_id=reg.id, expected_version=reg.version_id)
    pay = profile.profile_of(veteran.id)
    assert (pay.state, pay.state_since, pay.state_reason) == ("active", date(2026, 8, 1), None)
    resumed = _events(veteran)[-1]
    assert resumed.action == "resume" and resumed.effective_on == date(2026, 8, 1)  # Apr–Jul: the back pay
    assert resumed.back_pay_fen == 2 * 300000 + 2 * 330000  # Apr, May at 3000; Jun, Jul at 3300 (Aug: its own run)
    assert resumed.paid_in_run_id is None  # the next payroll run pays it


def test_grace_days_and_a_disabled_rule(world):
    veteran = started_veteran(world, start_on=date(2026, 1, 1))
    _registration(veteran, 2026, "overdue")
    rule = db.session.get(PayRule, "registration_overdue")
    with transaction():
        rule.params = {"grace_days": 30}
    assert states.suspend_overdue(2026, now=datetime(2026, 4, 20, tzinfo=UTC)) == 0
    with transaction():
        rule.enabled = False
    assert states.suspend_overdue(2026, now=datetime(2026, 5, 2, tzinfo=UTC)) == 0
    with transaction():
        rule.enabled = True
    assert states.suspend_overdue(2026, now=datetime(2026, 5, 2, tzinfo=UTC)) == 1
    assert profile.profile_of(veteran.id).state_since == date(2026, 5, 1)


def test_approval_of_someone_not_suspended_by_the_rule_changes_nothing(world):
    veteran = started_veteran(world, start_on=date(2024, 1, 1))
    suspend(world, veteran, date(2025, 1, 1), reason="public_post")
    assert states.on_registration_approved(veteran.id, 2025, world.staff_x) is None
    assert profile.profile_of(veteran.id).state == "suspended"


def test_manual_suspend_preview_and_resume_with_back_pay(world, portal_app):
    veteran = started_veteran(world, start_on=date(2024, 1, 1), base="3000", allowance="500")
    with freeze_time("2025-05-20 02:00:00"):
        client = portal_as(portal_app, world.staff_x)  # log in at the frozen time
        client.post(
            f"/pension/veterans/{veteran.id}/suspend",
            data={"version": version(veteran), "reason": "public_post", "effective_on": "2025-02-01"},
            expect=302,
        )
        assert profile.profile_of(veteran.id).state == "suspended"
        html = client.get(f"/pension/veterans/{veteran.id}/resume?back_pay=1", expect=200).get_data(as_text=True)
        assert "10,500.00" in html and "data-confirm-title" in html  # Feb, Mar, Apr at 3500
        stale = version(veteran)
        client.post(
            f"/pension/veterans/{veteran.id}/resume",
            data={"version": stale, "back_pay": "1", "back_pay_fen": "1"},  # not what the figures give now
            expect=302,
        )
        assert profile.profile_of(veteran.id).state == "suspended"
        client.post(
            f"/pension/veterans/{veteran.id}/resume",
            data={"version": stale, "back_pay": "1", "back_pay_fen": "1050000"},
            expect=302,
        )
    assert profile.profile_of(veteran.id).state == "active"
    assert _events(veteran)[-1].back_pay_fen == 1050000
    assert (
        db.session.scalar(select(AuditLog.details).where(AuditLog.action == "pension.resumed"))["back_pay_fen"]
        == 1050000
    )


def test_resume_without_back_pay_and_stop_is_final(world):
    veteran = started_veteran(world, start_on=date(2024, 1, 1))
    suspend(world, veteran, date(2025, 1, 1))
    states.resume(
        actor=world.staff_x,
        veteran_id=veteran.id,
        expected_version=version(veteran),
        back_pay=False,
        effective_on=date(2025, 3, 1),
    )
    assert _events(veteran)[-1].back_pay_fen is None
    states.change(
        actor=world.staff_x,
        veteran_id=veteran.id,
        expected_version=version(veteran),
        action="stop",
        reason="death",
        effective_on=date(2025, 6, 1),
    )
    with pytest.raises(rules.InvalidState):
        suspend(world, veteran, date(2025, 7, 1))
    assert profile.profile_of(veteran.id).state == "stopped"


def test_reasons_must_be_enabled_rules_of_the_action_or_manual_with_a_note(world):
    veteran = started_veteran(world, start_on=date(2024, 1, 1))
    for reason, note in (("death", None), ("registration_overdue", None), ("manual", ""), ("nope", None)):
        with pytest.raises(rules.BadReason):
            states.change(
                actor=world.staff_x,
                veteran_id=veteran.id,
                expected_version=version(veteran),
                action="suspend",
                reason=reason,
                note=note,
                effective_on=date(2025, 1, 1),
            )
    with pytest.raises(rules.InvalidState):  # before the start event
        suspend(world, veteran, date(2023, 12, 1))
    states.change(
        actor=world.staff_x,
        veteran_id=veteran.id,
        expected_version=version(veteran),
        action="suspend",
        reason="manual",
        note="本人申请",
        effective_on=date(2025, 1, 1),
    )
    assert profile.profile_of(veteran.id).state_note == "本人申请"


def test_rules_page_edits_and_audits(world, portal_app):
    client = portal_as(portal_app, world.sys_admin)
    assert "未按期完成年度确认" in client.get("/pension/rules", expect=200).get_data(as_text=True)
    client.post("/pension/rules/public_post", data={"enabled": "0", "label": "公职录用", "message": "暂停"}, expect=302)
    client.post(
        "/pension/rules/registration_overdue",
        data={"enabled": "1", "label": "逾期", "message": "m", "grace_days": "15"},
        expect=302,
    )
    assert db.session.get(PayRule, "public_post").enabled is False
    assert db.session.get(PayRule, "registration_overdue").params == {"grace_days": 15}
    assert [r.code for r in rules.enabled_rules("suspend")] == []
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "pension.rule_updated"))
    portal_as(portal_app, world.staff_x).get("/pension/rules", expect=403)
