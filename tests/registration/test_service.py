"""Annual registration: the window's edges, every transition and every refused one, review, jobs, scope."""

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.registration import jobs, review, service, windows
from backend.registration.models import Registration, RegistrationEvent
from tests.factories import create_staff, create_veteran
from tests.registration.helpers import FULL, account_for

IN_WINDOW = "2027-02-01 02:00:00"  # UTC; 10:00 CST


@pytest.fixture
def vet(world):
    veteran = create_veteran(station=world.x1, grid=world.x1_grid)
    return veteran, account_for(veteran)


def _submitted(vet):
    veteran, account = vet
    service.save_draft(account=account, content=FULL)
    return service.submit(account=account)


@pytest.mark.parametrize(
    "utc,open_",
    [
        ("2026-12-31 15:59:59", False),  # 2026-12-31 23:59:59 CST: last year's window is long closed
        ("2026-12-31 16:00:00", True),  # 2027-01-01 00:00:00 CST
        ("2027-03-31 15:59:59", True),  # 2027-03-31 23:59:59 CST
        ("2027-03-31 16:00:00", False),  # 2027-04-01 00:00:00 CST
    ],
)
def test_window_edges_in_china_standard_time(vet, utc, open_):
    veteran, account = vet
    with freeze_time(utc):
        if open_:
            assert service.save_draft(account=account, content={"party_life": FULL["party_life"]}).status == "draft"
        else:
            with pytest.raises(service.WindowClosed):
                service.save_draft(account=account, content={"party_life": FULL["party_life"]})


@freeze_time(IN_WINDOW)
def test_submit_with_missing_sections_lists_them(vet):
    veteran, account = vet
    service.save_draft(account=account, content={"party_life": FULL["party_life"]})
    with pytest.raises(service.Incomplete) as err:
        service.submit(account=account)
    # trips_abroad is prefilled from travel reports (none: "no trips"), so it is never missing
    assert set(err.value.details) == {"social_orgs", "rewards_punishments", "employment", "declaration"}


@freeze_time(IN_WINDOW)
def test_full_cycle_return_correct_resubmit_approve(world, vet):
    veteran, account = vet
    reg = _submitted(vet)
    assert reg.status == "submitted" and reg.channel == "online"
    with pytest.raises(service.NotEditable):
        service.save_draft(account=account, content={"party_life": FULL["party_life"]})
    review.return_for_correction(
        actor=world.staff_x,
        registration_id=reg.id,
        expected_version=reg.version_id,
        reasons={"employment": "请填写现工作单位全称"},
    )
    assert reg.status == "returned" and reg.return_reasons == {"employment": "请填写现工作单位全称"}
    assert db.session.scalars(select(InboxMessage.kind).where(InboxMessage.veteran_id == veteran.id)).all() == [
        "registration.returned"
    ]
    with pytest.raises(service.NotEditable):  # only the returned section reopens
        service.save_draft(account=account, content={"party_life": {"participated": False, "notes": ""}})
    service.save_draft(
        account=account, content={"employment": {"status": "employed", "employer": "青山机械制造有限公司"}}
    )
    service.submit(account=account)
    assert reg.status == "submitted" and reg.return_reasons == {}
    review.approve(actor=world.staff_x, registration_id=reg.id, expected_version=reg.version_id)
    assert reg.status == "approved" and veteran.benefits_year == 2027
    actions = db.session.scalars(
        select(RegistrationEvent.action)
        .where(RegistrationEvent.registration_id == reg.id)
        .order_by(RegistrationEvent.id)
    ).all()
    assert actions == ["draft_created", "submitted", "returned", "resubmitted", "approved"]
    with pytest.raises(service.NotEditable):
        service.delete_draft(account=account)


@freeze_time(IN_WINDOW)
def test_returned_can_be_corrected_after_the_window(world, vet):
    veteran, account = vet
    reg = _submitted(vet)
    review.return_for_correction(
        actor=world.staff_x,
        registration_id=reg.id,
        expected_version=reg.version_id,
        reasons={"contact": "电话无法接通"},
    )
    with freeze_time("2027-05-01 02:00:00"):
        service.save_draft(account=account, content={"contact": {"phone": "13900002222", "address": "青山镇2号"}})
        assert service.submit(account=account).status == "submitted"


@freeze_time(IN_WINDOW)
def test_stale_review_is_refused_as_changed(world, vet):
    reg = _submitted(vet)
    seen = reg.version_id
    review.approve(actor=world.staff_x, registration_id=reg.id, expected_version=seen)
    with pytest.raises(review.RegistrationChanged):
        review.return_for_correction(
            actor=world.staff_x, registration_id=reg.id, expected_version=seen, reasons={"contact": "x"}
        )
    with pytest.raises(review.RegistrationChanged):
        review.approve(actor=world.staff_x, registration_id=reg.id, expected_version=seen)


@freeze_time(IN_WINDOW)
def test_return_needs_a_reason_for_a_known_section(world, vet):
    reg = _submitted(vet)
    for reasons in ({}, {"contact": "  "}, {"nope": "x"}):
        with pytest.raises(ValidationFailed):
            review.return_for_correction(
                actor=world.staff_x, registration_id=reg.id, expected_version=reg.version_id, reasons=reasons
            )


@freeze_time(IN_WINDOW)
def test_flag_concern_schedules_a_talk_whatever_the_decision(world, vet):
    reg = _submitted(vet)
    review.approve(actor=world.staff_x, registration_id=reg.id, expected_version=reg.version_id)
    when = datetime(2027, 2, 10, 2, 0, tzinfo=UTC)
    talk = review.flag_concern(
        actor=world.staff_x, registration_id=reg.id, concern="近期情绪波动", scheduled_at=when, place="青山镇服务站"
    )
    assert reg.flagged and talk.status == "scheduled"
    review.record_talk(actor=world.staff_x, talk_id=talk.id, outcome="已谈心，情况稳定")
    assert talk.status == "held"
    with pytest.raises(review.RegistrationChanged):
        review.record_talk(actor=world.staff_x, talk_id=talk.id, outcome="again")
    with pytest.raises(ValidationFailed):
        review.flag_concern(actor=world.staff_x, registration_id=reg.id, concern="", scheduled_at=None, place="")


@freeze_time(IN_WINDOW)
def test_bulk_approve_skips_changed_rows(world):
    regs = []
    for _ in range(3):
        v = create_veteran(station=world.x1)
        regs.append(_submitted((v, account_for(v))))
    stale = (regs[2].id, regs[2].version_id)
    review.return_for_correction(
        actor=world.staff_x, registration_id=regs[2].id, expected_version=regs[2].version_id, reasons={"contact": "x"}
    )
    approved, changed = review.bulk_approve(
        actor=world.staff_x, items=[(r.id, r.version_id) for r in regs[:2]] + [stale]
    )
    assert sorted(approved) == sorted(r.id for r in regs[:2]) and changed == [regs[2].id]
    db.session.expire_all()
    assert [db.session.get(Registration, r.id).status for r in regs] == ["approved", "approved", "returned"]


@freeze_time(IN_WINDOW)
def test_review_is_scoped_and_needs_the_role(world, vet):
    reg = _submitted(vet)
    with pytest.raises(service.RegistrationNotFound):
        review.approve(actor=world.staff_y, registration_id=reg.id, expected_version=reg.version_id)
    for actor in (world.supervisor_parent, world.security_admin, world.auditor):
        with pytest.raises(PermissionDenied):
            review.approve(actor=actor, registration_id=reg.id, expected_version=reg.version_id)
    clerk = create_staff(unit=world.x1, roles=("station_staff",))
    with pytest.raises(PermissionDenied):
        review.approve(actor=clerk, registration_id=reg.id, expected_version=reg.version_id)
    assert review.bulk_approve(actor=world.staff_y, items=[(reg.id, reg.version_id)]) == ([], [reg.id])


@freeze_time(IN_WINDOW)
def test_onsite_entry_records_who_and_channel(world):
    veteran = create_veteran(station=world.x1)
    clerk = create_staff(unit=world.x1, roles=("station_staff",))
    reg = service.enter_onsite(actor=clerk, veteran_id=veteran.id, content=FULL, submit_now=True)
    assert (reg.status, reg.channel, reg.entered_by_id) == ("submitted", "onsite", clerk.id)
    other = create_staff(unit=world.y1, roles=("station_staff",))
    from backend.veterans.service import VeteranNotFound

    with pytest.raises(VeteranNotFound):
        service.enter_onsite(actor=other, veteran_id=veteran.id, content=FULL)


def test_prefill_from_last_years_approved_registration(world, vet):
    veteran, account = vet
    with freeze_time("2026-02-01 02:00:00"):
        reg = _submitted(vet)
        review.approve(actor=world.staff_x, registration_id=reg.id, expected_version=reg.version_id)
    with freeze_time(IN_WINDOW):
        view = service.current_view(veteran=veteran)
        assert view["status"] == "not_started" and view["prefilled_from_year"] == 2026
        assert view["content"]["employment"] == FULL["employment"] and "declaration" not in view["content"]


def test_window_extension_for_one_unit(world, vet):
    veteran, account = vet
    other = create_veteran(station=world.y1)
    windows.set_window(actor=world.sys_admin, year=2027, closes_on=date(2027, 4, 15), unit_id=world.x.id)
    with freeze_time("2027-04-10 02:00:00"):
        service.save_draft(account=account, content={"party_life": FULL["party_life"]})
        with pytest.raises(service.WindowClosed):
            service.save_draft(account=account_for(other), content={"party_life": FULL["party_life"]})
    with pytest.raises(PermissionDenied):
        windows.set_window(actor=world.staff_x, year=2027, closes_on=date(2027, 4, 15))
    with pytest.raises(ValidationFailed):
        windows.set_window(actor=world.sys_admin, year=2027, closes_on=date(2026, 12, 1))


def test_overdue_job_marks_once_and_spares_submissions(world):
    quiet, drafted, done = (create_veteran(station=world.x1) for _ in range(3))
    with freeze_time(IN_WINDOW):
        service.save_draft(account=account_for(drafted), content={"party_life": FULL["party_life"]})
        _submitted((done, account_for(done)))
    with freeze_time("2027-03-31 15:59:59"):
        assert jobs.mark_overdue() == 0
    with freeze_time("2027-03-31 16:00:01"):
        jobs.mark_overdue()
        again = jobs.mark_overdue()
    statuses = {
        r.veteran_id: r.status for r in db.session.scalars(select(Registration).where(Registration.year == 2027))
    }
    assert statuses[quiet.id] == "overdue" and statuses[drafted.id] == "overdue" and statuses[done.id] == "submitted"
    assert again == 0


def test_reminders_go_out_once_at_opening_and_two_weeks_before_closing(world):
    veteran = create_veteran(station=world.x1)

    def count(kind):
        return db.session.scalar(
            select(func.count())
            .select_from(InboxMessage)
            .where(InboxMessage.veteran_id == veteran.id, InboxMessage.kind == f"registration.{kind}")
        )

    with freeze_time("2027-01-01 01:00:00"):
        jobs.send_reminders()
        jobs.send_reminders()
    with freeze_time("2027-03-10 01:00:00"):
        jobs.send_reminders()
    with freeze_time("2027-03-20 01:00:00"):
        jobs.send_reminders()
        jobs.send_reminders()
    assert (count("opening"), count("closing")) == (1, 1)


def test_figures_per_unit(world):
    with freeze_time(IN_WINDOW) as frozen:
        vets = [create_veteran(station=world.x1) for _ in range(4)]
        regs = [_submitted((v, account_for(v))) for v in vets[:2]]
        frozen.tick(timedelta(days=3))
        review.approve(actor=world.staff_x, registration_id=regs[0].id, expected_version=regs[0].version_id)
        from backend.registration import queries
        from tests.helpers import refresh_figures

        refresh_figures()  # aggregates slice (issue 12): the figures are read from the rollup
        own, children = queries.figures(actor=world.supervisor_parent, year=2027)
    county = next(c for c in children if c.unit.id == world.x.id)
    assert (county.veterans, county.submitted, county.approved, county.median_review_days) == (4, 2, 1, 3.0)
    assert county.share(county.submitted) == 50.0
