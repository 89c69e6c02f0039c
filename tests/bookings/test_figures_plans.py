"""The figures' statements walk the (station_id, starts_at) indexes for a station and for a county of many stations
(PostgreSQL EXPLAIN over two years of bookings, so eight weeks are a small part of each station's rows). ~3 s:
it seeds 47k slots and bookings so the planner sees realistic proportions."""

from datetime import date

import pytest
from sqlalchemy import text

from backend.bookings import figures
from backend.extensions import db
from tests.authz.booking_figures_cells import make_service
from tests.factories import create_unit, create_veteran
from tests.helpers import explain_plans

pytestmark = pytest.mark.postgres


def _seed(world):
    """County X: 5 stations; county Y: 60 (one province's share). Two years of daily slots and bookings each."""
    units = [world.x1] + [create_unit(parent=world.x, name=f"计划镇{n}服务站") for n in range(4)]
    units += [create_unit(parent=world.y, name=f"对照镇{n}服务站") for n in range(60)]
    veteran = create_veteran(station=world.x1)
    for unit in units:
        make_service(unit)
    db.session.execute(
        text(
            "INSERT INTO slot (service_id, station_id, starts_at, ends_at, capacity, booked, status) "
            "SELECT s.id, s.station_id, timestamptz '2025-01-06 01:30+00' + g * interval '1 day', "
            "timestamptz '2025-01-06 02:00+00' + g * interval '1 day', 5, 1, 'open' "
            "FROM booking_service s, generate_series(0, 729) g WHERE s.station_id = ANY(:ids)"
        ),
        {"ids": [u.id for u in units]},
    )
    db.session.execute(
        text(
            "INSERT INTO booking (veteran_id, service_id, slot_id, station_id, starts_at, code, status, channel, "
            "created_at, updated_at, version_id) SELECT :v, service_id, id, station_id, starts_at, 'P' || id, "
            "'completed', 'phone', now(), now(), 1 FROM slot WHERE station_id = ANY(:ids)"
        ),
        {"v": veteran.id, "ids": [u.id for u in units]},
    )


def test_station_and_county_figures_use_the_station_time_indexes(world, _db, as_owner):
    _seed(world)
    with as_owner():
        db.session.execute(text("ANALYZE booking; ANALYZE slot; ANALYZE org_unit"))
    for unit in (world.x1, world.x):
        call = lambda u=unit: figures.weekly_report(actor=world.staff_x, unit_id=u.id, end=date(2026, 6, 3))  # noqa: E731
        plans = explain_plans(_db, call, lambda sql: "FROM booking_service" not in sql and "GROUP BY" in sql)
        assert len(plans) == 4, plans  # weeks and rows, of bookings and of slots
        for plan in plans:
            assert "ix_booking_station_starts_at" in plan or "ix_slot_station_starts_at" in plan, plan
            assert "Seq Scan on booking" not in plan and "Seq Scan on slot" not in plan, plan
