"""Limits: caps per case and per veteran per CST year, four eyes above the threshold, the repeat-help warning."""

from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.assistance import rules, service, transitions
from backend.assistance.models import AssistanceCase
from backend.extensions import db
from tests.assistance.helpers import care_deliveries, move_to, new_case, second_approver, veteran_with_account


@pytest.fixture
def limits(app, monkeypatch):
    monkeypatch.setitem(app.config, "ASSISTANCE_CASE_CAP_FEN", 2_000_000)
    monkeypatch.setitem(app.config, "ASSISTANCE_YEAR_CAP_FEN", 3_000_000)
    monkeypatch.setitem(app.config, "ASSISTANCE_FOUR_EYES_ABOVE_FEN", 500_000)
    return app.config


def test_amount_above_the_case_cap_is_refused(world, limits):
    case = move_to(world, new_case(world, amount_fen=2_000_001), "recommended")
    with pytest.raises(rules.CaseCapExceeded) as refused:
        transitions.approve(actor=world.staff_x, case_id=case.id)
    assert "20,000.00" in refused.value.message and case.status == "recommended"


def test_yearly_cap_counts_what_the_veteran_got_this_cst_year(world, limits):
    limits["ASSISTANCE_FOUR_EYES_ABOVE_FEN"] = 10**9
    _, account = veteran_with_account(world)
    move_to(world, new_case(world, account, amount_fen=400_000), "paid")
    move_to(world, new_case(world, account, amount_fen=400_000), "approved")
    third = move_to(world, new_case(world, account, amount_fen=1_900_000), "recommended")
    limits["ASSISTANCE_YEAR_CAP_FEN"] = 2_500_000
    with pytest.raises(rules.YearCapExceeded) as refused:
        transitions.approve(actor=world.staff_x, case_id=third.id)
    assert refused.value.details == {"cap_fen": 2_500_000, "used_fen": 800_000, "left_fen": 1_700_000}
    assert "最多还可批准17,000.00元" in refused.value.message
    case, done = transitions.approve(actor=world.staff_x, case_id=third.id, amount_fen=1_700_000)
    assert done and case.approved_amount_fen == 1_700_000


def test_yearly_cap_starts_again_on_the_first_of_january_cst(world, limits):
    _, account = veteran_with_account(world)
    with freeze_time("2027-12-31 15:59:00"):  # 23:59 CST on 31 December
        move_to(world, new_case(world, account, amount_fen=500_000), "approved")
        move_to(world, new_case(world, account, amount_fen=500_000), "approved")
        move_to(world, new_case(world, account, amount_fen=500_000), "approved")
        late = move_to(world, new_case(world, account, amount_fen=1_600_000), "recommended")
        with pytest.raises(rules.YearCapExceeded):
            transitions.approve(actor=world.staff_x, case_id=late.id)
    with freeze_time("2027-12-31 16:00:00"):  # 00:00 CST on 1 January 2028: a new year
        other = second_approver(world)
        transitions.approve(actor=world.staff_x, case_id=late.id)
        case, done = transitions.approve(actor=other, case_id=late.id)
        assert done and case.status == "approved"


def test_rejected_cases_do_not_count_toward_the_cap(world, limits):
    _, account = veteran_with_account(world)
    rejected = move_to(world, new_case(world, account, amount_fen=400_000), "recommended")
    transitions.reject(actor=world.staff_x, case_id=rejected.id, reason="不符合")
    assert rules.granted_in_year(rejected.veteran_id, datetime.now().year) == 0


def test_at_the_threshold_one_approver_is_enough(world, limits):
    case = move_to(world, new_case(world, amount_fen=500_000), "recommended")
    case, done = transitions.approve(actor=world.staff_x, case_id=case.id)
    assert done and case.status == "approved" and case.approved_amount_fen == 500_000


def test_above_the_threshold_a_second_person_must_approve(world, limits):
    veteran, account = veteran_with_account(world)
    case = move_to(world, new_case(world, account, amount_fen=500_001), "recommended")
    sent = care_deliveries(veteran.id)
    case, done = transitions.approve(actor=world.staff_x, case_id=case.id)
    assert not done and case.status == "recommended" and case.first_approved_by_id == world.staff_x.id
    assert care_deliveries(veteran.id) == sent  # no status change yet: no message
    with pytest.raises(rules.SecondApproverRequired) as refused:
        transitions.approve(actor=world.staff_x, case_id=case.id)
    assert refused.value.status == 409 and "另一位" in refused.value.message
    case, done = transitions.approve(actor=second_approver(world), case_id=case.id, amount_fen=1)
    assert done and case.status == "approved" and case.approved_amount_fen == 500_001  # the first approver's amount
    assert care_deliveries(veteran.id) == sent + 1
    assert [e.action for e in service.timeline(case.id)][-2:] == [
        "first_approval",
        "approved",
    ]


def test_recent_help_warns_within_twelve_months_only(world, limits):
    _, account = veteran_with_account(world)
    old = move_to(world, new_case(world, account), "paid")
    recent = move_to(world, new_case(world, account), "approved")
    current = new_case(world, account)
    with db.session.no_autoflush:
        db.session.get(AssistanceCase, old.id).approved_at = datetime.now().astimezone() - timedelta(days=400)
    db.session.flush()
    assert [c.id for c in rules.recent_help(current.veteran_id, exclude_id=current.id)] == [recent.id]
    assert db.session.scalar(select(AssistanceCase.status).where(AssistanceCase.id == old.id)) == "paid"
