"""Travel reports: every transition and refused one, consent, overdue job, scope, audit, no plaintext at rest."""

from datetime import date

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, text

from backend.audit.models import AuditLog
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.travel import jobs, queries, service
from backend.travel.models import Trip
from tests.api.helpers import bound_client
from tests.exports.helpers import run_export
from tests.factories import create_staff, create_veteran
from tests.helpers import portal_as
from tests.registration.helpers import account_for

TODAY = "2027-05-10 02:00:00"  # 10:00 CST


@pytest.fixture
def vet(world):
    veteran = create_veteran(station=world.x1)
    return veteran, account_for(veteran)


def plan(**overrides):
    fields = {
        "destination": "JP",
        "purpose": "tourism",
        "document_type": "passport",
        "planned_departure": date(2027, 5, 20),
        "planned_return": date(2027, 5, 28),
    }
    return {**fields, **overrides}


def _consented(vet):
    veteran, account = vet
    service.give_consent(veteran=veteran, actor=account)
    return account


@freeze_time(TODAY)
def test_report_requires_separate_consent_with_time_and_version(vet):
    veteran, account = vet
    with pytest.raises(service.ConsentRequired):
        service.report_trip(account=account, **plan())
    consent = service.give_consent(veteran=veteran, actor=account)
    assert consent.notice_version == service.NOTICE_VERSION and consent.consented_at
    trip = service.report_trip(account=account, **plan())
    assert trip.consent_id == consent.id and trip.status == "planned"
    assert service.give_consent(veteran=veteran, actor=account).id == consent.id  # idempotent


@freeze_time(TODAY)
@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"planned_return": date(2027, 5, 19)}, "planned_return"),
        ({"planned_departure": date(2028, 5, 11), "planned_return": date(2028, 5, 20)}, "planned_departure"),
        ({"planned_departure": date(2027, 5, 9)}, "planned_departure"),
        ({"destination": "ATLANTIS"}, "destination"),
        ({"purpose": "spying"}, "purpose"),
        ({"document_type": "none"}, "document_type"),
    ],
)
def test_bad_dates_and_values_are_refused_in_chinese(vet, overrides, field):
    account = _consented(vet)
    with pytest.raises(ValidationFailed) as err:
        service.report_trip(account=account, **plan(**overrides))
    assert field in err.value.details


@freeze_time(TODAY)
def test_planned_departed_returned(vet):
    account = _consented(vet)
    trip = service.report_trip(account=account, **plan(planned_departure=date(2027, 5, 10)))
    service.mark_departed(account=account, trip_id=trip.id)
    assert trip.status == "departed" and trip.details["departed_on"] == date(2027, 5, 10)
    with pytest.raises(service.TripStateInvalid):
        service.cancel_trip(account=account, trip_id=trip.id)
    with pytest.raises(ValidationFailed):  # a return before departure or in the future
        service.report_return(account=account, trip_id=trip.id, returned_on=date(2027, 5, 11))
    with freeze_time("2027-05-27 02:00:00"):
        service.report_return(account=account, trip_id=trip.id, returned_on=date(2027, 5, 26))
    assert trip.status == "returned" and trip.details["returned_on"] == date(2027, 5, 26)
    for action in (service.mark_departed, service.cancel_trip):
        with pytest.raises(service.TripStateInvalid):
            action(account=account, trip_id=trip.id)


@freeze_time(TODAY)
def test_cancel_only_before_departure_and_only_own_trips(world, vet):
    account = _consented(vet)
    trip = service.report_trip(account=account, **plan())
    other = _consented((v := create_veteran(station=world.x1), account_for(v)))
    with pytest.raises(service.TripNotFound):
        service.cancel_trip(account=other, trip_id=trip.id)
    service.cancel_trip(account=account, trip_id=trip.id)
    assert trip.status == "cancelled"
    with pytest.raises(service.TripStateInvalid):
        service.mark_departed(account=account, trip_id=trip.id)


def test_overdue_job_marks_once_and_reminds_once(vet):
    veteran, _ = vet
    with freeze_time(TODAY):
        account = _consented(vet)
        trip = service.report_trip(account=account, **plan())
        service_trip_id = trip.id
    with freeze_time("2027-05-28 15:59:59"):  # 23:59:59 CST on the planned return date: not yet overdue
        assert jobs.mark_overdue() == 0
    with freeze_time("2027-05-28 16:00:00"):  # 00:00 CST the day after
        assert jobs.mark_overdue() == 1
        assert jobs.mark_overdue() == 0
    trip = db.session.get(Trip, service_trip_id)
    assert trip.overdue and trip.overdue_reminded
    reminders = db.session.scalar(
        select(func.count())
        .select_from(InboxMessage)
        .where(InboxMessage.veteran_id == veteran.id, InboxMessage.kind == "travel.overdue")
    )
    assert reminders == 1
    with freeze_time("2027-05-30 02:00:00"):
        # never marked departed: the return reports the departure with it (issue 10)
        service.report_return(
            account=account, trip_id=trip.id, returned_on=date(2027, 5, 29), departed_on=date(2027, 5, 20)
        )
    assert not trip.overdue


@freeze_time(TODAY)
def test_staff_list_filters_scope_and_audited_views(world, vet, monkeypatch):
    account = _consented(vet)
    trip = service.report_trip(account=account, **plan())
    service.report_trip(account=account, **plan(destination="TH"))
    rows = queries.trip_page(actor=world.staff_x, filters=queries.TripFilter(destination="JP")).rows
    assert [t.id for t, _ in rows] == [trip.id]
    assert queries.trip_page(actor=world.staff_y, filters=queries.TripFilter()).rows == []
    assert queries.trip_page(actor=world.staff_x, filters=queries.TripFilter(date_from=date(2027, 6, 1))).rows == []
    with pytest.raises(service.TripNotFound):
        service.get_trip_for_staff(actor=world.staff_y, trip_id=trip.id)
    with pytest.raises(PermissionDenied):
        service.get_trip_for_staff(actor=world.security_admin, trip_id=trip.id)
    service.get_trip_for_staff(actor=world.staff_x, trip_id=trip.id)
    service.get_trip_for_staff(actor=world.supervisor_parent, trip_id=trip.id)
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    job = run_export(world.staff_x, "travel")  # issue 12: an export is a job (tests/exports)
    assert job.status == "done" and job.rows_done == len(
        queries.trip_page(actor=world.staff_x, filters=queries.TripFilter()).rows
    )
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.action.in_(("travel.view", "export.finished"))).order_by(AuditLog.id)
    ).all()
    assert actions == ["travel.view", "travel.view", "export.finished"]


@freeze_time(TODAY)
def test_counter_recording_with_consent_and_notes(world):
    veteran = create_veteran(station=world.x1)
    clerk = create_staff(unit=world.x1, roles=("station_staff",))
    with pytest.raises(service.ConsentRequired):
        service.record_trip(actor=clerk, veteran_id=veteran.id, **plan())
    trip = service.record_trip(
        actor=clerk,
        veteran_id=veteran.id,
        consent_obtained=True,
        channel="phone",
        **plan(planned_departure=date(2027, 5, 1)),
    )  # staff may record after the fact
    assert (trip.channel, trip.recorded_by_id) == ("phone", clerk.id)
    service.add_staff_note(actor=clerk, trip_id=trip.id, note="已电话联系，本人已回国")
    assert "已电话联系" in trip.staff_note
    with pytest.raises(PermissionDenied):
        service.record_trip(actor=world.supervisor_parent, veteran_id=veteran.id, **plan())


@freeze_time(TODAY)
def test_no_destination_or_dates_in_plaintext(world, vet, portal_app):
    account = _consented(vet)
    service.report_trip(account=account, **plan(destination="NZ", purpose_note="探望女儿一家"))
    trip = db.session.scalars(select(Trip)).one()
    service.add_staff_note(actor=world.staff_x, trip_id=trip.id, note="已联系新西兰奥克兰住址")
    dump = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')):
            dump.append(" ".join(str(v) for v in row))
    dump = "\n".join(dump)
    for secret in ('"NZ"', "新西兰", "探望女儿", "2027-05-20", "奥克兰"):
        assert secret not in dump, secret
    # issue 12: the planned return date alone is kept in clear (trip.return_due_on) for the overdue job; it
    # reveals no whereabouts. It appears there and nowhere else.
    assert dump.count("2027-05-28") == 1 and str(trip.return_due_on) == "2027-05-28"


def test_registration_prefills_trips_from_reports(world, vet):
    veteran, _ = vet
    with freeze_time("2026-07-01 02:00:00"):
        account = _consented(vet)
        trip = service.report_trip(
            account=account, **plan(planned_departure=date(2026, 7, 1), planned_return=date(2026, 7, 9))
        )
        service.mark_departed(account=account, trip_id=trip.id)
    with freeze_time("2026-07-10 02:00:00"):
        service.report_return(account=account, trip_id=trip.id, returned_on=date(2026, 7, 9))
    from backend.registration import service as registration_service

    with freeze_time("2027-02-01 02:00:00"):
        view = registration_service.current_view(veteran=veteran)
    assert view["content"]["trips_abroad"] == {
        "had_trips": True,
        "trips": [{"destination": "日本", "from": "2026-07-01", "to": "2026-07-09"}],
    }


def test_phone_api_flow(api_app, fake_wechat, world):
    with freeze_time(TODAY):
        client = bound_client(api_app, fake_wechat, create_veteran(station=world.x1))
        body = {
            "destination": "JP",
            "purpose": "tourism",
            "document_type": "passport",
            "planned_departure": "2027-05-20",
            "planned_return": "2027-05-28",
        }
        assert (
            client.post("/v1/travels", json=body, expect=409).get_json()["error"]["code"] == "travel.consent_required"
        )
        assert client.get("/v1/travels/consent", expect=200).get_json()["consented"] is False
        client.post("/v1/travels/consent", json={"notice_version": "2026-1"}, expect=200)
        trip = client.post("/v1/travels", json=body, expect=201).get_json()
        assert trip["destination_name"] == "日本" and trip["status"] == "planned"
        bad = client.post("/v1/travels", json={**body, "planned_return": "2027-05-01"}, expect=422).get_json()
        assert "planned_return" in bad["error"]["details"]
        client.post(f"/v1/travels/{trip['id']}/cancel", expect=200)
        assert client.post(f"/v1/travels/{trip['id']}/depart", json={}, expect=409).get_json()["error"]["code"] == (
            "travel.invalid_state"
        )
        assert [t["id"] for t in client.get("/v1/travels", expect=200).get_json()["items"]] == [trip["id"]]
        client.post("/v1/travels/999999/cancel", expect=404)


def test_portal_pages(portal_app, world, vet, monkeypatch):
    """Data made at a frozen date; the pages are browsed now (a staff password frozen months ahead would expire)."""
    with freeze_time(TODAY):
        account = _consented(vet)
        trip = service.report_trip(account=account, **plan())
    client = portal_as(portal_app, world.staff_x)
    assert "日本" in client.get("/travel/?destination=JP", expect=200).get_data(as_text=True)
    page = client.get(f"/travel/{trip.id}", expect=200).get_data(as_text=True)
    assert "2027-05-20" in page and "审计" in page
    client.post(f"/travel/{trip.id}/note", data={"note": "已联系"}, expect=302)
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    client.post("/travel/export", data={"destination": "JP"}, expect=302)  # issue 12: queued, see tests/exports
    portal_as(portal_app, world.staff_y).get(f"/travel/{trip.id}", expect=404)
