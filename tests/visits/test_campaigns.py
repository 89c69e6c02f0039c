"""Campaigns (issue 16): materialization within scope, visibility by unit, bulk assignment, progress per station."""

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.orgs.scope import OrgUnitNotFound
from backend.visits import campaigns, records
from backend.visits.models import Visit
from tests.factories import create_staff
from tests.visits.helpers import campaign_of, populate


def _veterans(campaign):
    return set(db.session.scalars(select(Visit.veteran_id).where(Visit.campaign_id == campaign.id)))


def test_a_county_campaign_takes_every_living_veteran_of_the_county_and_nobody_else(world):
    v = populate(world)
    campaign = campaign_of(world)
    assert _veterans(campaign) == {v["x1_a"].id, v["x1_b"].id, v["x1_grid"].id, v["x2"].id}
    assert campaign.total == 4
    stations = dict(db.session.execute(select(Visit.veteran_id, Visit.station_id)).all())
    assert stations[v["x1_grid"].id] == world.x1.id and stations[v["x2"].id] == world.x2.id
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "visits.campaign_created")).one()
    assert audit.details == {"unit_id": world.x.id, "total": 4}


def test_a_station_campaign_never_reaches_another_station(world):
    v = populate(world)
    campaign = campaign_of(world, actor=world.target, unit=world.x1)
    assert _veterans(campaign) == {v["x1_a"].id, v["x1_b"].id, v["x1_grid"].id}


def test_filters_narrow_the_set(world):
    v = populate(world)
    assert _veterans(campaign_of(world, audience={"party_member": True})) == {v["x1_a"].id}
    assert _veterans(campaign_of(world, audience={"grid_id": world.x1_grid.id})) == {v["x1_grid"].id}


@pytest.mark.parametrize("field", ["unit", "grid"])
def test_a_unit_or_grid_outside_the_scope_answers_like_a_missing_one(world, field):
    populate(world)
    with pytest.raises(OrgUnitNotFound):
        if field == "unit":
            campaign_of(world, actor=world.target, unit=world.y1)
        else:
            campaign_of(world, actor=world.staff_y, unit=world.y, audience={"grid_id": world.x1_grid.id})
    assert db.session.scalar(select(Visit.id)) is None


def test_bad_names_and_dates_are_refused(world):
    from datetime import date

    with pytest.raises(ValidationFailed):
        campaigns.create_campaign(
            actor=world.staff_x, unit_id=world.x.id, name=" ", starts_on=date(2027, 1, 1), ends_on=date(2027, 2, 1)
        )
    with pytest.raises(ValidationFailed):
        campaigns.create_campaign(
            actor=world.staff_x,
            unit_id=world.x.id,
            name="八一慰问",
            starts_on=date(2027, 8, 1),
            ends_on=date(2027, 7, 1),
        )


def test_stations_see_the_county_campaign_but_only_their_own_visits(world):
    v = populate(world)
    campaign = campaign_of(world)
    assert campaigns.get_campaign(actor=world.target, campaign_id=campaign.id) == campaign
    rows, _ = records.list_visits(actor=world.target, campaign_id=campaign.id)
    assert {row[0].veteran_id for row in rows} == {v["x1_a"].id, v["x1_b"].id, v["x1_grid"].id}
    with pytest.raises(campaigns.CampaignNotFound):
        campaigns.get_campaign(actor=world.staff_y, campaign_id=campaign.id)
    assert campaigns.list_campaigns(actor=world.staff_y) == ([], None)
    with pytest.raises(records.VisitNotFound):
        records.get_visit(actor=world.target, visit_id=_visit(campaign, v["x2"]).id)


def _visit(campaign, veteran):
    return db.session.scalars(
        select(Visit).where(Visit.campaign_id == campaign.id, Visit.veteran_id == veteran.id)
    ).one()


def test_bulk_assignment_to_staff_of_the_station(world):
    v = populate(world)
    campaign = campaign_of(world)
    checked = [_visit(campaign, v["x1_a"]).id, _visit(campaign, v["x2"]).id]  # X2's is left alone
    args = dict(actor=world.staff_x, campaign_id=campaign.id, station_id=world.x1.id)
    assert campaigns.assign(**args, staff_id=world.target.id, visit_ids=[str(i) for i in checked]) == 1
    colleague = create_staff(unit=world.x1_grid)
    assert campaigns.assign(**args, staff_id=colleague.id) == 2  # the unassigned rest of X1
    db.session.expire_all()
    assert _visit(campaign, v["x1_a"]).staff_id == world.target.id
    assert _visit(campaign, v["x1_b"]).staff_id == colleague.id and _visit(campaign, v["x2"]).staff_id is None


@pytest.mark.parametrize("who", ["other_station", "supervisor", "inactive"])
def test_only_active_visiting_staff_of_that_station_can_be_assigned(world, who):
    populate(world)
    campaign = campaign_of(world)
    staff = {
        "other_station": lambda: create_staff(unit=world.x2),
        "supervisor": lambda: create_staff(unit=world.x1, roles=("supervisor",)),
        "inactive": lambda: create_staff(unit=world.x1, active=False),
    }[who]()
    with pytest.raises(ValidationFailed):
        campaigns.assign(actor=world.staff_x, campaign_id=campaign.id, station_id=world.x1.id, staff_id=staff.id)


def test_progress_per_station_and_in_total(world):
    from datetime import date

    v = populate(world)
    campaign = campaign_of(world)
    records.record_visit(
        actor=world.staff_x, visit_id=_visit(campaign, v["x1_a"]).id, visited_on=date(2027, 1, 25), now=_now()
    )
    records.skip_visit(actor=world.staff_x, visit_id=_visit(campaign, v["x2"]).id, reason="外出务工")
    campaigns.assign(actor=world.staff_x, campaign_id=campaign.id, station_id=world.x1.id, staff_id=world.target.id)
    figures = campaigns.progress(actor=world.staff_x, campaign_ids=[campaign.id])[campaign.id]
    by_station = {p.station_id: (p.total, p.done, p.skipped, p.unassigned) for p in figures["stations"]}
    assert by_station == {world.x1.id: (3, 1, 0, 0), world.x2.id: (1, 0, 1, 0)}
    assert (figures["all"].total, figures["all"].done, figures["all"].percent) == (4, 1, 50)
    mine = campaigns.progress(actor=world.target, campaign_ids=[campaign.id])[campaign.id]
    assert [p.station_id for p in mine["stations"]] == [world.x1.id] and mine["all"].total == 3


def _now():
    from datetime import UTC, datetime

    return datetime(2027, 2, 1, 2, 0, tzinfo=UTC)
