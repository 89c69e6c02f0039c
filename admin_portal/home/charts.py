"""JSON for the portal's ECharts charts (static/charts.js draws them). Scoped like the pages they sit on: a unit
outside the actor's subtree is not found, a missing permission is refused; the tables beside the charts stay the
accessible fallback."""

from flask import Blueprint, jsonify, request
from flask_login import current_user

from admin_portal.security import permission_required
from backend.registration import queries as registration_queries
from backend.registration import windows
from backend.veterans import queries as veterans_queries

bp = Blueprint("charts", __name__)


def _year():
    this_year = windows.today_cst().year
    year = request.args.get("year", type=int)
    return year if year is not None and 2000 <= year <= this_year + 1 else this_year


def bar_chart(title, rows, series, *, empty):
    """A grouped bar chart: rows are (label, figure); series are (name, figure -> percentage or None). `empty` is the
    reason there is nothing to draw (the page shows 「—」 and the reason instead), or None."""
    return {
        "title": title,
        "unit": "%",
        "categories": [label for label, _ in rows],
        "series": [{"name": name, "data": [value(f) for _, f in rows]} for name, value in series],
        "empty": empty,
    }


def _rows(own, children):
    return [(f"{own.unit.name}（合计）", own)] + [(c.unit.name, c) for c in children]


@bp.route("/registration.json")
@permission_required("registration.view")
def registration():
    year = _year()
    own, children = registration_queries.figures(
        actor=current_user._get_current_object(),
        year=year,
        unit_id=request.args.get("unit", type=int),
        with_median=False,
    )
    series = [
        ("提交率", lambda f: f.share(f.submitted)),
        ("通过率", lambda f: f.share(f.approved)),
        ("逾期率", lambda f: f.share(f.overdue)),
    ]
    return jsonify(
        bar_chart(
            f"{own.unit.name}：{year}年度确认进度",
            _rows(own, children),
            series,
            empty=None if own.veterans else own.empty_reason,
        )
    )


@bp.route("/coverage.json")
@permission_required("veterans.view")
def coverage():
    own, children = veterans_queries.coverage(
        actor=current_user._get_current_object(), unit_id=request.args.get("unit", type=int)
    )
    series = [
        ("有服务站", lambda c: c.share(c.with_station)),
        ("有网格", lambda c: c.share(c.with_grid)),
        ("全覆盖", lambda c: c.share(c.with_worker)),
    ]
    return jsonify(
        bar_chart(
            f"{own.unit.name}：服务管理覆盖情况",
            _rows(own, children),
            series,
            empty=None if own.total else own.empty_reason,
        )
    )


@bp.route("/bookings.json")
@permission_required("bookings.view")
def bookings():
    """bookings slice (issue 14): booked, served and no-shows of the last 8 weeks over the viewer's (or a given)
    unit."""
    from admin_portal.bookings.figure_views import chart

    return jsonify(chart(actor=current_user._get_current_object(), unit_id=request.args.get("unit", type=int)))
