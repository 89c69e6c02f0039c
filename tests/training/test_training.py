"""Staff training (Art. 20, 21): the responsible office / person per unit (flags, the org tree, the workbench card),
sessions with attendees (absent earn no hours), per-staff yearly hours and per-unit figures hand-computed, scope."""

from datetime import date

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.training import figures
from backend.training import service as training
from tests.factories import create_staff
from tests.helpers import portal_as
from tests.training.helpers import matrix_session, responsible, session


def _actions():
    return db.session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()


def test_parse_hours_one_decimal_place():
    assert training.parse_hours("3.5") == 35 and training.parse_hours("2") == 20 and training.parse_hours("0.1") == 1
    for bad in ("3.55", "0", "-1", "41", "abc", "", "NaN", "Infinity"):
        with pytest.raises(ValidationFailed):
            training.parse_hours(bad)
    assert training.hours_text(35) == "3.5" and training.hours_text(0) == "0.0"


def test_responsible_rules_and_flags(world):
    w = world
    with pytest.raises(ValidationFailed):  # a center names an office
        training.set_responsible(actor=w.staff_x, unit_id=w.x.id, person_name="张三")
    training.set_responsible(actor=w.staff_x, unit_id=w.x.id, office="优抚科", staff_id=w.staff_x.id)
    with pytest.raises(ValidationFailed):  # a station names a person
        training.set_responsible(actor=w.staff_x, unit_id=w.x1.id)
    with pytest.raises(ValidationFailed):  # the person is a staff member of the station's subtree
        training.set_responsible(actor=w.staff_x, unit_id=w.x1.id, staff_id=w.staff_y.id)
    with pytest.raises(ValidationFailed):  # grids name nobody
        training.set_responsible(actor=w.staff_x, unit_id=w.x1_grid.id, person_name="网格员")
    with pytest.raises(NotFound):  # out of scope
        training.set_responsible(actor=w.staff_y, unit_id=w.x1.id, person_name="张三")
    assert training.count_missing_responsible(actor=w.staff_x).value == 1  # X1 (X is set; the grid does not count)
    responsible(w)
    assert training.count_missing_responsible(actor=w.staff_x).value == 0
    rows, _ = training.list_responsible(actor=w.supervisor_parent, missing_only=True)
    assert {u.id for u, _ in rows} == {w.city.id, w.y.id, w.y1.id}
    training.clear_responsible(actor=w.staff_x, unit_id=w.x1.id)
    assert training.count_missing_responsible(actor=w.staff_x).value == 1
    assert {"training.responsible_set", "training.responsible_cleared"} <= set(_actions())


def test_responsible_list_pages_by_path(world):
    w = world
    first, after = training.list_responsible(actor=w.supervisor_parent, limit=2)
    second, more = training.list_responsible(actor=w.supervisor_parent, limit=10, after=after)
    units = [u.id for u, _ in first + second]
    assert units == [w.city.id, w.x.id, w.x1.id, w.y.id, w.y1.id] and more is None


def test_org_tree_shows_the_responsible_and_flags_nobody(world, portal_app):
    w = world
    responsible(w)
    client = portal_as(portal_app, w.staff_x)
    html = client.get(f"/orgs/{w.x.id}", expect=200).get_data(as_text=True)
    assert w.target.full_name in html.split(f'data-testid="responsible-{w.x1.id}"')[1].split("</td>")[0]
    assert "未明确专人" in html.split('data-testid="unit-responsible"')[1].split("</p>")[0]  # X itself
    from tests.helpers import sql_statements

    with sql_statements(keep=lambda s: "FROM unit_responsible" in s) as seen:
        client.get(f"/orgs/{w.x.id}", expect=200)
    assert len(seen) == 1  # one query for the unit and all its children


def test_attendees_come_from_the_sessions_subtree(world):
    w = world
    s = session(w)
    with pytest.raises(ValidationFailed):
        training.add_attendee(actor=w.staff_x, session_id=s.id, staff_id=w.staff_x.id)  # county X: above X1
    training.add_attendee(actor=w.staff_x, session_id=s.id, staff_id=w.target.id, result="excellent", score=98)
    with pytest.raises(training.AlreadyAttending):
        training.add_attendee(actor=w.staff_x, session_id=s.id, staff_id=w.target.id)
    with pytest.raises(NotFound):
        training.add_attendee(actor=w.staff_y, session_id=s.id, staff_id=w.target.id)
    with pytest.raises(NotFound):
        training.get_session(actor=w.staff_y, session_id=s.id)
    with pytest.raises(NotFound):
        training.create_session(
            actor=w.staff_y, unit_id=w.x1.id, kind="drill", topic="x", held_on=date(2024, 1, 1), hours_tenths=10
        )


def test_hours_and_figures_hand_computed(world):
    w = world
    x1_b = create_staff(unit=w.x1, roles=("station_staff",))
    y1_a = create_staff(unit=w.y1, roles=("station_staff",))
    city_manager = create_staff(unit=w.city, roles=("center_reviewer",))
    s1 = session(w, kind="business", hours_tenths=35, held_on=date(2024, 3, 1))  # X1, 3.5 h
    s2 = session(w, unit=w.x, kind="political", hours_tenths=20, held_on=date(2024, 6, 1))  # X, 2.0 h
    s3 = session(w, kind="drill", hours_tenths=15, held_on=date(2023, 12, 31))  # last year
    sy = training.create_session(
        actor=city_manager, unit_id=w.y1.id, kind="drill", topic="练兵", held_on=date(2024, 5, 1), hours_tenths=10
    )
    add = training.add_attendee
    add(actor=w.staff_x, session_id=s1.id, staff_id=w.target.id, result="pass")
    add(actor=w.staff_x, session_id=s1.id, staff_id=x1_b.id, result="absent", score=50)  # absent: no hours
    add(actor=w.staff_x, session_id=s2.id, staff_id=w.target.id, result="excellent")
    add(actor=w.staff_x, session_id=s2.id, staff_id=w.staff_x.id, result="fail")  # fail still earns hours
    add(actor=w.staff_x, session_id=s3.id, staff_id=w.target.id, result="pass")
    add(actor=city_manager, session_id=sy.id, staff_id=y1_a.id, result="pass")

    unit, rows, _ = figures.staff_hours(actor=w.staff_x, unit_id=w.x.id, year=2024)
    hours = {s.id: (kinds, total) for s, _, kinds, total in rows}
    assert hours[w.target.id] == ({"political": 20, "business": 35, "drill": 0}, 55)
    assert hours[x1_b.id][1] == 0 and hours[w.staff_x.id][1] == 20
    assert y1_a.id not in hours  # out of the unit

    x = figures.unit_training_figures(w.staff_x, w.x.id, 2024)
    # staff of X's subtree: staff_x, target, x1_b (active); hours 5.5 + 0 + 2.0 = 7.5 h -> 2.5 h each
    assert (x["sessions"], x["hours_tenths"], x["staff"], x["average_tenths"]) == (2, 75, 3, 25)
    x1 = figures.unit_training_figures(w.staff_x, w.x1.id, 2024)
    assert (x1["sessions"], x1["hours_tenths"], x1["staff"]) == (1, 55, 2)  # the county session counts for target
    with pytest.raises(NotFound):
        figures.unit_training_figures(w.staff_y, w.x.id, 2024)
    _, children, total = figures.children_figures(actor=w.supervisor_parent, unit_id=w.city.id, year=2024)
    by_unit = {r.unit.id: r for r in children}
    assert (by_unit[w.x.id].sessions, by_unit[w.x.id].hours_tenths) == (2, 75)
    assert (by_unit[w.y.id].sessions, by_unit[w.y.id].hours_tenths, by_unit[w.y.id].by_kind["drill"]) == (1, 10, 10)
    assert (total.sessions, total.hours_tenths) == (3, 85)


def test_portal_pages_and_writes(world, portal_app):
    w = world
    client = portal_as(portal_app, w.staff_x)
    response = client.post(
        "/training/sessions/new",
        data={
            "unit": str(w.x1.id),
            "kind": "political",
            "topic": "政治理论学习",
            "held_on": "2024-04-01",
            "hours": "1.5",
        },
        expect=302,
    )
    session_url = response.headers["Location"]
    client.post(f"{session_url}/attendees", data={"staff": str(w.target.id), "result": "absent"}, expect=302)
    html = client.get(session_url, expect=200).get_data(as_text=True)
    assert "缺勤" in html and "1.5 学时" in html
    for url in ("/training/", "/training/responsible", "/training/sessions", "/training/hours?year=2024"):
        client.get(url, expect=200)
    client.post(f"/training/responsible/{w.x1.id}", data={"person_name": "张专干"}, expect=302)
    assert "张专干" in client.get("/training/responsible", expect=200).get_data(as_text=True)
    s = matrix_session(w)
    portal_as(portal_app, w.staff_y).get(f"/training/sessions/{s.id}", expect=404)
    assert {"training.session_created", "training.attendee_added", "training.responsible_set"} <= set(_actions())


def test_workbench_card(world, portal_app):
    w = world
    from admin_portal.training import cards

    with portal_app.test_request_context("/"):
        card = cards.units_without_responsible(w.staff_x)
        assert card.items[0].value == "2"  # X and X1
        assert cards.units_without_responsible(w.supervisor_parent) is None  # no training.manage


def test_hostile_score_is_refused_not_a_500(world, portal_app):
    w = world
    s = session(w)
    client = portal_as(portal_app, w.staff_x)
    for score in ("9" * 5000, "9" * 40, "²", "1000"):
        response = client.post(
            f"/training/sessions/{s.id}/attendees", data={"staff": str(w.target.id), "result": "pass", "score": score}
        )
        assert response.status_code in (302, 422), score[:5]  # a flash, or the request guard's refusal
    assert training.attendees_of(s.id) == []
