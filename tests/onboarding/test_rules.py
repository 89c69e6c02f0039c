"""The service rules of the reception one-stop (Art. 7): steps at opening, transfer before check-in for party
members (not for others), every state change audited and evented, coordination, stale forms, closing."""

from datetime import timedelta

import pytest

from backend.errors import StaleUpdate, ValidationFailed
from backend.onboarding import service, steps
from backend.onboarding.rules import AlreadyOpen, CaseNotFound, StepsOpen, StepStateInvalid, TransferFirst
from backend.registration.windows import today_cst
from tests.factories import create_veteran, valid_id_number
from tests.onboarding.helpers import audits, complete_all, events, new_case, step_row


def test_opening_creates_nine_steps_with_due_dates_and_is_audited(world, app):
    _, case = new_case(world, party_member=True, arrived_days_ago=3)
    items = service.steps_of(case.id)
    assert [s.step for s in items][:2] == ["party_transfer", "check_in"] and len(items) == 9
    days = app.config["ONBOARDING_STEP_DUE_DAYS"]
    assert all(s.state == "pending" and s.required for s in items)
    assert step_row(case, "hukou").due_on == case.arrived_on + timedelta(days=days["hukou"])
    assert audits("onboarding.opened", case.id) == 1 and events(case.id, "opened") == 1


def test_non_member_skips_the_transfer(world):
    _, case = new_case(world, party_member=False)
    transfer = step_row(case, "party_transfer")
    assert transfer.state == "not_applicable" and not transfer.required and transfer.due_on is None
    item = steps.set_state(actor=world.staff_x, case_id=case.id, step="check_in", to_state="in_progress")
    assert item.state == "in_progress"


@pytest.mark.parametrize("to_state", ["in_progress", "done"])
def test_party_member_check_in_is_refused_while_the_transfer_is_open(world, to_state):
    _, case = new_case(world, party_member=True)
    with pytest.raises(TransferFirst) as refused:
        steps.set_state(actor=world.staff_x, case_id=case.id, step="check_in", to_state=to_state)
    assert refused.value.code == "onboarding.transfer_first"
    assert refused.value.message == "该退役军人是党员，须先完成党员组织关系转接，再办理报到"
    assert step_row(case, "check_in").state == "pending" and audits("onboarding.step", case.id) == 0
    steps.set_state(actor=world.staff_x, case_id=case.id, step="party_transfer", to_state="in_progress")
    with pytest.raises(TransferFirst):
        steps.set_state(actor=world.staff_x, case_id=case.id, step="check_in", to_state=to_state)
    steps.set_state(actor=world.staff_x, case_id=case.id, step="party_transfer", to_state="done")
    assert steps.set_state(actor=world.staff_x, case_id=case.id, step="check_in", to_state=to_state).state == to_state


def test_transfer_cannot_be_reopened_once_check_in_started(world):
    _, case = new_case(world)
    steps.set_state(actor=world.staff_x, case_id=case.id, step="party_transfer", to_state="done")
    steps.set_state(actor=world.staff_x, case_id=case.id, step="check_in", to_state="in_progress")
    with pytest.raises(StepStateInvalid):
        steps.set_state(actor=world.staff_x, case_id=case.id, step="party_transfer", to_state="in_progress", note="误")


def test_every_state_change_is_audited_and_evented_with_history(world):
    _, case = new_case(world, party_member=False)
    moves = [("in_progress", None), ("done", "已开户"), ("in_progress", "账号填错，重办"), ("done", None)]
    for to_state, note in moves:
        item = steps.set_state(actor=world.staff_x, case_id=case.id, step="bank_account", to_state=to_state, note=note)
        assert item.state == to_state and item.handler_id == world.staff_x.id
        assert (item.done_on == today_cst()) if to_state == "done" else item.done_on is None
    assert audits("onboarding.step", case.id) == 4 and events(case.id, "state") == 4


def test_back_from_done_needs_a_note_and_unknown_moves_are_refused(world):
    _, case = new_case(world, party_member=False)
    steps.set_state(actor=world.staff_x, case_id=case.id, step="reserve", to_state="done")
    with pytest.raises(ValidationFailed):
        steps.set_state(actor=world.staff_x, case_id=case.id, step="reserve", to_state="in_progress")
    with pytest.raises(StepStateInvalid):
        steps.set_state(actor=world.staff_x, case_id=case.id, step="reserve", to_state="pending")
    with pytest.raises(StepStateInvalid):
        steps.set_state(actor=world.staff_x, case_id=case.id, step="party_transfer", to_state="done")
    with pytest.raises(CaseNotFound):
        steps.set_state(actor=world.staff_x, case_id=case.id, step="nonsense", to_state="done")


def test_a_stale_form_is_refused_and_nothing_is_overwritten(world):
    _, case = new_case(world, party_member=False)
    version = step_row(case, "hukou").version_id
    steps.set_state(actor=world.staff_x, case_id=case.id, step="hukou", to_state="in_progress", version=version)
    with pytest.raises(StaleUpdate) as stale:
        steps.set_state(
            actor=world.staff_x, case_id=case.id, step="hukou", to_state="done", version=version, note="旧表单"
        )
    assert "刚被他人更新" in stale.value.message
    item = step_row(case, "hukou")
    assert item.state == "in_progress" and item.note is None


def test_coordination_is_recorded_audited_and_evented(world):
    _, case = new_case(world, party_member=False)
    on = today_cst() - timedelta(days=1)
    item = steps.record_coordination(
        actor=world.staff_x,
        case_id=case.id,
        step="hukou",
        contact_party="青山派出所 李警官",
        contacted_on=on,
        result="材料已齐，审批中",
    )
    assert (item.contact_party, item.contacted_on) == ("青山派出所 李警官", on)
    assert item.coordination_result == "材料已齐，审批中"
    assert audits("onboarding.coordination", case.id) == 1 and events(case.id, "coordination") == 1
    with pytest.raises(StepStateInvalid):  # the station's own step: nobody else to coordinate with
        steps.record_coordination(
            actor=world.staff_x, case_id=case.id, step="check_in", contact_party="x", contacted_on=on, result="y"
        )
    with pytest.raises(ValidationFailed):
        steps.record_coordination(
            actor=world.staff_x, case_id=case.id, step="hukou", contact_party="", contacted_on=None, result=""
        )


def test_close_is_refused_with_open_required_steps_then_allowed(world):
    veteran, case = new_case(world)
    with pytest.raises(StepsOpen) as refused:
        steps.close_case(actor=world.staff_x, case_id=case.id, summary="办结")
    assert "党员组织关系转接" in refused.value.message and "欢迎仪式" in refused.value.message
    complete_all(world, case, skip=())
    closed = steps.close_case(actor=world.staff_x, case_id=case.id, summary="各项手续办结")
    assert closed.status == "closed" and closed.closed_on == today_cst() and closed.summary == "各项手续办结"
    assert audits("onboarding.closed", case.id) == 1
    with pytest.raises(StepStateInvalid):
        steps.set_state(actor=world.staff_x, case_id=case.id, step="hukou", to_state="in_progress", note="x")


def test_one_case_per_veteran_and_scope_on_opening(world):
    veteran, _ = new_case(world)
    with pytest.raises(AlreadyOpen):
        service.open_case(actor=world.staff_x, veteran_id=veteran.id, arrived_on=today_cst())
    other = create_veteran(station=world.x1)
    from backend.veterans.service import VeteranNotFound

    with pytest.raises(VeteranNotFound):
        service.open_case(actor=world.staff_y, veteran_id=other.id, arrived_on=today_cst())
    with pytest.raises(ValidationFailed):
        service.open_case(actor=world.staff_x, veteran_id=other.id, arrived_on=today_cst() + timedelta(days=1))


def test_opening_with_a_new_veteran_record_checks_the_id_number(world):
    fields = {"name": "新兵甲", "id_number": "110105199001011234", "party_member": True}
    with pytest.raises(ValidationFailed):
        service.open_case_for_new_veteran(
            actor=world.staff_x, veteran_fields=fields, station_id=world.x1.id, arrived_on=today_cst()
        )
    fields["id_number"] = valid_id_number()
    case = service.open_case_for_new_veteran(
        actor=world.staff_x, veteran_fields=fields, station_id=world.x1.id, arrived_on=today_cst()
    )
    assert case.party_member and step_row(case, "party_transfer").required
    assert case.station_id == world.x1.id


def test_overdue_steps_are_counted_in_scope(world):
    _, case = new_case(world, party_member=False, arrived_days_ago=60)
    assert service.count_overdue_steps(actor=world.staff_x).value == 8
    assert service.count_overdue_steps(actor=world.staff_y).value == 0
    rows, _ = service.list_cases(actor=world.staff_x, overdue=True)
    assert [r.id for r in rows] == [case.id]
    assert service.list_cases(actor=world.staff_y, overdue=True)[0] == []
