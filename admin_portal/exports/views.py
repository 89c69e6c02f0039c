"""我的导出: the signed-in staff member's export jobs with their progress, and the download of a finished file."""

from flask import Blueprint, current_app, render_template, request, send_file
from flask_login import current_user

from backend.exports import registry
from backend.exports import service as export_service
from backend.exports.models import ACTIVE

bp = Blueprint("exports", __name__)


def _actor():
    return current_user._get_current_object()


@bp.route("/")
def index():
    """Newest first, 20 a page (?after=<id>). An htmx poll (HX-Request) gets the list fragment only."""
    after = request.args.get("after", type=int)
    jobs, next_after = export_service.list_jobs(actor=_actor(), after=after if after and after > 0 else None)
    template = "exports/_jobs.html" if request.headers.get("HX-Request") else "exports/index.html"
    return render_template(
        template,
        jobs=jobs,
        next_after=next_after,
        after=after,
        polling=any(j.status in ACTIVE for j in jobs),
        kind_titles=registry.kind_titles(),
        ttl_hours=int(current_app.config["EXPORT_LINK_TTL"].total_seconds() // 3600),
    )


@bp.route("/<id:job_id>/download")
def download(job_id):
    path, name = export_service.get_download(actor=_actor(), job_id=job_id)
    response = send_file(
        path, mimetype=export_service.XLSX_MIMETYPE, as_attachment=True, download_name=name, max_age=0, etag=False
    )
    response.headers["Cache-Control"] = "no-store"
    return response
