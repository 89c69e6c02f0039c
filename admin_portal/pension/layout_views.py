"""银行文件格式: the bank layouts as data (pension.rules). A run keeps the copy it was first exported with."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.pension import bp
from admin_portal.security import permission_required
from backend.errors import ValidationFailed
from backend.pension import bank_files
from backend.pension.models import EXPORT_FORMATS


def _actor():
    return current_user._get_current_object()


@bp.route("/layouts")
@permission_required("pension.rules")
def layout_index():
    return render_template(
        "pension/layout_index.html",
        layouts=bank_files.list_layouts(actor=_actor()),
        formats=bank_files.FORMAT_LABELS,
        fields=bank_files.FIELDS,
    )


@bp.route("/layouts/new", methods=["GET", "POST"], defaults={"layout_id": None})
@bp.route("/layouts/<id:layout_id>", methods=["GET", "POST"])
@permission_required("pension.rules")
def layout_edit(layout_id):
    layout = bank_files.get_layout(layout_id) if layout_id else None
    form, errors = request.form, {}
    if request.method == "POST":
        try:
            saved = bank_files.save_layout(
                actor=_actor(),
                layout_id=layout_id,
                name=form.get("name", "")[:60],
                bank=form.get("bank", "")[:60],
                format=form.get("format"),
                encoding=form.get("encoding"),
                columns=form.get("columns", "")[:4000],
                checksum_line=form.get("checksum_line") == "1",
                active=form.get("active") == "1",
            )
        except ValidationFailed as error:
            errors = {k: v for k, v in error.details.items() if isinstance(v, str)} or {"name": error.message}
        else:
            flash(f"已保存银行文件格式「{saved.name}」；已导出过的名册仍按其首次导出时的格式重新生成", "success")
            return redirect(url_for("pension.layout_index"))
    values = {
        "name": form.get("name", layout.name if layout else ""),
        "bank": form.get("bank", layout.bank if layout else ""),
        "format": form.get("format", layout.format if layout else "csv"),
        "encoding": form.get("encoding", layout.encoding if layout else "utf-8"),
        "columns": form.get(
            "columns", bank_files.columns_text(layout.columns) if layout else "seq|序号||\naccount|账号||"
        ),
        "checksum_line": (form.get("checksum_line") == "1") if form else (layout.checksum_line if layout else True),
        "active": (form.get("active") == "1") if form else (layout.active if layout else True),
    }
    return render_template(
        "pension/layout_edit.html",
        layout=layout,
        values=values,
        errors=errors,
        formats={f: bank_files.FORMAT_LABELS[f] for f in EXPORT_FORMATS},
        encodings=bank_files.ENCODINGS,
        fields=bank_files.FIELDS,
    ), 422 if errors else 200
