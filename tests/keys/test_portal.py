"""The 个人信息密钥 page: versions and progress for the system administrator, start a rotation, retire a version."""

from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.keys import tasks as key_tasks
from tests.helpers import portal_as
from tests.keys.helpers import use_keys


def test_page_shows_versions_progress_and_no_key(portal_app, world, monkeypatch):
    use_keys(monkeypatch, portal_app, 1, 2, cipher="sm4-gcm")
    page = portal_as(portal_app, world.sys_admin).get("/system/keys/", expect=200).get_data(as_text=True)
    assert "SM4-GCM" in page and "个人信息密钥" in page and 'data-testid="progress"' in page
    assert portal_app.config["PII_KEYS"].split(":")[1] not in page and "seal" not in page


def test_start_rotation_enqueues_the_job_and_audits(portal_app, world, monkeypatch):
    sent = []
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: sent.append(task.name))
    use_keys(monkeypatch, portal_app, 1, 2)
    client = portal_as(portal_app, world.sys_admin)
    page = client.post("/system/keys/rotate", follow_redirects=True).get_data(as_text=True)
    assert "已启动密钥轮换" in page and sent == [key_tasks.rotate_keys.name] == ["pii.rotate_keys"]
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "pii.rotation_started")).one().details == {
        "target": "A2"
    }


def test_retire_refuses_a_version_still_in_use(portal_app, world, monkeypatch):
    use_keys(monkeypatch, portal_app, 1, 2)
    from tests.factories import create_veteran

    create_veteran(station=world.x1)  # under version 2; the world's staff TOTP secrets too
    client = portal_as(portal_app, world.sys_admin)
    page = client.post("/system/keys/retire", data={"version": "2"}, follow_redirects=True).get_data(as_text=True)
    assert "不能退役" in page
    page = client.post("/system/keys/retire", data={"version": "1"}, follow_redirects=True).get_data(as_text=True)
    assert "已退役" in page


def test_county_sys_admin_is_refused(portal_app, world):
    portal_as(portal_app, world.sys_admin_y).get("/system/keys/", expect=403)
