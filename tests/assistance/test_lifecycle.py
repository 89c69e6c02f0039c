"""The assistance life cycle: every step, every refused step (409 in Chinese), timeline, audit and a notification
per step; sealed details."""

import pytest
from sqlalchemy import select

from backend.assistance import rules, service, transitions
from backend.assistance.models import AssistanceCase, AssistanceEvent
from backend.audit.models import AuditLog
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.registration.windows import today_cst
from tests.assistance.helpers import care_deliveries, move_to, new_case, veteran_with_account


def _actions(case_id):
    return [
        a
        for (a,) in db.session.execute(
            select(AuditLog.action).where(AuditLog.object_id == str(case_id)).order_by(AuditLog.id)
        )
    ]


def test_full_life_cycle_writes_timeline_audit_and_one_delivery_per_step(world):
    veteran, account = veteran_with_account(world)
    case = new_case(world, account)
    assert case.status == "submitted" and case.station_id == world.x1.id
    assert care_deliveries(veteran.id) == 1
    for count, status in enumerate(("under_review", "recommended", "approved", "paid", "closed"), start=2):
        move_to(world, case, status)
        assert case.status == status
        assert care_deliveries(veteran.id) == count
    events = service.timeline(case.id)
    assert [e.to_status for e in events] == ["submitted", "under_review", "recommended", "approved", "paid", "closed"]
    assert _actions(case.id) == [
        "assistance.submitted",
        "assistance.review_started",
        "assistance.recommended",
        "assistance.approved",
        "assistance.paid",
        "assistance.closed",
    ]
    assert case.paid_amount_fen == 100_000 and case.funding_source == "local" and case.budget_year == today_cst().year
    assert case.closed_on == today_cst()


def test_description_notes_and_follow_up_are_sealed_at_rest(world):
    case = move_to(world, new_case(world, description="肝癌晚期"), "closed")
    raw = db.session.execute(
        select(AssistanceCase.description_sealed, AssistanceCase.notes_sealed, AssistanceCase.follow_up_sealed).where(
            AssistanceCase.id == case.id
        )
    ).one()
    assert all(value and "肝癌" not in value and "属实" not in value and "回访" not in value for value in raw)
    assert service.unseal(case, "description") == "肝癌晚期"


@pytest.mark.parametrize(
    "status,step",
    [
        ("under_review", "start_review"),
        ("submitted", "recommend"),
        ("submitted", "approve"),
        ("under_review", "approve"),
        ("recommended", "pay"),
        ("approved", "close"),
        ("approved", "reject"),
        ("closed", "reject"),
        ("rejected", "start_review"),
    ],
)
def test_refused_steps_are_409_with_a_chinese_message(world, status, step):
    case = new_case(world)
    if status == "rejected":
        transitions.reject(actor=world.staff_x, case_id=case.id, reason="不符合条件")
    else:
        move_to(world, case, status)
    calls = {
        "start_review": lambda: transitions.start_review(actor=world.staff_x, case_id=case.id),
        "recommend": lambda: transitions.recommend(actor=world.staff_x, case_id=case.id, amount_fen=100),
        "approve": lambda: transitions.approve(actor=world.staff_x, case_id=case.id),
        "pay": lambda: transitions.pay(
            actor=world.staff_x,
            case_id=case.id,
            amount_fen=100,
            paid_on=today_cst(),
            payment_reference="R",
            funding_source="central",
            budget_year=today_cst().year,
        ),
        "close": lambda: transitions.close(actor=world.staff_x, case_id=case.id, follow_up="x"),
        "reject": lambda: transitions.reject(actor=world.staff_x, case_id=case.id, reason="x"),
    }
    with pytest.raises(rules.CaseStateInvalid) as refused:
        calls[step]()
    assert refused.value.status == 409 and "申请" in refused.value.message
    assert db.session.get(AssistanceCase, case.id).status == status


@pytest.mark.parametrize("status", ["submitted", "under_review", "recommended"])
def test_reject_with_reason_tells_the_veteran(world, status):
    veteran, account = veteran_with_account(world)
    case = move_to(world, new_case(world, account), status)
    before = care_deliveries(veteran.id)
    transitions.reject(actor=world.staff_x, case_id=case.id, reason="家庭收入超过标准")
    assert case.status == "rejected" and case.reject_reason == "家庭收入超过标准"
    assert care_deliveries(veteran.id) == before + 1
    assert service.timeline(case.id)[-1].to_status == "rejected"


def test_reject_needs_a_reason(world):
    case = new_case(world)
    with pytest.raises(ValidationFailed):
        transitions.reject(actor=world.staff_x, case_id=case.id, reason="  ")


def test_station_staff_without_approve_cannot_approve_or_reject_a_recommended_case(world):
    case = move_to(world, new_case(world), "recommended")
    with pytest.raises(PermissionDenied):
        transitions.approve(actor=world.target, case_id=case.id)
    with pytest.raises(PermissionDenied):
        transitions.reject(actor=world.target, case_id=case.id, reason="x")


def test_payment_above_the_approved_amount_is_refused(world):
    case = move_to(world, new_case(world), "approved")
    with pytest.raises(rules.OverPayment):
        transitions.pay(
            actor=world.staff_x,
            case_id=case.id,
            amount_fen=100_001,
            paid_on=today_cst(),
            payment_reference="R",
            funding_source="central",
            budget_year=today_cst().year,
        )


def test_payment_needs_funding_source_reference_and_a_date_not_in_the_future(world):
    from datetime import timedelta

    case = move_to(world, new_case(world), "approved")
    with pytest.raises(ValidationFailed) as refused:
        transitions.pay(
            actor=world.staff_x,
            case_id=case.id,
            amount_fen=100,
            paid_on=today_cst() + timedelta(days=1),
            payment_reference="",
            funding_source="bank",
            budget_year=1800,
        )
    assert set(refused.value.details) == {"paid_on", "payment_reference", "funding_source", "budget_year"}


def test_staff_open_a_case_at_the_counter_for_a_veteran_in_scope(world):
    veteran, _ = veteran_with_account(world)
    case = service.open_case(
        actor=world.target, veteran_id=veteran.id, category="disaster", description="房屋被洪水冲毁", channel="visit"
    )
    assert case.channel == "visit" and case.created_by_id == world.target.id and case.status == "submitted"
    assert care_deliveries(veteran.id) == 1
    assert db.session.scalars(select(AssistanceEvent).where(AssistanceEvent.case_id == case.id)).one().staff_id


def test_validation_of_a_request(world):
    _, account = veteran_with_account(world)
    with pytest.raises(ValidationFailed) as refused:
        service.submit_case(account=account, category="lottery", description="", requested_amount_fen=-1)
    assert set(refused.value.details) == {"category", "description", "requested_amount_fen"}


@pytest.mark.parametrize("raw,fen", [("1234.5", 123450), ("0.01", 1), ("1,000", 100000), ("88", 8800)])
def test_parse_yuan_never_uses_floats(raw, fen):
    assert rules.parse_yuan(raw) == fen


@pytest.mark.parametrize("raw", ["abc", "1.234", "-5", "0", "1e3", "12345678901"])
def test_parse_yuan_refuses_bad_amounts(raw):
    with pytest.raises(ValidationFailed):
        rules.parse_yuan(raw)
