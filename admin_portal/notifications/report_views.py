"""Delivery reports: the recipients drill-down of one notification (the report itself is the _report.html partial
of the notification's detail page, rendered from backend.notifications.reports.summary)."""

from flask import render_template, request
from flask_login import current_user

from admin_portal.notifications import bp
from admin_portal.security import permission_required
from backend.notifications import reports
from backend.notifications.kinds import DELIVERY_STATUS_LABELS, RESULT_LABELS, SKIP_REASON_LABELS
from backend.webutil import link_args


def _id_arg(name):
    value = request.args.get(name, type=int)
    return value if value and 0 < value < 2**63 else None


@bp.route("/<id:notification_id>/recipients")
@permission_required("notifications.view")
def recipients(notification_id):
    actor = current_user._get_current_object()
    notification = reports.get_notification_for_report(actor=actor, notification_id=notification_id)
    filters = reports.RecipientFilter.parse(request.args)
    rows, next_after = reports.list_recipients(
        actor=actor, notification=notification, filters=filters, after=_id_arg("after")
    )
    return render_template(
        "notifications/recipients.html",
        notification=notification,
        rows=rows,
        next_after=next_after,
        filters=filters,
        args=link_args("after"),
        statuses=DELIVERY_STATUS_LABELS,
        skip_reasons=SKIP_REASON_LABELS,
        results=RESULT_LABELS,
        read_filters=reports.READ_FILTERS,
        can_view_veterans=actor.can("veterans.view"),
    )
