"""The auditor's conduct views (issue 20, Art. 24): a staff member's actions over a period, reveals and exports per
staff member (unusual volumes highlighted), refusals, and the conduct cases from complaints. Read-only."""

from datetime import date

from flask import abort, render_template, request
from flask_login import current_user

from admin_portal.audit.views import bp
from admin_portal.security import permission_required
from backend.audit import display as audit_display
from backend.audit import oversight
from backend.feedback import cases, rules
from backend.registration.windows import today_cst
from backend.webutil import positive_int


def _reader():
    return current_user._get_current_object()


def _date(name):
    try:
        return date.fromisoformat((request.args.get(name) or "")[:10])
    except ValueError:
        return None


def _period():
    return oversight.period(_date("from"), _date("to"), today_cst())


@bp.route("/staff/<id:staff_id>")
@permission_required("audit.view")
def staff_actions(staff_id):
    reader = _reader()
    first, last = _period()
    try:
        staff, rows, next_before = oversight.staff_actions(
            actor=reader, staff_id=staff_id, first=first, last=last, before=positive_int(request.args, "before")
        )
    except oversight.StaffNotFound:
        abort(404)
    return render_template(
        "audit/staff.html",
        staff=staff,
        lines=audit_display.present(reader=reader, rows=rows),
        next_before=next_before,
        first=first,
        last=last,
    )


@bp.route("/volumes")
@permission_required("audit.view")
def volumes():
    first, last = _period()
    rows, reveal_median, export_median = oversight.volumes(actor=_reader(), first=first, last=last)
    return render_template(
        "audit/volumes.html",
        rows=rows,
        reveal_median=reveal_median,
        export_median=export_median,
        first=first,
        last=last,
    )


@bp.route("/refusals")
@permission_required("audit.view")
def refusals():
    reader = _reader()
    first, last = _period()
    rows, next_before = oversight.refusals(
        actor=reader, first=first, last=last, before=positive_int(request.args, "before")
    )
    return render_template(
        "audit/refusals.html",
        lines=audit_display.present(reader=reader, rows=rows),
        next_before=next_before,
        first=first,
        last=last,
    )


@bp.route("/conduct")
@permission_required("audit.view")
def conduct():
    rows, next_before = oversight.conduct_cases(actor=_reader(), before=positive_int(request.args, "before"))
    veterans, units, staff = cases.names(rows)
    return render_template(
        "audit/conduct.html",
        rows=rows,
        next_before=next_before,
        units=units,
        staff=staff,
        states=rules.STATE_LABELS,
        today=today_cst(),
    )
