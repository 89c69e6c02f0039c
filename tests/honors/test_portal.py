"""The portal: ceremonies (both kinds) with counts and invitees, invitations from the page, awards on the veteran's
page, the chronicle's maker-checker review with its version check, the workbench cards, scope on every page."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.db import transaction
from backend.errors import StaleUpdate
from backend.extensions import db
from backend.honors import awards, chronicle, invitations
from backend.honors.models import Ceremony, ChronicleEntry
from backend.honors.rules import ChronicleExists, ChronicleNotFound, ReviewerIsProposer
from backend.registration.windows import today_cst
from tests.factories import create_staff, create_veteran
from tests.helpers import PortalClient
from tests.honors.helpers import celebration, invitation_count, invitation_of


def _client(portal_app, staff):
    client = PortalClient(portal_app)
    client.login(staff)
    return client


def _welcome(world, veteran):
    """A welcome ceremony row as backend/honors/welcome.py writes them (the list shows both kinds)."""
    from backend.db import utcnow

    with transaction():
        row = Ceremony(
            unit_id=world.x1.id,
            kind="welcome",
            title=f"{veteran.name}欢迎仪式",
            held_at=utcnow() - timedelta(days=2),
            place="服务站",
            created_by_id=world.staff_x.id,
        )
        db.session.add(row)
    return row


def test_create_invite_and_follow_the_replies(world, portal_app):
    client = _client(portal_app, world.staff_x)
    held = (today_cst() + timedelta(days=15)).isoformat() + "T09:30"
    form = {"unit_id": str(world.x.id), "level": "national", "title": "国庆座谈会", "held_at": held, "place": "礼堂"}
    response = client.post("/honors/ceremonies/new", data=form, expect=302)
    ceremony = db.session.scalars(select(Ceremony).where(Ceremony.title == "国庆座谈会")).one()
    assert response.headers["Location"].endswith(f"/honors/ceremonies/{ceremony.id}")
    bad = client.post("/honors/ceremonies/new", data={**form, "held_at": "2001-01-01T09:00"}, expect=422)
    assert "活动时间须晚于现在" in bad.get_data(as_text=True)

    veteran, member = create_veteran(station=world.x1, name="张卫国"), create_veteran(station=world.x1)
    page = client.post(f"/honors/ceremonies/{ceremony.id}/invite/search", data={"q": "张卫"}, expect=200).text
    assert "张卫国" in page and "data-confirm-title" in page
    client.post(f"/honors/ceremonies/{ceremony.id}/invite", data={"veteran": [str(veteran.id)]}, expect=302)
    client.post(f"/honors/ceremonies/{ceremony.id}/invite", data={"unit_id": str(world.x1.id)}, expect=302)
    assert invitation_count(ceremony.id) == 2 and invitation_of(ceremony.id, member.id)

    invitation = invitation_of(ceremony.id, veteran.id)
    client.post(f"/honors/invitations/{invitation.id}/reply", data={"attending": "1", "guests": "2"}, expect=302)
    html = client.get(f"/honors/ceremonies/{ceremony.id}", expect=200).get_data(as_text=True)
    assert 'data-testid="count-invited">2<' in html and 'data-testid="count-accepted">1<' in html
    assert 'data-testid="count-guests">2<' in html and "工作人员代登记" in html

    welcome = _welcome(world, veteran)
    page = client.get(f"/honors/ceremonies/{welcome.id}", expect=200).get_data(as_text=True)
    assert "邀请退役军人" not in page  # a welcome ceremony is recorded at reception, nobody is invited
    client.get(f"/honors/ceremonies/{welcome.id}/invite", expect=404)
    listing = client.get("/honors/ceremonies", expect=200).get_data(as_text=True)
    assert "国庆座谈会" in listing and "张卫国欢迎仪式" in listing and "欢迎仪式" in listing


def test_pages_outside_the_scope_are_not_found(world, portal_app):
    ceremony = celebration(world)
    veteran = create_veteran(station=world.x1)
    invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, veteran_ids=[veteran.id])
    entry = chronicle.propose(actor=world.staff_x, veteran_id=veteran.id, reason="事迹突出")
    client = _client(portal_app, world.staff_y)
    client.get(f"/honors/ceremonies/{ceremony.id}", expect=404)
    client.get(f"/honors/ceremonies/{ceremony.id}/invite", expect=404)
    client.get(f"/honors/chronicle/{entry.id}", expect=404)
    reply = f"/honors/invitations/{invitation_of(ceremony.id, veteran.id).id}/reply"
    client.post(reply, data={"attending": "1"}, expect=404)
    assert "八一建军节座谈会" not in client.get("/honors/ceremonies", expect=200).get_data(as_text=True)
    with pytest.raises(ChronicleNotFound):
        chronicle.accept(actor=world.staff_y, entry_id=entry.id, version=entry.version_id, entry_text="x", volume="y")


def test_awards_show_on_the_veterans_page_and_in_the_list(world, portal_app):
    veteran = create_veteran(station=world.x1)
    client = _client(portal_app, world.staff_x)
    data = {
        "veteran": str(veteran.id),
        "title": "三等功",
        "level": "national",
        "awarded_on": "2019-08-01",
        "deed": "抗洪抢险表现突出",
        "approving_body": "某集团军",
        "basis": "2026年度党组织评定意见：优秀",
    }
    client.post("/honors/awards/new", data=data, expect=302)
    html = client.get(f"/veterans/{veteran.id}", expect=200).get_data(as_text=True)
    assert 'data-testid="veteran-honors"' in html and "三等功" in html and "某集团军" in html
    assert "2026年度党组织评定意见：优秀" in html
    assert "三等功" in client.get("/honors/awards?level=national&year=2019", expect=200).get_data(as_text=True)
    assert "三等功" not in client.get("/honors/awards?year=2020", expect=200).get_data(as_text=True)
    assert client.post("/honors/awards/new", data={**data, "awarded_on": "2999-01-01"}).status_code == 422
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "honors.award_create"))
    supervisor = _client(portal_app, world.supervisor_parent)
    assert "三等功" in supervisor.get(f"/veterans/{veteran.id}", expect=200).get_data(as_text=True)
    assert "登记表彰奖励" not in supervisor.get(f"/veterans/{veteran.id}").get_data(as_text=True)


def test_the_proposer_cannot_review_and_another_reviewer_can(world, portal_app):
    veteran = create_veteran(station=world.x1)
    entry = chronicle.propose(actor=world.staff_x, veteran_id=veteran.id, reason="长期志愿服务")
    with pytest.raises(ReviewerIsProposer):
        chronicle.accept(actor=world.staff_x, entry_id=entry.id, version=entry.version_id, entry_text="x", volume="y")
    html = _client(portal_app, world.staff_x).get(f"/honors/chronicle/{entry.id}", expect=200).get_data(as_text=True)
    assert 'data-testid="accept-form"' not in html and "须由另一位审核人员审核" in html
    with pytest.raises(ChronicleExists):
        chronicle.propose(actor=world.staff_x, veteran_id=veteran.id, reason="再次")

    reviewer = create_staff(unit=world.x, roles=("center_reviewer",))
    client = _client(portal_app, reviewer)
    version = entry.version_id
    client.post(
        f"/honors/chronicle/{entry.id}/accept",
        data={"version": str(version), "entry_text": "某某，青山镇人……", "volume": "《青山县志》第十二卷"},
        expect=302,
    )
    row = db.session.get(ChronicleEntry, entry.id)
    db.session.refresh(row)
    assert (row.status, row.volume, row.reviewed_by_id) == ("accepted", "《青山县志》第十二卷", reviewer.id)
    html = client.get(f"/veterans/{veteran.id}", expect=200).get_data(as_text=True)
    assert "已编入" in html and "《青山县志》第十二卷" in html
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "chronicle_entry")).all()
    assert {"honors.chronicle_propose", "honors.chronicle_accept"} <= set(actions)


def test_a_stale_version_is_refused_with_a_clear_message(world, portal_app):
    veteran = create_veteran(station=world.x1)
    entry = chronicle.propose(actor=world.target, veteran_id=veteran.id, reason="事迹")
    stale = entry.version_id
    chronicle.reject(actor=world.staff_x, entry_id=entry.id, version=stale, note="材料不足")
    chronicle.propose(actor=world.target, veteran_id=veteran.id, reason="补充材料后再次推荐")  # reopens, new version
    with pytest.raises(StaleUpdate):
        chronicle.accept(actor=world.staff_x, entry_id=entry.id, version=stale, entry_text="x", volume="y")
    client = _client(portal_app, world.staff_x)
    client.post(f"/honors/chronicle/{entry.id}/reject", data={"version": str(stale), "note": "x"}, expect=302)
    html = client.get(f"/honors/chronicle/{entry.id}", expect=200).get_data(as_text=True)
    assert "请刷新后再审核" in html and "待审核" in html


def test_workbench_cards(world, portal_app):
    ceremony = celebration(world)
    veteran = create_veteran(station=world.x1)
    invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, veteran_ids=[veteran.id])
    chronicle.propose(actor=world.target, veteran_id=veteran.id, reason="事迹")
    html = _client(portal_app, world.staff_x).get("/", expect=200).get_data(as_text=True)
    assert 'data-testid="card-honors-chronicle"' in html and 'data-testid="todo-chronicle-waiting-value">1<' in html
    assert 'data-testid="card-honors-ceremonies"' in html and "0/1" in html
    supervisor = _client(portal_app, world.supervisor_parent).get("/", expect=200).get_data(as_text=True)
    assert 'data-testid="card-honors-chronicle"' not in supervisor and "card-honors-ceremonies" in supervisor


def test_award_service_scope(world):
    veteran = create_veteran(station=world.x1)
    from backend.veterans.service import VeteranNotFound

    with pytest.raises(VeteranNotFound):
        awards.create_award(actor=world.staff_y, veteran_id=veteran.id, values={})
