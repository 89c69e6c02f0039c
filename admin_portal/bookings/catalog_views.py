"""Services, working plans and the station calendar (station staff and above; the national calendar: sys admin)."""

from datetime import date, timedelta

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.bookings import bp
from admin_portal.security import permission_required
from backend.bookings import calendar, slots
from backend.bookings import catalog as catalog_service
from backend.errors import PermissionDenied, RuleViolation, ValidationFailed
from backend.registration.windows import today_cst

SERVICE_FIELDS = ("name", "description", "materials", "location", "slot_minutes", "capacity", "book_ahead_days")
SERVICE_FIELDS += ("cutoff_minutes",)


def _actor():
    return current_user._get_current_object()


def _station_id(source=None):
    """The station asked for (?station= or the form), else the first in scope; None when there is none."""
    value = (source or request.args).get("station", type=int)
    if value and 0 < value < 2**63:
        return value
    stations = catalog_service.stations_in_scope(_actor())
    return stations[0].id if stations else None


def _values(form):
    values = {key: form.get(key, "") for key in SERVICE_FIELDS}
    periods = range(catalog_service.MAX_PERIODS)
    values["plan"] = {d: [form.get(f"plan-{d}-{i}", "") for i in periods] for d in catalog_service.WEEKDAYS}
    return values


def _form_of(service):
    values = {key: getattr(service, key) if getattr(service, key) is not None else "" for key in SERVICE_FIELDS}
    values["plan"] = catalog_service.plan_texts(service.plan)
    return values


def _counter_url(station_id, day):
    """The counter's page of that station and day (helper W's), where a slot or a booking is cancelled or kept."""
    return url_for("bookings.counter", station=station_id, day=day.isoformat())


@bp.route("/catalog")
@permission_required("bookings.manage")
def catalog():
    actor, station_id = _actor(), _station_id()
    services = catalog_service.list_services(actor=actor, station_id=station_id) if station_id else []
    return render_template(
        "bookings/catalog_index.html",
        stations=catalog_service.stations_in_scope(actor),
        station_id=station_id,
        services=services,
        attention={s.id: len(slots.needs_attention(s)) for s in services},
        weekdays=catalog_service.WEEKDAYS,
    )


@bp.route("/catalog/defaults", methods=["POST"])
@permission_required("bookings.manage")
def catalog_defaults():
    station_id = _station_id(request.form)
    created = catalog_service.add_default_services(actor=_actor(), station_id=station_id)
    flash(f"已添加 {len(created)} 项常用服务" if created else "本站已有服务项目，未作变更", "success")
    return redirect(url_for("bookings.catalog", station=station_id))


def _attention(service):
    """「需处理的预约」 of a saved service, each with its counter link."""
    if service is None:
        return []
    return [dict(a, counter_url=_counter_url(service.station_id, a["day"])) for a in slots.needs_attention(service)]


def _render_form(service, values, errors, station_id, status=200):
    return render_template(
        "bookings/catalog_form.html",
        service=service,
        values=values,
        errors=errors,
        station_id=station_id,
        weekdays=catalog_service.WEEKDAYS,
        periods=range(catalog_service.MAX_PERIODS),
        max_ahead=current_app.config["BOOKING_MAX_AHEAD_DAYS"],
        attention=_attention(service),
    ), status


def _errors(error):
    details = error.details if isinstance(error.details, dict) else {}
    placed = {k: v for k, v in details.items() if isinstance(v, str)}
    return placed or {"form": error.message}


@bp.route("/catalog/new", methods=["GET", "POST"])
@permission_required("bookings.manage")
def catalog_new():
    station_id = _station_id(request.form if request.method == "POST" else None)
    if request.method == "POST":
        try:
            values = _values(request.form)
            service = catalog_service.create_service(actor=_actor(), station_id=station_id, values=values)
        except ValidationFailed as error:
            return _render_form(None, _values(request.form), _errors(error), station_id, 422)
        flash("服务项目已添加", "success")
        return redirect(url_for("bookings.catalog_edit", service_id=service.id))
    catalog_service.list_services(actor=_actor(), station_id=station_id)  # the station must be in scope
    values = {"slot_minutes": 30, "capacity": 5, "book_ahead_days": 14, "cutoff_minutes": 120}
    values["plan"] = catalog_service.plan_texts(catalog_service.DEFAULT_PLAN)
    return _render_form(None, values, {}, station_id)


@bp.route("/catalog/<id:service_id>", methods=["GET", "POST"])
@permission_required("bookings.manage")
def catalog_edit(service_id):
    service = catalog_service.get_service(actor=_actor(), service_id=service_id)
    if request.method == "POST":
        try:
            catalog_service.update_service(
                actor=_actor(), service_id=service.id, version=request.form.get("version"), values=_values(request.form)
            )
        except (ValidationFailed, RuleViolation) as error:
            return _render_form(service, _values(request.form), _errors(error), service.station_id, 422)
        flash("服务项目已保存；不再开放的时段中已有的预约列在“需处理的预约”中", "success")
        return redirect(url_for("bookings.catalog_edit", service_id=service.id))
    return _render_form(service, _form_of(service), {}, service.station_id)


@bp.route("/catalog/<id:service_id>/deactivate", methods=["POST"])
@permission_required("bookings.manage")
def catalog_deactivate(service_id):
    try:
        service = catalog_service.deactivate_service(
            actor=_actor(), service_id=service_id, version=request.form.get("version")
        )
    except RuleViolation as error:
        flash(error.message, "danger")
        return redirect(url_for("bookings.catalog_edit", service_id=service_id))
    flash("服务项目已停用；已有的预约列在“需处理的预约”中，请逐一处理", "success")
    return redirect(url_for("bookings.catalog_edit", service_id=service.id))


def _can_calendar():
    actor = _actor()
    if not (actor.can("bookings.manage") or actor.can("bookings.calendar")):
        raise PermissionDenied(details={"permission": "bookings.manage"})
    return actor


def _year():
    this_year = today_cst().year
    year = request.args.get("year", type=int)
    return year if year is not None and 2004 <= year <= this_year + 2 else this_year


def _day(text):
    try:
        return date.fromisoformat(str(text or "")[:10])
    except ValueError:
        return None


@bp.route("/calendar", methods=["GET", "POST"])
def catalog_calendar():
    actor, errors = _can_calendar(), {}
    can_station, can_nation = actor.can("bookings.manage"), actor.can("bookings.calendar")
    station_id = _station_id(request.form if request.method == "POST" else None) if can_station else None
    if request.method == "POST":
        form = request.form
        nation = form.get("kind") == "nation"
        try:
            if not nation and station_id is None:
                raise ValidationFailed(details={"station_id": "请选择服务站"})
            calendar.set_day(
                actor=actor,
                day=_day(form.get("day")),
                is_open=form.get("open") == "1",
                note=form.get("note", "")[:200],
                station_id=None if nation else station_id,
            )
        except ValidationFailed as error:
            errors = {("nation-" if nation else "s-") + k: v for k, v in _errors(error).items()}
        else:
            flash("日历已保存，相关号源已按新的安排调整", "success")
            return redirect(url_for("bookings.catalog_calendar", station=station_id, year=_day(form["day"]).year))
    year, today = _year(), today_cst()
    first, last = date(year, 1, 1), date(year, 12, 31)
    if station_id:
        catalog_service.list_services(actor=actor, station_id=station_id)  # the station must be in scope
    return render_template(
        "bookings/catalog_calendar.html",
        year=year,
        errors=errors,
        form=request.form,
        station_id=station_id,
        stations=catalog_service.stations_in_scope(actor) if can_station else [],
        station_days=calendar.list_days(first=first, last=last, station_id=station_id) if station_id else [],
        nation_days=calendar.list_days(first=first, last=last),
        can_nation=can_nation and actor.org_unit.parent_id is None,
        uncovered=calendar.uncovered_years(today, today + timedelta(days=current_app.config["BOOKING_MAX_AHEAD_DAYS"])),
        library_known=calendar.known_year(year),
    ), 422 if errors else 200


@bp.route("/calendar/<id:day_id>/delete", methods=["POST"])
def catalog_calendar_delete(day_id):
    calendar.delete_day(actor=_can_calendar(), day_id=day_id)
    flash("已删除该日历调整，相关号源已按新的安排调整", "success")
    return redirect(url_for("bookings.catalog_calendar", station=request.form.get("station", type=int)))
