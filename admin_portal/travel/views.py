"""出入境: trips in scope with filters, a trip's timeline (every view audited), follow-up notes, export, counter
recording."""

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.exports.launch import start_export
from admin_portal.orgs.tree import unit_tree
from admin_portal.security import permission_required
from backend.errors import RuleViolation, ValidationFailed
from backend.travel import queries
from backend.travel import service as travel_service
from backend.travel.countries import DESTINATIONS, DOCUMENTS, PURPOSES
from backend.travel.models import STATUS_LABELS
from backend.veterans import service as veterans_service
from backend.veterans import timeline as veteran_timeline
from backend.webutil import link_args

bp = Blueprint("travel", __name__)


def _actor():
    return current_user._get_current_object()


def _date(name, source=None):
    try:
        return date.fromisoformat((source or request.args).get(name, ""))
    except ValueError:
        return None


def _filters():
    return queries.TripFilter(
        status=request.args.get("status") if request.args.get("status") in STATUS_LABELS else None,
        unit_id=request.args.get("unit", type=int),
        destination=request.args.get("destination") if request.args.get("destination") in DESTINATIONS else None,
        date_from=_date("date_from"),
        date_to=_date("date_to"),
        overdue=request.args.get("overdue") == "1",
    )


def _id_arg(name):
    value = request.args.get(name, type=int)
    return value if value and 0 < value < 2**63 else None


@bp.route("/")
@permission_required("travel.view")
def index():
    filters = _filters()
    args = link_args("after", "before")
    return render_template(
        "travel/index.html",
        page=queries.trip_page(
            actor=_actor(), filters=filters, after=_id_arg("after"), before=_id_arg("before")
        ),  # lists slice (issue 12): keyset pages, a bounded scan of sealed fields
        filters=filters,
        args=args,
        statuses=STATUS_LABELS,
        destinations=DESTINATIONS,
        purposes=PURPOSES,
        tree=unit_tree(_actor(), filters.unit_id),
    )


@bp.route("/export", methods=["POST"])
@permission_required("travel.view")
def export():
    """exports slice (issue 12): queue the list's export (the filters come as form fields) and go to 我的导出."""
    return start_export("travel", request.form.to_dict())


@bp.route("/<id:trip_id>")
@permission_required("travel.view")
def detail(trip_id):
    trip = travel_service.get_trip_for_staff(actor=_actor(), trip_id=trip_id)
    return render_template(
        "travel/detail.html",
        trip=trip,
        data=trip.details,
        events=veteran_timeline.trip_entries(travel_service.list_events(trip)),
        destinations=DESTINATIONS,
        purposes=PURPOSES,
        documents=DOCUMENTS,
        can_note=_actor().can("travel.record"),
    )


@bp.route("/<id:trip_id>/note", methods=["POST"])
@permission_required("travel.record")
def note(trip_id):
    try:
        travel_service.add_staff_note(actor=_actor(), trip_id=trip_id, note=request.form.get("note"))
    except ValidationFailed as error:
        flash("；".join(map(str, error.details.values())), "danger")
    else:
        flash("跟进情况已记录", "success")
    return redirect(url_for("travel.detail", trip_id=trip_id))


RECORD_FIELDS = ("channel", "destination", "purpose", "purpose_note", "document_type", "planned_departure")
RECORD_FIELDS += ("planned_return", "consent")


def _placed(error):
    """A service error -> {control id: message} shown beside each control; anything else under "form" (in Chinese,
    never a raw code or status)."""
    if isinstance(error, travel_service.ConsentRequired):
        return {"consent": error.message}
    placed = {k: v for k, v in (error.details or {}).items() if k in RECORD_FIELDS and isinstance(v, str)}
    return placed if placed and len(placed) == len(error.details) else {**placed, "form": error.message}


@bp.route("/record/<id:veteran_id>", methods=["GET", "POST"])
@permission_required("travel.record")
def record(veteran_id):
    veteran = veterans_service.get_veteran(actor=_actor(), veteran_id=veteran_id)
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            trip = travel_service.record_trip(
                actor=_actor(),
                veteran_id=veteran.id,
                channel=form.get("channel", "counter"),
                consent_obtained=form.get("consent") == "1",
                destination=form.get("destination"),
                purpose=form.get("purpose"),
                purpose_note=form.get("purpose_note", ""),
                document_type=form.get("document_type"),
                planned_departure=_date("planned_departure", form),
                planned_return=_date("planned_return", form),
            )
        except (ValidationFailed, RuleViolation) as error:
            errors = _placed(error)
        else:
            flash("出行报备已登记", "success")
            return redirect(url_for("travel.detail", trip_id=trip.id))
    return render_template(
        "travel/record.html",
        veteran=veteran,
        errors=errors,
        form=request.form,
        destinations=DESTINATIONS,
        purposes=PURPOSES,
        documents=DOCUMENTS,
        has_consent=travel_service.find_consent(veteran.id) is not None,
    ), 422 if errors else 200
