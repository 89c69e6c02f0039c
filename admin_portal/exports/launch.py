"""Starting an export from a capability's page: one POST view per capability calls start_export()."""

from flask import flash, redirect, url_for
from flask_login import current_user

from backend.errors import ValidationFailed
from backend.exports import service as export_service


def start_export(kind, params):
    """Queue export `kind` with `params` for the signed-in staff member and go to 我的导出.

    Refusals the clerk can act on (too many exports running, a year not counted yet) come back as a warning on 我的
    导出; other errors (a unit out of scope) propagate to the portal's error pages like any other service error.
    """
    try:
        export_service.request_export(actor=current_user._get_current_object(), kind=kind, params=params)
    except (export_service.TooManyExports, ValidationFailed) as refused:
        details = "；".join(str(v) for v in (refused.details or {}).values() if isinstance(v, str))
        flash(details or refused.message, "warning")
        return redirect(url_for("exports.index"))
    flash("导出任务已创建，完成后可在“我的导出”中下载。", "success")
    return redirect(url_for("exports.index"))
