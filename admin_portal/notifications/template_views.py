"""Message templates and their versions (system administrator): list, one template's history and card preview,
and an edit form that previews or saves a new version."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.notifications import bp
from admin_portal.security import permission_required
from backend.errors import ValidationFailed
from backend.notifications import render
from backend.notifications import templates_admin as admin

PERMISSION = "notifications.templates"


def _actor():
    return current_user._get_current_object()


def _int_arg(name):
    value = request.args.get(name, type=int)
    return value if value and 0 < value < 2**62 else None


def _form_settings():
    form = request.form
    fields = [
        {name: form.get(f"field-{i}-{name}", "") for name in ("key", "label", "value")} for i in range(admin.MAX_FIELDS)
    ]
    return {
        "wechat_template_id": form.get("wechat_template_id", ""),
        "long_term": form.get("long_term") == "1",
        "page": form.get("page", ""),
        "fields": fields,
    }


def _version_settings(version):
    if version is None:
        return {"wechat_template_id": "", "long_term": False, "page": "", "fields": []}
    return {
        "wechat_template_id": version.wechat_template_id or "",
        "long_term": version.long_term,
        "page": version.page or "",
        "fields": list(version.fields or []),
    }


@bp.route("/templates")
@permission_required(PERMISSION)
def templates_index():
    return render_template("notifications/templates_index.html", rows=admin.list_templates(actor=_actor()))


@bp.route("/templates/<key>")
@permission_required(PERMISSION)
def templates_detail(key):
    actor = _actor()
    row, versions, next_before = admin.list_versions(actor=actor, key=key, before=_int_arg("before"))
    chosen = _int_arg("version")
    shown = admin.get_version(actor=actor, key=key, version_id=chosen) if chosen else row.current
    return render_template(
        "notifications/templates_detail.html",
        row=row,
        versions=versions,
        next_before=next_before,
        shown=shown,
        preview=admin.preview(key, shown) if shown else None,
        can_edit=admin.can_edit(actor),
        field_type=render.field_type,
    )


@bp.route("/templates/<key>/edit", methods=["GET", "POST"])
@permission_required(PERMISSION)
def templates_edit(key):
    actor = _actor()
    admin.require_editor(actor)
    row = admin.get_template(actor=actor, key=key)
    settings, errors, preview = _version_settings(row.current), {}, None
    if request.method == "POST":
        settings = _form_settings()
        try:
            if request.form.get("action") == "save":
                version = admin.create_version(actor=actor, key=key, **settings)
                flash(f"已保存为第{version.number}版，此后发出的消息使用新版本", "success")
                return redirect(url_for("notifications.templates_detail", key=key))
            preview = admin.preview(key, admin.draft(admin.check_version(key, **settings)))
        except ValidationFailed as error:
            errors = error.details or {"fields": error.message}
            flash("；".join(map(str, errors.values())), "danger")
    rows = list(settings["fields"]) + [{}] * (admin.MAX_FIELDS - len(settings["fields"]))
    return render_template(
        "notifications/templates_edit.html",
        row=row,
        settings=settings,
        field_rows=rows[: admin.MAX_FIELDS],
        errors=errors,
        preview=preview,
    ), 422 if errors else 200
