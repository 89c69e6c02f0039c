"""The portal's onboarding pages: scope on list, detail and every write; the refusal shown; proof uploads with the
upload checks; the welcome ceremony; closing; the veteran page's section; the workbench card."""

import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.honors.models import Ceremony
from backend.onboarding.models import OnboardingAttachment, OnboardingCase
from backend.registration.windows import CST, today_cst
from tests.factories import valid_id_number
from tests.files import samples
from tests.helpers import portal_as
from tests.onboarding.helpers import audits, complete_all, new_case, step_row


@pytest.fixture
def scanner(portal_app, monkeypatch):
    monkeypatch.setitem(portal_app.extensions, "upload_scanner", samples.EicarScanner())


def _upload(client, case, step, data, name="回执.png"):
    return client.post(
        f"/onboarding/{case.id}/steps/{step}/attachments",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def test_list_and_detail_in_scope_only(world, portal_app):
    _, mine = new_case(world)
    client = portal_as(portal_app, world.staff_x)
    assert f"onboarding-case-{mine.id}" in client.get("/onboarding/", expect=200).text
    page = client.get(f"/onboarding/{mine.id}", expect=200).text
    assert "党员组织关系转接" in page and "须先完成党员组织关系转接" in page
    other = portal_as(portal_app, world.staff_y)
    assert f"onboarding-case-{mine.id}" not in other.get("/onboarding/", expect=200).text
    other.get(f"/onboarding/{mine.id}", expect=404)


def test_another_stations_staff_get_not_found_on_every_write(world, portal_app, scanner):
    _, case = new_case(world)
    client = portal_as(portal_app, world.staff_y)
    base = f"/onboarding/{case.id}"
    client.post(f"{base}/steps/party_transfer/state", data={"to_state": "done"}, expect=404)
    client.post(f"{base}/steps/hukou/coordination", data={"contact_party": "x"}, expect=404)
    client.post(f"{base}/close", data={"summary": "x"}, expect=404)
    client.post(f"{base}/welcome", data={"place": "x"}, expect=404)
    assert _upload(client, case, "hukou", samples.png()).status_code == 404
    assert step_row(case, "party_transfer").state == "pending" and audits("onboarding.step", case.id) == 0


def test_check_in_refusal_is_shown_then_the_journey_to_closing(world, portal_app):
    veteran, case = new_case(world)
    client = portal_as(portal_app, world.staff_x)
    page = client.post(
        f"/onboarding/{case.id}/steps/check_in/state", data={"to_state": "done"}, follow_redirects=True
    ).text
    assert "该退役军人是党员，须先完成党员组织关系转接，再办理报到" in page
    client.post(f"/onboarding/{case.id}/steps/party_transfer/state", data={"to_state": "done"}, expect=302)
    client.post(f"/onboarding/{case.id}/steps/check_in/state", data={"to_state": "done"}, expect=302)
    assert step_row(case, "check_in").state == "done"
    refused = client.post(f"/onboarding/{case.id}/close", data={"summary": "办结"}, follow_redirects=True).text
    assert "还有必办事项未完成，不能办结" in refused and "落户" in refused
    complete_all(world, case, skip=())
    client.post(f"/onboarding/{case.id}/close", data={"summary": "各项手续办结"}, expect=302)
    db.session.expire_all()
    assert db.session.get(OnboardingCase, case.id).status == "closed"
    panel = client.get(f"/veterans/{veteran.id}", expect=200).text
    assert today_cst().isoformat() in panel and "各项手续办结" in panel


def test_a_stale_form_shows_a_clear_message(world, portal_app):
    _, case = new_case(world, party_member=False)
    version = step_row(case, "hukou").version_id
    client = portal_as(portal_app, world.staff_x)
    client.post(f"/onboarding/{case.id}/steps/hukou/state", data={"to_state": "in_progress", "version": version})
    page = client.post(
        f"/onboarding/{case.id}/steps/hukou/state",
        data={"to_state": "done", "version": version},
        follow_redirects=True,
    ).text
    assert "刚被他人更新" in page and step_row(case, "hukou").state == "in_progress"


def test_proof_upload_download_and_a_bad_file_refused(world, portal_app, scanner):
    _, case = new_case(world, party_member=False)
    client = portal_as(portal_app, world.staff_x)
    bad = _upload(client, case, "hukou", b"MZ\x90\x00 not an image", name="a.exe").text
    assert "仅支持 JPG、PNG 图片或 PDF 文件" in bad
    assert db.session.scalars(select(OnboardingAttachment)).all() == []
    assert "证明材料已上传" in _upload(client, case, "hukou", samples.png()).text
    proof = db.session.scalars(select(OnboardingAttachment)).one()
    assert proof.display_name == "回执.png" and audits("onboarding.attachment_added", case.id) == 1
    response = client.get(f"/onboarding/{case.id}/attachments/{proof.id}", expect=200)
    assert response.data.startswith(b"\x89PNG") and "attachment" in response.headers["Content-Disposition"]
    assert audits("onboarding.attachment_download", case.id) == 1
    portal_as(portal_app, world.staff_y).get(f"/onboarding/{case.id}/attachments/{proof.id}", expect=404)


def test_welcome_ceremony_is_recorded_and_completes_the_step(world, portal_app):
    _, case = new_case(world, party_member=False)
    client = portal_as(portal_app, world.staff_x)
    held = (datetime.now(CST) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    data = {"held_at": held, "place": "青山镇服务站会议室", "attendees": "镇党委书记、站长"}
    page = client.post(f"/onboarding/{case.id}/welcome", data=data, follow_redirects=True).text
    assert "已登记欢迎仪式" in page
    db.session.expire_all()
    ceremony = db.session.scalars(select(Ceremony)).one()
    assert (ceremony.kind, ceremony.title, ceremony.unit_id) == ("welcome", "欢迎仪式", world.x1.id)
    assert db.session.get(OnboardingCase, case.id).ceremony_id == ceremony.id
    assert step_row(case, "welcome_ceremony").state == "done"
    assert audits("onboarding.step", case.id) == 1
    again = client.post(f"/onboarding/{case.id}/welcome", data=data, follow_redirects=True).text
    assert "欢迎仪式已登记" in again and len(db.session.scalars(select(Ceremony)).all()) == 1


def test_open_a_case_from_the_registry_and_with_a_new_record(world, portal_app):
    from tests.factories import create_veteran

    veteran = create_veteran(station=world.x1, party_member=True)
    client = portal_as(portal_app, world.staff_x)
    assert "办理接收安置" in client.get(f"/veterans/{veteran.id}", expect=200).text
    client.get(f"/onboarding/new?veteran={veteran.id}", expect=200)
    client.post(
        "/onboarding/new",
        data={"mode": "existing", "veteran": veteran.id, "arrived_on": today_cst().isoformat()},
        expect=302,
    )
    assert "一站式办理中" in client.get(f"/veterans/{veteran.id}", expect=200).text
    client.post(
        "/onboarding/new",
        data={
            "mode": "create",
            "name": "新兵乙",
            "id_number": valid_id_number(),
            "station_id": world.x1.id,
            "arrived_on": today_cst().isoformat(),
        },
        expect=302,
    )
    bad = client.post(
        "/onboarding/new",
        data={"mode": "create", "name": "新兵丙", "id_number": "123", "station_id": world.x1.id, "arrived_on": ""},
        expect=200,
    ).text
    assert "到达" in bad or "身份证" in bad
    portal_as(portal_app, world.staff_y).post(
        "/onboarding/new",
        data={"mode": "existing", "veteran": create_veteran(station=world.x1).id, "arrived_on": "2020-01-01"},
        expect=404,
    )


def test_workbench_shows_overdue_steps(world, portal_app):
    new_case(world, party_member=False, arrived_days_ago=60)
    page = portal_as(portal_app, world.staff_x).get("/", expect=200).text
    assert "接收安置待办" in page and "逾期未办事项" in page
