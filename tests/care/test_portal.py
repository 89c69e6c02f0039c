"""常态化联系 pages (issue 16, C1): the veteran page's contact section, recording a contact, plan, notes (audited),
the overdue list, coverage, the policy editor, the workbench card; another county gets 404."""

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.care import digest, plans
from backend.care.models import ContactPlan, ContactRecord
from backend.extensions import db
from tests.factories import create_veteran
from tests.helpers import portal_as

NOW = datetime(2026, 6, 3, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


def test_record_a_contact_from_the_veteran_page(portal_app, world):
    veteran = create_veteran(station=world.x1, name="周卫国", placement_date=date(2026, 1, 1))
    client = portal_as(portal_app, world.target)
    page = client.get(f"/veterans/{veteran.id}", expect=200).text
    assert "常态化联系" in page and "已逾期 63 天" in page and 'data-confirm-title="确认保存联系记录"' in page
    assert (
        db.session.scalar(select(ContactPlan.id).where(ContactPlan.veteran_id == veteran.id)) is None
    )  # GET: no write
    form = {
        "contact_on": "2026-06-02",
        "way": "home_visit",
        "note_work": "已就业",
        "flags": ["ill"],
        "follow_up_on": "",
    }
    response = client.post(f"/care/veterans/{veteran.id}/contacts", data=form, expect=302)
    assert response.headers["Location"].endswith(f"/veterans/{veteran.id}#contacts")
    page = client.get(f"/veterans/{veteran.id}", expect=200).text
    assert "联系记录已保存" in page and "上门走访" in page and "患病" in page and "已就业" not in page
    assert "2026-08-31" in page  # 06-02 + 90
    record = db.session.scalars(select(ContactRecord).where(ContactRecord.veteran_id == veteran.id)).one()
    notes = client.post(f"/care/contacts/{record.id}/notes", expect=200).text
    assert "已就业" in notes and "已记入审计日志" in notes


def test_invalid_contact_shows_the_reasons(portal_app, world):
    veteran = create_veteran(station=world.x1)
    client = portal_as(portal_app, world.target)
    client.post(f"/care/veterans/{veteran.id}/contacts", data={"contact_on": "2027-01-01", "way": "x"}, expect=302)
    page = client.get(f"/veterans/{veteran.id}", expect=200).text
    assert "联系日期不能晚于今天" in page and "请选择联系方式" in page


def test_other_county_gets_404(portal_app, world):
    veteran = create_veteran(station=world.x1, name="周卫国")
    client = portal_as(portal_app, world.staff_x)
    client.post(
        f"/care/veterans/{veteran.id}/contacts", data={"contact_on": "2026-06-01", "way": "phone", "note_life": "好"}
    )
    contact_id = db.session.scalar(select(ContactRecord.id).where(ContactRecord.veteran_id == veteran.id))
    other = portal_as(portal_app, world.staff_y)
    other.post(f"/care/contacts/{contact_id}/notes", expect=404)
    other.post(f"/care/veterans/{veteran.id}/contacts", data={"contact_on": "2026-06-01", "way": "phone"}, expect=404)
    other.post(f"/care/veterans/{veteran.id}/plan", data={"attention": "1"}, expect=404)
    other.get(f"/care/policy?unit={world.x1.id}", expect=404)
    other.get(f"/care/coverage?unit={world.x1.id}", expect=404)
    assert "周卫国" not in other.get(f"/care/overdue?station={world.x1.id}", expect=200).text


def test_overdue_page_coverage_policy_and_card(portal_app, world):
    create_veteran(station=world.x1, name="吴建军", placement_date=date(2026, 1, 1))
    plans.ensure_plans()
    digest.run_weekly()
    client = portal_as(portal_app, world.target)
    page = client.get("/care/overdue", expect=200).text
    assert "吴建军" in page and ">63<" in page
    assert "在册人数" in client.get("/care/coverage", expect=200).text
    client.post(
        f"/care/policy?unit={world.x1.id}", data={"interval_days": "0", "attention_interval_days": "5"}, expect=422
    )
    client.post(
        f"/care/policy?unit={world.x1.id}", data={"interval_days": "60", "attention_interval_days": "20"}, expect=302
    )
    assert "每 60 天" in client.get(f"/care/policy?unit={world.x1.id}", expect=200).text
    home = client.get("/", expect=200).text
    assert 'data-testid="card-care"' in home and "本周联系提醒" in home and "逾期未联系 1 人" in home
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "care.policy_set")) is not None


def test_supervisor_sees_no_forms(portal_app, world):
    veteran = create_veteran(station=world.x1)
    client = portal_as(portal_app, world.supervisor_parent)
    page = client.get(f"/veterans/{veteran.id}", expect=200).text
    assert "常态化联系" in page and 'data-testid="contact-form"' not in page
    client.post(f"/care/veterans/{veteran.id}/contacts", data={"contact_on": "2026-06-01", "way": "phone"}, expect=403)
    client.post("/care/policy", data={"interval_days": "60", "attention_interval_days": "20"}, expect=403)
