"""退役金: the landing page — search a veteran's pay (name, within scope) and links to the parts the actor may use:
adjustments (part 2, "pension.adjustments"), payroll runs and funding (part 3, "pension.payroll_runs",
"pension.funding"), rules. Links to other parts' pages appear only when their endpoints are registered."""

from flask import current_app, render_template, request
from flask_login import current_user
from sqlalchemy import select

from admin_portal.pension import bp
from admin_portal.security import permission_required
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.pension import rules
from backend.pension.models import PayProfile
from backend.veterans import queries
from backend.webutil import positive_int

# (endpoints, label, permission): the first registered endpoint is linked when the actor holds the permission
# (parts 2 and 3 register theirs; the names in the brief and the ones built are both accepted)
SECTIONS = (
    (("pension.adjustments_index", "pension.adjustments"), "退役金调整批次", "pension.view"),
    (("pension.payroll_index", "pension.payroll_runs"), "月度发放名册", "pension.view"),
    (("pension.payroll_failures",), "发放失败跟进", "pension.view"),
    (("pension.funding_index", "pension.funding"), "资金统计", "funding.view"),
    (("pension.layout_index",), "银行文件格式", "pension.rules"),
    (("pension.rules_page",), "停发规则", "pension.rules"),
)


@bp.get("/")
@permission_required("pension.view")
def index():
    actor = current_user._get_current_object()
    name = (request.args.get("name") or "").strip()[:64]
    page, states, error = None, {}, None
    if name and actor.can("veterans.view"):
        try:
            page = queries.list_veterans(
                actor=actor, filters=queries.VeteranFilter(name=name), after=positive_int(request.args, "after")
            )
        except ValidationFailed as failed:
            error = failed.message
        else:
            ids = [v.id for v in page.rows] or [0]
            query = select(PayProfile.veteran_id, PayProfile.state).where(PayProfile.veteran_id.in_(ids))
            states = dict(db.session.execute(query).all())
    links = []
    for endpoints, label, permission in SECTIONS:
        found = next((e for e in endpoints if e in current_app.view_functions), None)
        if found and actor.can(permission):
            links.append((found, label))
    return render_template(
        "pension/index.html",
        name=name,
        page=page,
        states=states,
        state_labels=rules.STATE_LABELS,
        links=links,
        search_error=error,
    )
