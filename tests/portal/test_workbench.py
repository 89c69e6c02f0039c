"""工作台 (issue 11, workbench slice): to-do counts equal the lists they link to, within scope; the chart JSON is
scoped; empty figures read 「— reason」; recent activity shows names and Chinese labels."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from backend.db import transaction
from backend.extensions import db
from backend.registration.models import Registration, Talk
from backend.registration.windows import today_cst
from backend.travel.models import TravelConsent, Trip
from tests.factories import create_unit, create_veteran
from tests.helpers import portal_as, refresh_figures
from tests.registration.helpers import FULL


def _registration(station, status, *, days_waiting=0, talk=False, by=None):
    veteran = create_veteran(station=station)
    now = datetime.now(UTC)
    with transaction():
        reg = Registration(
            veteran_id=veteran.id,
            unit_id=veteran.unit_id,
            year=today_cst().year,
            status=status,
            content=FULL,
            return_reasons={"contact": "电话不通"} if status == "returned" else {},
            submitted_at=now - timedelta(days=days_waiting) if status == "submitted" else None,
            first_submitted_at=now - timedelta(days=days_waiting),
            flagged=talk,
        )
        db.session.add(reg)
        db.session.flush()
        if talk:
            db.session.add(
                Talk(
                    registration_id=reg.id,
                    concern="关注",
                    scheduled_at=now + timedelta(days=3),
                    place="服务站",
                    created_by_id=by.id,
                )
            )
    return reg


def _trip(station, *, overdue):
    veteran = create_veteran(station=station)
    today = today_cst()
    with transaction():
        consent = TravelConsent(veteran_id=veteran.id, notice_version="2026-1", channel="online")
        db.session.add(consent)
        db.session.flush()
        trip = Trip(
            veteran_id=veteran.id,
            unit_id=veteran.unit_id,
            consent_id=consent.id,
            status="departed",
            overdue=overdue,
            document_type="passport",
            channel="online",
        )
        trip.seal(
            {
                "destination": "JP",
                "purpose": "tourism",
                "purpose_note": "",
                "planned_departure": today - timedelta(days=20),
                "planned_return": today - timedelta(days=10),
            }
        )
        db.session.add(trip)
    return trip


@pytest.fixture
def work(world):
    """Work at X1 (staff_x's subtree) and more at sibling Y1, which staff_x must never count."""
    for station, waiting_days, returned, overdue in ((world.x1, (3, 20), 1, 1), (world.y1, (2, 9), 2, 2)):
        for days in waiting_days:
            _registration(station, "submitted", days_waiting=days)
        _registration(station, "submitted", days_waiting=1, talk=True, by=world.staff_x)
        for _ in range(returned):
            _registration(station, "returned")
        for _ in range(overdue):
            _trip(station, overdue=True)
        _trip(station, overdue=False)
        _registration(station, "approved")
    return world


def _values(page):
    return dict(re.findall(r'data-testid="todo-([a-z_]+)-value">([^<]*)<', page))


def _links(page):
    found = re.findall(r'href="([^"]+)" data-testid="todo-([a-z_]+)"', page)
    return {key: href.replace("&amp;", "&") for href, key in found}


def _rows(page, pattern):
    return len(set(re.findall(pattern, page)))


def test_counts_match_the_lists_they_link_to(portal_app, work):
    client = portal_as(portal_app, work.staff_x)
    page = client.get("/", expect=200).get_data(as_text=True)
    values, links = _values(page), _links(page)
    assert "/static/workbench.css" in page
    assert values["waiting"] == "3" and values["returned"] == "1" and values["talks"] == "1"
    assert values["trips_overdue"] == "1"
    assert values["oldest"] == "20 天"
    for key in ("waiting", "returned", "talks"):
        listed = client.get(links[key], expect=200).get_data(as_text=True)
        queue = listed.split('data-testid="queue"', 1)[1]
        assert _rows(queue, r'href="/registration/(\d+)"') == int(values[key]), key
    trips = client.get(links["trips_overdue"], expect=200).get_data(as_text=True)
    assert _rows(trips, r'href="/travel/(\d+)"') == 1
    oldest = client.get(links["oldest"], expect=200).get_data(as_text=True).split('data-testid="queue"', 1)[1]
    assert re.search(r"<td>20</td>", oldest), "the oldest waiting row heads the linked list"


def test_a_sibling_counts_only_its_own(portal_app, work):
    values = _values(portal_as(portal_app, work.staff_y).get("/", expect=200).get_data(as_text=True))
    assert values["waiting"] == "3" and values["returned"] == "2" and values["talks"] == "1"
    assert values["trips_overdue"] == "2"


def test_the_parent_counts_both_subtrees(portal_app, work):
    values = _values(portal_as(portal_app, work.supervisor_parent).get("/", expect=200).get_data(as_text=True))
    assert values["waiting"] == "6" and values["returned"] == "3" and values["trips_overdue"] == "3"


def test_counts_are_capped(portal_app, world, monkeypatch):
    from backend.counting import capped_count
    from backend.registration import queries

    for _ in range(3):
        _registration(world.x1, "submitted")
    monkeypatch.setattr(queries, "capped_count", lambda query, cap: capped_count(query, 2))
    values = _values(portal_as(portal_app, world.staff_x).get("/", expect=200).get_data(as_text=True))
    assert values["waiting"] == "2+"


def test_roles_without_business_work_see_no_todo(portal_app, world):
    for who in ("auditor", "sys_admin", "security_admin"):
        page = portal_as(portal_app, getattr(world, who)).get("/", expect=200).get_data(as_text=True)
        assert "todo-waiting" not in page and "data-chart-url" not in page and "常用功能" in page, who
        assert "echarts" not in page, who


def test_a_later_capability_adds_its_own_card(portal_app, world, monkeypatch):
    from admin_portal.home import cards

    monkeypatch.setattr(cards, "_PROVIDERS", list(cards._PROVIDERS))

    @cards.card(order=15)
    def bookings_today(actor):
        if not actor.can("veterans.view"):
            return None
        return cards.Card(
            key="bookings",
            title="今日预约",
            template="home/_card_counts.html",
            items=[cards.Item("bookings", "今日预约", "4", "/veterans/")],
        )

    page = portal_as(portal_app, world.staff_x).get("/", expect=200).get_data(as_text=True)
    assert "今日预约" in page and page.index("card-registration") < page.index("card-bookings")
    assert "今日预约" not in portal_as(portal_app, world.auditor).get("/", expect=200).get_data(as_text=True)


def test_finished_imports_are_listed(portal_app, world):
    from backend.veterans.models import ImportJob

    with transaction():
        db.session.add_all(
            [
                ImportJob(
                    created_by_id=world.staff_x.id,
                    unit_id=world.x.id,
                    filename="三月名册.xlsx",
                    status="done",
                    imported_rows=12,
                    finished_at=datetime.now(UTC),
                ),
                ImportJob(created_by_id=world.staff_x.id, unit_id=world.x.id, filename="进行中.xlsx", status="running"),
                ImportJob(
                    created_by_id=world.staff_y.id,
                    unit_id=world.y.id,
                    filename="外区.xlsx",
                    status="done",
                    finished_at=datetime.now(UTC),
                ),
            ]
        )
    page = portal_as(portal_app, world.staff_x).get("/", expect=200).get_data(as_text=True)
    assert "三月名册.xlsx" in page and "导入 12 行" in page
    assert "进行中.xlsx" not in page and "外区.xlsx" not in page
    assert _values(page)["imports"] == "1"


def test_recent_activity_shows_names_not_logins(portal_app, world, monkeypatch):
    from backend.registration import review

    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    mine = _registration(world.x1, "submitted")
    theirs = _registration(world.y1, "submitted")
    review.approve(actor=world.staff_x, registration_id=mine.id, expected_version=mine.version_id)
    review.approve(actor=world.staff_y, registration_id=theirs.id, expected_version=theirs.version_id)
    page = portal_as(portal_app, world.staff_x).get("/", expect=200).get_data(as_text=True)
    activity = page.split('data-testid="card-activity"', 1)[1].split("</section>", 1)[0]
    assert world.staff_x.full_name in activity and "审核通过" in activity and mine.veteran.name in activity
    assert f'href="/registration/{mine.id}"' in activity
    assert world.staff_x.username not in activity and "registration.approved" not in activity
    assert theirs.veteran.name not in activity and world.staff_y.full_name not in activity
    assert "登录" not in activity, "logins and other security events stay in the audit log"


def test_chart_json_is_scoped(portal_app, world):
    create_veteran(station=world.x1)
    refresh_figures()  # aggregates slice (issue 12): the charts draw the rollup
    client = portal_as(portal_app, world.staff_x)
    for url in ("/charts/registration.json", "/charts/coverage.json"):
        data = client.get(f"{url}?unit={world.x.id}", expect=200).get_json()
        assert data["categories"][0] == f"{world.x.name}（合计）" and world.x1.name in data["categories"]
        assert world.y1.name not in data["categories"] and data["empty"] is None
        assert all(len(s["data"]) == len(data["categories"]) for s in data["series"])
        client.get(f"{url}?unit={world.y.id}", expect=404)  # a sibling's unit: not found
        client.get(f"{url}?unit={world.y1.id}", expect=404)
    portal_as(portal_app, world.sys_admin).get("/charts/registration.json", expect=403)
    portal_as(portal_app, world.auditor).get("/charts/coverage.json", expect=403)


def test_charts_sit_beside_their_tables(portal_app, world):
    create_veteran(station=world.x1)
    client = portal_as(portal_app, world.staff_x)
    figures = client.get(f"/registration/figures?unit={world.x.id}", expect=200).get_data(as_text=True)
    coverage = client.get(f"/veterans/coverage?unit={world.x.id}", expect=200).get_data(as_text=True)
    for page, table in ((figures, "figures"), (coverage, "coverage-table")):
        assert 'aria-hidden="true"' in page.split('data-testid="figures-chart"', 1)[1].split(">", 1)[0]
        assert f'data-testid="{table}"' in page and "vendor/echarts/echarts-5.6.0.min.js" in page
        assert "/static/workbench.css" in page


def test_empty_figures_show_a_reason_not_zero(portal_app, world):
    empty = create_unit(parent=world.x1, name="空网格", level="grid")
    refresh_figures()  # rolled up and still empty: the reason, not the not-yet-generated notice
    client = portal_as(portal_app, world.staff_x)
    figures = client.get(f"/registration/figures?unit={empty.id}", expect=200).get_data(as_text=True)
    coverage = client.get(f"/veterans/coverage?unit={empty.id}", expect=200).get_data(as_text=True)
    assert "— 暂无应确认人员" in figures and "0.0%" not in figures
    assert "— 暂无退役军人" in coverage and "0.0%" not in coverage
    assert client.get(f"/charts/registration.json?unit={empty.id}", expect=200).get_json()["empty"] == "暂无应确认人员"
    assert client.get(f"/charts/coverage.json?unit={empty.id}", expect=200).get_json()["empty"] == "暂无退役军人"


def test_every_page_links_the_favicon(portal_app, world):
    page = portal_app.test_client().get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg"' in page
    icon = portal_app.test_client().get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
