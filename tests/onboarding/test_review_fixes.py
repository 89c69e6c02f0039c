"""Review fixes of issue 17 (onboarding): only linked steps are completed elsewhere, the party transfer follows a
correction of the registry's party membership (and transfer-before-check-in still holds), a notice date that does not
parse is refused with the field's message, the case, its steps, the archive and the honors records follow the veteran
to a new station."""

from datetime import date

import pytest
from sqlalchemy import select, update

from backend.db import transaction
from backend.extensions import db
from backend.honors import awards, chronicle
from backend.honors.rules import ChronicleNotFound
from backend.onboarding import links, service, steps
from backend.onboarding.models import OnboardingCase, OnboardingStep
from backend.onboarding.rules import CaseNotFound, StepsOpen, TransferFirst
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran
from backend.veterans.service import move_veteran
from tests.factories import create_staff, create_veteran
from tests.helpers import PortalClient
from tests.onboarding.helpers import audits, complete_all, new_case, step_row


def _set_member(veteran, member):
    """The registry corrected (as an edit of the veteran's record would)."""
    with transaction():
        db.session.execute(update(Veteran).where(Veteran.id == veteran.id).values(party_member=member))


@pytest.mark.parametrize("code", ["check_in", "hukou", "nonsense"])
def test_only_linked_steps_are_completed_elsewhere(world, code):
    veteran, case = new_case(world)
    with pytest.raises(ValueError):
        links.step_done_elsewhere(actor=world.staff_x, veteran_id=veteran.id, step=code, done_on=today_cst())
    assert step_row(case, "check_in").state == "pending"
    done = links.step_done_elsewhere(
        actor=world.staff_x, veteran_id=veteran.id, step="archive_intake", done_on=today_cst()
    )
    assert done.state == "done"


def test_a_member_found_later_must_transfer_before_check_in(world, app):
    veteran, case = new_case(world, party_member=False)
    assert step_row(case, "party_transfer").state == "not_applicable"
    _set_member(veteran, True)
    with pytest.raises(TransferFirst):
        steps.set_state(actor=world.staff_x, case_id=case.id, step="check_in", to_state="in_progress")
    transfer = step_row(case, "party_transfer")
    days = app.config["ONBOARDING_STEP_DUE_DAYS"]["party_transfer"]
    assert transfer.state == "pending" and transfer.required
    assert (transfer.due_on - case.arrived_on).days == days
    assert db.session.get(OnboardingCase, case.id).party_member is True
    assert audits("onboarding.step", case.id) == 1  # the sync is audited even though the move was refused
    history = service.events_of(case.id)
    assert (history[-1].from_state, history[-1].to_state) == ("not_applicable", "pending")
    assert "党员" in history[-1].note
    with pytest.raises(StepsOpen):
        complete_all(world, case, skip=("party_transfer", "welcome_ceremony", "check_in"))
        steps.close_case(actor=world.staff_x, case_id=case.id, summary="办结")
    steps.set_state(actor=world.staff_x, case_id=case.id, step="party_transfer", to_state="done")
    assert steps.set_state(actor=world.staff_x, case_id=case.id, step="check_in", to_state="done").state == "done"


def test_a_member_corrected_to_non_member_skips_the_open_transfer(world):
    veteran, case = new_case(world, party_member=True)
    steps.set_state(actor=world.staff_x, case_id=case.id, step="party_transfer", to_state="in_progress")
    _set_member(veteran, False)
    assert steps.set_state(actor=world.staff_x, case_id=case.id, step="check_in", to_state="done").state == "done"
    transfer = step_row(case, "party_transfer")
    assert transfer.state == "not_applicable" and not transfer.required and transfer.due_on is None
    assert steps.sync_party_membership(actor=world.staff_x, case_id=case.id) is None  # nothing left to change


def test_a_done_transfer_stays_done_when_membership_changes(world):
    veteran, case = new_case(world, party_member=True)
    steps.set_state(actor=world.staff_x, case_id=case.id, step="party_transfer", to_state="done")
    _set_member(veteran, False)
    steps.set_state(actor=world.staff_x, case_id=case.id, step="check_in", to_state="done")
    assert step_row(case, "party_transfer").state == "done"


def test_closing_syncs_first(world):
    veteran, case = new_case(world, party_member=False)
    complete_all(world, case, skip=())
    _set_member(veteran, True)
    with pytest.raises(StepsOpen):
        steps.close_case(actor=world.staff_x, case_id=case.id, summary="办结")
    assert step_row(case, "party_transfer").state == "pending"


@pytest.mark.parametrize("notice_date", ["2026-13-45", "昨天", "0001-01-01"])
def test_a_notice_date_that_does_not_parse_is_a_field_error(world, portal_app, notice_date):
    veteran = create_veteran(station=world.x1)
    client = PortalClient(portal_app)
    client.login(world.staff_x)
    data = {"mode": "existing", "veteran": veteran.id, "arrived_on": today_cst().isoformat()}
    page = client.post("/onboarding/new", data={**data, "notice_date": notice_date}, expect=200).text
    assert "通知书日期" in page
    assert service.case_of_veteran(veteran.id) is None
    client.post("/onboarding/new", data={**data, "notice_date": "2026-01-02"}, expect=302)
    assert service.case_of_veteran(veteran.id).notice_date == date(2026, 1, 2)


def test_the_case_and_honors_records_follow_the_veteran(world):
    veteran, case = new_case(world)
    award = awards.create_award(
        actor=world.staff_x,
        veteran_id=veteran.id,
        values={
            "title": "三等功",
            "level": "national",
            "awarded_on": "2020-08-01",
            "deed": "抢险",
            "approving_body": "某部",
        },
    )
    entry = chronicle.propose(actor=world.staff_x, veteran_id=veteran.id, reason="事迹突出")
    mover = create_staff(unit=world.city, roles=("station_staff", "center_reviewer"))
    move_veteran(actor=mover, veteran_id=veteran.id, station_id=world.y1.id)
    assert service.get_case(actor=world.staff_y, case_id=case.id).station_id == world.y1.id
    stations = set(db.session.scalars(select(OnboardingStep.station_id).where(OnboardingStep.case_id == case.id)))
    assert stations == {world.y1.id}
    assert awards.list_awards(actor=world.staff_y)[0][0][0].id == award.id
    assert chronicle.get_entry(actor=world.staff_y, entry_id=entry.id).station_id == world.y1.id
    with pytest.raises(CaseNotFound):
        service.get_case(actor=world.staff_x, case_id=case.id)
    with pytest.raises(ChronicleNotFound):
        chronicle.get_entry(actor=world.staff_x, entry_id=entry.id)
    assert awards.list_awards(actor=world.staff_x)[0] == []
