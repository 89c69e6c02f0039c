"""The message templates pages (issue 13): list, history with the current version marked, preview and save."""

import pytest

from backend.extensions import db
from backend.notifications import templates_admin
from tests.helpers import PortalClient


@pytest.fixture
def admin_client(portal_app, world):
    client = PortalClient(portal_app)
    client.login(world.sys_admin)
    return client


def _form(action="save", **overrides):
    data = {
        "action": action,
        "wechat_template_id": "TPL_CARE_NEW",
        "page": "pages/inbox/index",
        "long_term": "1",
        "field-0-key": "thing1",
        "field-0-label": "通知标题",
        "field-0-value": "{标题}",
        "field-1-key": "name2",
        "field-1-label": "姓名",
        "field-1-value": "{姓名}",
    }
    data.update(overrides)
    return data


def test_the_list_shows_every_template_key_with_its_current_version(admin_client):
    html = admin_client.get("/notifications/templates", expect=200).text
    for key, name in templates_admin.TEMPLATE_KEYS.items():
        assert f'data-key="{key}"' in html and name in html
    assert "TPL_CARE" in html and "thing1" in html and "pages/inbox/index" in html and "年度确认退回补正" in html
    assert 'href="/notifications/templates"' in html  # in the navigation


def test_preview_renders_the_clipped_card_and_the_inbox_text_without_saving(admin_client, world):
    before = templates_admin.get_template(actor=world.sys_admin, key="care").current.id
    html = admin_client.post("/notifications/templates/care/edit", data=_form("preview"), expect=200).text
    assert 'data-testid="wx-card"' in html and 'data-testid="inbox-preview"' in html
    clipped = templates_admin.SAMPLE_VALUES["标题"][:19] + "…"
    assert clipped in html and templates_admin.SAMPLE_VALUES["姓名"][:10] in html
    assert templates_admin.get_template(actor=world.sys_admin, key="care").current.id == before


def test_save_makes_a_new_current_version_and_keeps_the_history(admin_client, world):
    response = admin_client.post("/notifications/templates/care/edit", data=_form(), expect=302)
    assert response.headers["Location"].endswith("/notifications/templates/care")
    current = templates_admin.get_template(actor=world.sys_admin, key="care").current
    assert (current.number, current.wechat_template_id, current.long_term) == (2, "TPL_CARE_NEW", True)
    html = admin_client.get("/notifications/templates/care", expect=200).text
    assert "第2版" in html and "第1版" in html and "当前版本" in html and "TPL_CARE_NEW" in html
    _, versions, _ = templates_admin.list_versions(actor=world.sys_admin, key="care")
    first = versions[-1]
    html = admin_client.get(f"/notifications/templates/care?version={first.id}", expect=200).text
    assert "第1版" in html and "TPL_CARE" in html and "发送单位" in html  # the old version, as it was


def test_invalid_input_is_shown_beside_the_field_in_chinese(admin_client, world):
    data = _form(**{"field-1-key": "thing2", "wechat_template_id": "坏的ID", "field-2-key": "thing3"})
    html = admin_client.post("/notifications/templates/care/edit", data=data, expect=422).text
    assert "微信模板ID须为1至64位" in html and "{姓名}只能用于 name 类型的字段" in html
    assert 'id="fields-1-value-error"' in html and 'aria-invalid="true"' in html
    assert "请填写字段名称" in html  # row 3 has a key but no label
    assert templates_admin.get_template(actor=world.sys_admin, key="care").current.number == 1


def test_who_may_look_and_who_may_save(portal_app, world):
    county = PortalClient(portal_app)
    county.login(world.sys_admin_y)
    county.get("/notifications/templates/care", expect=200)
    county.get("/notifications/templates/care/edit", expect=403)
    county.post("/notifications/templates/care/edit", data=_form(), expect=403)
    clerk = PortalClient(portal_app)
    clerk.login(world.staff_x)
    clerk.get("/notifications/templates", expect=403)
    db.session.expire_all()
    assert templates_admin.get_template(actor=world.sys_admin, key="care").current.number == 1


def test_unknown_keys_and_versions_are_404(admin_client, world):
    admin_client.get("/notifications/templates/nope", expect=404)
    admin_client.get("/notifications/templates/nope/edit", expect=404)
    other = templates_admin.get_template(actor=world.sys_admin, key="talk").current
    admin_client.get(f"/notifications/templates/care?version={other.id}", expect=404)  # another key's version
