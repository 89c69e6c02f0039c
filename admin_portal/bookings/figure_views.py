"""Weekly booking figures per station and service (预约统计), and the workbench card charting the last 8 weeks."""

from flask import render_template, request, url_for
from flask_login import current_user

from admin_portal.bookings import bp
from admin_portal.home.cards import Card, card
from admin_portal.security import permission_required
from backend.bookings import figures as booking_figures


def _actor():
    return current_user._get_current_object()


def _path_arg(name):
    """A keyset cursor: a unit path ("/1/7/42/"), digits and slashes only, or None."""
    value = request.args.get(name, "")
    return value if value and len(value) <= 255 and set(value) <= set("0123456789/") else None


@bp.route("/figures")
@permission_required("bookings.view")
def figures():
    weeks = request.args.get("weeks", type=int)
    weeks = weeks if weeks in booking_figures.WEEK_CHOICES else 8
    end = booking_figures.parse_week(request.args.get("end"))
    report = booking_figures.weekly_report(
        actor=_actor(),
        unit_id=request.args.get("unit", type=int),
        weeks=weeks,
        end=end,
        after=_path_arg("after"),
        before=_path_arg("before"),
    )
    return render_template(
        "bookings/figures_index.html",
        report=report,
        weeks=weeks,
        end=end,
        week_choices=booking_figures.WEEK_CHOICES,
        units=booking_figures.picker_units(actor=_actor(), unit=report.unit),
        args={"unit": report.unit.id, "weeks": weeks, "end": end.isoformat() if end else None},
    )


def chart(*, actor, unit_id=None, weeks=8):
    """The workbench chart's JSON (static/charts.js): booked, served and no-shows per week over the unit."""
    report = booking_figures.weekly_report(actor=actor, unit_id=unit_id, weeks=weeks, with_rows=False)
    rows = report.weeks
    return {
        "title": f"{report.unit.name}：近{weeks}周服务预约",
        "unit": "",
        "categories": [row.label for row in rows],
        "series": [
            {"name": "预约", "data": [row.booked for row in rows]},
            {"name": "已办结", "data": [row.served for row in rows]},
            {"name": "爽约", "data": [row.no_shows for row in rows]},
        ],
        "empty": None if any(row.booked for row in rows) else f"近{weeks}周暂无预约",
    }


@card(order=45)
def booking_weeks(actor):
    if not actor.can("bookings.view"):
        return None
    return Card(
        key="bookings",
        title="近 8 周服务预约",
        template="home/_card_chart.html",
        order=booking_weeks.order,
        data={
            "chart_url": url_for("charts.bookings"),
            "table_url": url_for("bookings.figures"),
            "table_label": "查看预约统计表（各服务站、各服务）",
        },
    )
