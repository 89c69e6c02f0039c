"""考核评价 (Art. 15, 23): the dashboard of a unit and year (figures read from the aggregation, never the source
tables), its charts' JSON, the department's weights and targets, the on-demand recomputation, the Excel export and
the printable PDF report."""

from urllib.parse import quote

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from admin_portal.assessment import bp
from admin_portal.exports.launch import start_export
from admin_portal.security import permission_required
from backend.assessment import report, service, tasks
from backend.assessment import settings as settings_service
from backend.assessment.indicators import INDICATORS
from backend.errors import ValidationFailed
from backend.extensions import portal_limiter
from backend.figures.service import as_of_text
from backend.registration.windows import today_cst


def _actor():
    return current_user._get_current_object()


def _per_staff():
    """Rate-limit key: the signed-in staff member (several share an office's address)."""
    return f"staff:{getattr(current_user, 'id', None) or request.remote_addr}"


def _limit(name):
    return lambda: tasks.setting(name)


def _unit_arg(source):
    value = source.get("unit", "")
    return value[:20] if value else None


def link_for(indicator, unit):
    """The list behind a figure (url_for of an existing page, the unit as its filter), or None."""
    endpoint, extra = indicator.link or (None, {})
    if not endpoint:
        return None
    try:
        return url_for(endpoint, unit=unit.id, **extra)
    except BuildError:
        return None


@bp.get("/")
@permission_required("assessment.view")
def index():
    errors = {}
    try:
        board = service.dashboard(actor=_actor(), unit_id=_unit_arg(request.args), year=request.args.get("year"))
    except ValidationFailed as error:
        errors = {k: v for k, v in error.details.items() if isinstance(v, str)}
        board = service.dashboard(actor=_actor(), unit_id=_unit_arg(request.args))
    this_year = today_cst().year
    return render_template(
        "assessment/index.html",
        board=board,
        errors=errors,
        units=service.picker_units(_actor()),
        years=range(this_year, this_year - 10, -1),
        fmt=service.format_value,
        link_for=link_for,
        treemap=service.treemap(board.unit, board.year),
        can_configure=_actor().can("assessment.configure"),
        can_recompute=_actor().can("assessment.configure") and _actor().org_unit.parent_id is None,
        as_of=as_of_text(board.computed_at),
    ), 422 if errors else 200


@bp.get("/charts.json")
@permission_required("assessment.view")
def charts():
    """The three charts of the dashboard (static/assessment.js): children's ranking, 5-year trend, treemap."""
    board = service.dashboard(actor=_actor(), unit_id=_unit_arg(request.args), year=request.args.get("year"))
    tree = service.treemap(board.unit, board.year)
    return jsonify(
        {
            "ranking": {
                "title": f"{board.unit.name}：下级单位{board.year}年得分排名",
                "categories": [u.name for u, _, _ in board.children],
                "data": [s for _, s, _ in board.children],
                "ids": [u.id for u, _, _ in board.children],
                "empty": None if any(s is not None for _, s, _ in board.children) else "暂无下级单位得分",
            },
            "trend": {
                "title": f"{board.unit.name}：近{len(board.trend)}年得分",
                "categories": [str(y) for y, _ in board.trend],
                "data": [s for _, s in board.trend],
                "empty": None if any(s is not None for _, s in board.trend) else "暂无历年得分",
            },
            "treemap": {
                "title": f"{board.unit.name}：下属单位得分",
                "nodes": _tree_nodes(board.unit, tree),
                "empty": None if any(s is not None for _, s in tree) else "暂无下属单位得分",
            },
            "url": url_for("assessment.index", year=board.year),
        }
    )


def _tree_nodes(root, tree):
    """Nested {name, value, score, id, children} for ECharts' treemap (size: 1 per unit; colour: the score)."""
    nodes = {root.id: {"children": []}}
    for unit, score in tree:
        nodes[unit.id] = {"name": unit.name, "id": unit.id, "score": score, "value": 1, "children": []}
        parent = nodes.get(unit.parent_id)
        if parent is not None:
            parent["children"].append(nodes[unit.id])
    for node in nodes.values():
        if not node["children"]:
            node.pop("children")
    return nodes[root.id].get("children", [])


@bp.route("/settings", methods=["GET", "POST"])
@permission_required("assessment.configure")
def settings():
    errors, form = {}, None
    if request.method == "POST":
        try:
            total = settings_service.save(actor=_actor(), form=request.form)
        except ValidationFailed as error:
            errors, form = dict(error.details or {}), request.form
        else:
            if total != 100:
                flash(f"已保存。注意：启用指标的权重合计为 {total}，不等于 100。", "warning")
            else:
                flash("考核指标权重与目标值已保存。", "success")
            return redirect(url_for("assessment.settings"))
    unit, current = settings_service.current(_actor())
    return render_template(
        "assessment/settings.html",
        unit=unit,
        indicators=INDICATORS,
        current=current,
        form=form,
        errors=errors,
        target_shown=settings_service.target_shown,
        total=sum(s.weight for s in current.values() if s.enabled),
    ), 422 if errors else 200


@bp.post("/recompute")
@portal_limiter.limit(_limit("ASSESSMENT_RECOMPUTE_RATE_LIMIT"), key_func=_per_staff)
@permission_required("assessment.configure")
def recompute():
    try:
        settings_service.request_recompute(actor=_actor(), year=request.form.get("year", "")[:8])
    except (ValidationFailed, tasks.RecomputeRunning) as error:
        flash(error.details.get("year") or error.message, "warning")
        return redirect(url_for("assessment.index"))
    flash("已开始重新计算，完成后刷新本页即可看到最新结果。", "success")
    return redirect(url_for("assessment.index", unit=_unit_arg(request.form), year=request.form.get("year", "")[:8]))


@bp.post("/export")
@permission_required("assessment.view")
def export():
    params = {"year": request.form.get("year", "")[:8], "unit": request.form.get("unit", "")[:20]}
    return start_export("assessment", params)


@bp.get("/report.pdf")
@portal_limiter.limit(_limit("ASSESSMENT_REPORT_RATE_LIMIT"), key_func=_per_staff)
@permission_required("assessment.view")
def report_pdf():
    name, pdf = report.render_pdf(actor=_actor(), unit_id=_unit_arg(request.args), year=request.args.get("year"))
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f"attachment; filename=report.pdf; filename*=UTF-8''{quote(name)}"},
    )
