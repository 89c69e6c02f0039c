"""notifications slice (issue 13), templates helper: the authorization matrix's cells for the message templates
pages (system administrators; a save only at a root unit, since templates are system-wide) and the phone's
GET /inbox/{id}."""

from tests.authz.cells import Cell

TEMPLATE_VIEWERS = ("sys_admin", "sys_admin_y")
TEMPLATE_EDITORS = ("sys_admin",)  # sys_admin_y sits at county Y: templates reach every county, so a 403


def _new_version(w):
    from tests.factories import unique

    return {
        "action": "save",
        "wechat_template_id": "TPL_CARE",
        "page": "pages/inbox/index",
        "field-0-key": "thing1",
        "field-0-label": "通知标题",
        "field-0-value": "{标题}",
        "field-1-key": "thing2",
        "field-1-label": "发送单位",
        "field-1-value": unique("{单位}"),
    }


NOTIFY_TEMPLATES_CELLS = {
    ("portal", "notifications.templates_index", "GET"): Cell("GET", "/notifications/templates", TEMPLATE_VIEWERS),
    ("portal", "notifications.templates_detail", "GET"): Cell("GET", "/notifications/templates/care", TEMPLATE_VIEWERS),
    ("portal", "notifications.templates_edit", "GET"): Cell(
        "GET", "/notifications/templates/care/edit", TEMPLATE_EDITORS
    ),
    ("portal", "notifications.templates_edit", "POST"): Cell(
        "POST", "/notifications/templates/care/edit", TEMPLATE_EDITORS, data=_new_version
    ),
    ("api", "inbox.get_message", "GET"): Cell("GET", lambda w: f"/v1/inbox/{w.message_a.id}", ("veteran_a",)),
}
