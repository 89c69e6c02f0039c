"""Lists a clerk expects (issue 11, lists slice): the review queue's name search, select-all, keyset paging and
estimated total; a veteran's links to registrations, trips and timeline, and back."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from backend.db import transaction
from backend.extensions import db
from backend.registration import queries, review
from backend.registration.models import Registration
from backend.registration.windows import today_cst
from backend.travel import service as travel_service
from tests.factories import create_staff, create_veteran
from tests.helpers import portal_as
from tests.registration.helpers import FULL

T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def submitted(veteran, *, minutes=0, year=None, status="submitted"):
    with transaction():
        reg = Registration(
            veteran_id=veteran.id,
            unit_id=veteran.unit_id,
            year=year or today_cst().year,
            status=status,
            content=FULL,
            return_reasons={},
            submitted_at=T0 + timedelta(minutes=minutes),
            first_submitted_at=T0 + timedelta(minutes=minutes),
        )
        db.session.add(reg)
    return reg


def names_in(page):
    return re.findall(r'aria-label="选择 ([^"]+)"', page)


def link(page, rel):
    found = re.search(rf'rel="{rel}" href="([^"]+)"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_queue_searches_by_name_prefix_within_scope(portal_app, world):
    submitted(create_veteran(station=world.x1, name="张三丰"))
    submitted(create_veteran(station=world.x1, name="李四"))
    submitted(create_veteran(station=world.y1, name="张三外站"))
    client = portal_as(portal_app, world.staff_x)
    page = client.get("/registration/?name=张三", expect=200).get_data(as_text=True)
    assert names_in(page) == ["张三丰"]
    assert 'for="q-name"' in page and 'id="q-name"' in page
    assert "共 1 条" in page
    empty = client.get("/registration/?name=%25", expect=200).get_data(as_text=True)  # LIKE wildcards are literal
    assert names_in(empty) == [] and "没有姓名以" in empty


def test_queue_pages_forward_and_back_with_keyset_cursors(portal_app, world, monkeypatch):
    monkeypatch.setattr(queries, "QUEUE_PAGE", 3)
    for i in range(7):
        submitted(create_veteran(station=world.x1, name=f"排队{i}"), minutes=i)
    client = portal_as(portal_app, world.staff_x)
    first = client.get("/registration/", expect=200).get_data(as_text=True)
    assert names_in(first) == ["排队0", "排队1", "排队2"] and link(first, "prev") is None
    second = client.get(link(first, "next"), expect=200).get_data(as_text=True)
    assert names_in(second) == ["排队3", "排队4", "排队5"] and link(second, "prev")
    third = client.get(link(second, "next"), expect=200).get_data(as_text=True)
    assert names_in(third) == ["排队6"] and link(third, "next") is None
    back = client.get(link(third, "prev"), expect=200).get_data(as_text=True)
    assert names_in(back) == names_in(second)
    assert names_in(client.get(link(back, "prev"), expect=200).get_data(as_text=True)) == names_in(first)
    newest_first = client.get("/registration/?sort=waiting_asc", expect=200).get_data(as_text=True)
    assert names_in(newest_first) == ["排队6", "排队5", "排队4"]
    following = client.get(link(newest_first, "next"), expect=200).get_data(as_text=True)
    assert names_in(following) == ["排队3", "排队2", "排队1"]


@pytest.mark.parametrize("cursor", ["x", "1_2_3", "-5_1", "99999999999999999999_1", "1_99999999999999999999", ""])
def test_a_tampered_cursor_starts_from_the_first_page(portal_app, world, cursor):
    submitted(create_veteran(station=world.x1, name="游标"))
    client = portal_as(portal_app, world.staff_x)
    for arg in ("after", "before"):
        page = client.get(f"/registration/?{arg}={cursor}", expect=200).get_data(as_text=True)
        assert names_in(page) == ["游标"]


def test_total_is_estimated_with_a_cap_never_an_unbounded_count(portal_app, world, monkeypatch):
    for i in range(3):
        submitted(create_veteran(station=world.x1), minutes=i)
    client = portal_as(portal_app, world.staff_x)
    assert "共 3 条" in client.get("/registration/", expect=200).get_data(as_text=True)
    monkeypatch.setattr(queries, "ESTIMATE_CAP", 2)
    page = client.get("/registration/", expect=200).get_data(as_text=True)
    assert "约 2+ 条" in page and "2+" in page  # the tab badge is capped too


def test_select_all_is_a_labelled_checkbox_in_the_header(portal_app, world):
    submitted(create_veteran(station=world.x1, name="全选"))
    page = portal_as(portal_app, world.staff_x).get("/registration/", expect=200).get_data(as_text=True)
    header = page[page.index("<thead>") : page.index("</thead>")]
    assert 'type="checkbox"' in header and 'aria-label="全选本页"' in header and 'data-select-all="item"' in header
    assert 'name="item"' not in header  # the bulk confirmation counts only the rows' boxes
    assert "/static/queue.js" in page
    script = portal_app.test_client().get("/static/queue.js")
    assert script.status_code == 200 and "indeterminate" in script.get_data(as_text=True)
    script.close()
    supervisor = portal_as(portal_app, world.supervisor_parent).get("/registration/", expect=200)
    assert "全选本页" not in supervisor.get_data(as_text=True)  # nothing to approve, nothing to select


def test_veteran_links_every_year_trips_and_timeline_and_back(portal_app, world):
    veteran = create_veteran(station=world.x1, name="来回")
    this_year = today_cst().year
    older = submitted(veteran, year=this_year - 1, status="approved")
    current = submitted(veteran, year=this_year)
    clerk = create_staff(unit=world.x1, roles=("station_staff",))
    trip = travel_service.record_trip(
        actor=clerk,
        veteran_id=veteran.id,
        consent_obtained=True,
        channel="phone",
        destination="JP",
        purpose="tourism",
        document_type="passport",
        planned_departure=date(this_year + 1, 5, 1),
        planned_return=date(this_year + 1, 5, 8),
    )
    client = portal_as(portal_app, world.staff_x)
    page = client.get(f"/veterans/{veteran.id}", expect=200).get_data(as_text=True)
    assert f'href="/registration/{older.id}"' in page and f'href="/registration/{current.id}"' in page
    assert f"{this_year - 1} 年度确认" in page and f'href="/travel/{trip.id}"' in page
    assert "日本" not in page  # whereabouts are read on the trip's own (audited) page
    assert f'href="/veterans/{veteran.id}/timeline"' in page
    for url in (f"/registration/{current.id}", f"/travel/{trip.id}", f"/veterans/{veteran.id}/timeline"):
        assert f'href="/veterans/{veteran.id}"' in client.get(url, expect=200).get_data(as_text=True)


def test_timelines_name_people_and_use_chinese_labels(portal_app, world):
    veteran = create_veteran(station=world.x1, name="时间线")
    reg = submitted(veteran)
    review.approve(actor=world.staff_x, registration_id=reg.id, expected_version=reg.version_id)
    clerk = create_staff(unit=world.x1, roles=("station_staff",))
    trip = travel_service.record_trip(
        actor=clerk,
        veteran_id=veteran.id,
        consent_obtained=True,
        channel="counter",
        destination="JP",
        purpose="tourism",
        document_type="passport",
        planned_departure=today_cst() + timedelta(days=30),
        planned_return=today_cst() + timedelta(days=35),
    )
    client = portal_as(portal_app, world.staff_x)
    pages = {
        "reg": client.get(f"/registration/{reg.id}", expect=200).get_data(as_text=True),
        "trip": client.get(f"/travel/{trip.id}", expect=200).get_data(as_text=True),
        "all": client.get(f"/veterans/{veteran.id}/timeline", expect=200).get_data(as_text=True),
    }
    assert world.staff_x.full_name in pages["reg"] and "审核通过" in pages["reg"]
    assert clerk.full_name in pages["trip"] and "报备出行" in pages["trip"]
    assert world.staff_x.full_name in pages["all"] and clerk.full_name in pages["all"]
    assert "审核通过" in pages["all"] and "报备出行" in pages["all"]
    for text in pages.values():
        for code in (world.staff_x.username, clerk.username, "approved", "reported", "station_staff", "portal"):
            assert f">{code}<" not in text and f" {code} " not in text and f"· {code}" not in text


def test_veteran_history_shows_field_and_unit_names_not_codes(portal_app, world):
    from backend.veterans import service as veterans_service

    veteran = create_veteran(station=world.x1, name="历史")
    veterans_service.update_veteran(actor=world.staff_x, veteran_id=veteran.id, phone="13912345678")
    veterans_service.move_veteran(
        actor=world.staff_x, veteran_id=veteran.id, station_id=world.x1.id, grid_id=world.x1_grid.id
    )
    page = portal_as(portal_app, world.staff_x).get(f"/veterans/{veteran.id}", expect=200).get_data(as_text=True)
    assert "修改了：手机号" in page and world.x1_grid.name in page and world.staff_x.full_name in page
    assert f"服务站 {world.x1.id}" not in page and ">phone<" not in page
