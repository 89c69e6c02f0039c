"""Starting an export from a capability's page: one POST view per capability calls start_export()."""

from flask import flash, redirect, url_for
from flask_login import current_user

from backend.exports import service as export_service


def start_export(kind, params):
    """Queue export `kind` with `params` for the signed-in staff member and go to 我的导出.

    Errors (a unit out of scope, a bad year) propagate to the portal's error pages like any other service error.
    """
    export_service.request_export(actor=current_user._get_current_object(), kind=kind, params=params)
    flash("导出任务已创建，完成后可在“我的导出”中下载。", "success")
    return redirect(url_for("exports.index"))
