"""Message templates (issue 13): versions are never changed, validation speaks Chinese, the card preview is clipped
to WeChat's limits, and the subscription ledger follows the versions in force."""

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.notifications import templates_admin as admin
from backend.notifications.events import notify
from backend.notifications.models import MessageTemplateVersion
from backend.subscriptions import service as subscriptions_service
from tests.factories import create_veteran

CARE_FIELDS = [
    {"key": "thing1", "label": "通知标题", "value": "{标题}"},
    {"key": "name2", "label": "姓名", "value": "{姓名}"},
    {"key": "date3", "label": "发送日期", "value": "{日期}"},
]


def _save(actor, key="care", **overrides):
    settings = {"wechat_template_id": "TPL_CARE_V2", "long_term": False, "page": "pages/inbox/index?from=card"}
    settings["fields"] = CARE_FIELDS
    settings.update(overrides)
    return admin.create_version(actor=actor, key=key, **settings)


def _errors(key="care", **overrides):
    settings = {"wechat_template_id": "TPL_X", "long_term": False, "page": "pages/inbox/index", "fields": CARE_FIELDS}
    settings.update(overrides)
    with pytest.raises(ValidationFailed) as caught:
        admin.check_version(key, **settings)
    return caught.value.details


def test_a_new_version_leaves_the_old_one_and_its_notifications_unchanged(world):
    veteran = create_veteran(station=world.x1)
    old = admin.get_template(actor=world.sys_admin, key="care").current
    before = (old.id, old.number, old.wechat_template_id, old.page, [dict(f) for f in old.fields])
    sent = notify("care", [veteran.id], title="中秋慰问", body="祝您节日快乐", sender_unit_id=world.x.id)
    assert admin.version_for(sent).id == old.id

    new = _save(world.sys_admin)

    db.session.expire_all()
    old = db.session.get(MessageTemplateVersion, old.id)
    assert (old.id, old.number, old.wechat_template_id, old.page, old.fields) == before
    assert new.number == old.number + 1 and new.id != old.id
    assert admin.get_template(actor=world.sys_admin, key="care").current.id == new.id
    assert admin.version_for(sent).id == old.id  # the sent message keeps the card it went out with
    later = notify("care", [veteran.id], title="重阳慰问", body="x", sender_unit_id=world.x.id)
    assert admin.version_for(later).id == new.id
    _, versions, _ = admin.list_versions(actor=world.sys_admin, key="care")
    assert [v.number for v in versions] == [new.number, old.number]
    audit = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "notifications.template_version_created")
    ).one()
    assert audit.object_id == str(new.id) and audit.details["key"] == "care"


def test_saving_the_same_settings_again_is_refused(world):
    _save(world.sys_admin)
    with pytest.raises(ValidationFailed) as caught:
        _save(world.sys_admin)
    assert caught.value.details == {"fields": "与当前版本相同，无需保存"}


def test_only_a_root_administrator_saves_and_only_template_admins_look(world):
    with pytest.raises(PermissionDenied):
        _save(world.sys_admin_y)  # county Y: the templates reach every county
    with pytest.raises(PermissionDenied):
        admin.list_templates(actor=world.staff_x)
    assert admin.list_templates(actor=world.sys_admin_y)  # looking is fine


def test_the_ledger_follows_the_current_version(world):
    _save(world.sys_admin)
    ids = subscriptions_service.templates()
    assert "TPL_CARE_V2" in ids and "TPL_CARE" not in ids
    _save(world.sys_admin, wechat_template_id="")  # inbox only: no WeChat template at all
    assert "TPL_CARE_V2" not in subscriptions_service.templates()


@pytest.mark.parametrize(
    ("overrides", "name", "message"),
    [
        ({"wechat_template_id": "bad id!"}, "wechat_template_id", "1至64位"),
        ({"wechat_template_id": "x" * 65}, "wechat_template_id", "1至64位"),
        ({"page": "https://evil.example/x"}, "page", "pages/inbox/index"),
        ({"page": "pages/../x"}, "page", "pages/inbox/index"),
        ({"fields": [{"key": "title1", "label": "标题", "value": "{标题}"}]}, "fields.0.key", "thing1"),
        ({"fields": [CARE_FIELDS[0], dict(CARE_FIELDS[0])]}, "fields.1.key", "重复"),
        ({"fields": [{"key": "thing1", "label": "", "value": "{标题}"}]}, "fields.0.label", "请填写字段名称"),
        ({"fields": [{"key": "thing1", "label": "标题", "value": "{身份证号}"}]}, "fields.0.value", "{身份证号}"),
        ({"fields": [{"key": "thing1", "label": "姓名", "value": "{姓名}"}]}, "fields.0.value", "name 类型"),
        ({"fields": [{"key": f"thing{i}", "label": "x", "value": "x"} for i in range(1, 7)]}, "fields", "最多5个"),
        ({"fields": []}, "fields", "至少需要一个字段"),
    ],
)
def test_validation_errors_are_in_chinese(overrides, name, message):
    errors = _errors(**overrides)
    assert message in errors[name], errors


def test_variables_are_per_template_key():
    assert "fields.0.value" in _errors(
        "travel_overdue", fields=[{"key": "thing1", "label": "地点", "value": "{服务站}"}]
    )  # travel_overdue has only 标题 and 日期
    assert "fields.0.value" in _errors(
        "registration_result", fields=[{"key": "name1", "label": "x", "value": "{单位}"}]
    )
    cleaned = admin.check_version(
        "booking_cancelled",
        wechat_template_id=" TPL_BOOKING ",
        long_term=False,
        page="",
        fields=[
            {"key": "time2", "label": "预约时间", "value": "{预约时间}"},
            {},
            {"key": "", "label": "", "value": ""},
        ],
    )
    assert cleaned == {
        "wechat_template_id": "TPL_BOOKING",
        "long_term": False,
        "page": None,
        "fields": [{"key": "time2", "label": "预约时间", "value": "{预约时间}"}],
    }
    assert admin.check_version("care", wechat_template_id="", long_term=False, page=None, fields=[])["fields"] == []


def test_preview_clips_card_values_to_wechats_limits():
    version = admin.draft(
        {
            "wechat_template_id": "TPL_CARE",
            "page": "pages/inbox/index",
            "fields": [
                {"key": "thing1", "label": "通知标题", "value": "{标题}"},
                {"key": "phrase2", "label": "状态", "value": "{服务站}"},
                {"key": "name3", "label": "姓名", "value": "{姓名}"},
                {"key": "character_string4", "label": "编号", "value": "{单位}{单位}{单位}"},
            ],
        }
    )
    preview = admin.preview("care", version)
    data = preview.card["data"]
    assert len(admin.SAMPLE_VALUES["标题"]) > 20
    assert len(data["thing1"]["value"]) == 20 and data["thing1"]["value"].endswith("…")
    assert data["phrase2"]["value"] == admin.SAMPLE_VALUES["服务站"][:5]
    assert data["name3"]["value"] == admin.SAMPLE_VALUES["姓名"][:10]
    assert len(data["character_string4"]["value"]) == 32
    assert preview.card["template_id"] == "TPL_CARE" and preview.card["page"] == "pages/inbox/index"
    assert preview.labels["thing1"] == "通知标题"
    assert admin.SAMPLE_VALUES["单位"] in preview.inbox_body and "{" not in preview.inbox_body


def test_version_for_an_inbox_only_notification_is_none(world):
    veteran = create_veteran(station=world.x1)
    sent = notify("system", [veteran.id], title="系统", body="x")
    assert sent.template_version_id is None and admin.version_for(sent) is None
