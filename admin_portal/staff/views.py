"""工作人员: accounts within scope; security administrators create, disable, reset and assign roles."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from admin_portal.forms import ConfirmForm, apply_error
from admin_portal.orgs.tree import unit_tree
from admin_portal.security import permission_required
from admin_portal.staff.forms import RolesForm, StaffCreateForm
from backend.errors import RuleViolation, ValidationFailed
from backend.orgs.service import list_subtree
from backend.staff import service as staff_service
from backend.staff import totp

bp = Blueprint("staff", __name__)


def _actor():
    return current_user._get_current_object()


@bp.route("/")
@permission_required("staff.view")
def index():
    unit_id = request.args.get("unit", type=int)
    q = request.args.get("q", "").strip()[:64]
    rows = staff_service.list_staff(actor=_actor(), unit_id=unit_id, query_text=q or None)
    return render_template(
        "staff/index.html",
        rows=rows,
        q=q,
        unit_id=unit_id,
        tree=unit_tree(_actor(), unit_id),
        can_manage=_actor().can("staff.manage"),
    )


@bp.route("/new", methods=["GET", "POST"])
@permission_required("staff.manage")
def create():
    form = StaffCreateForm()
    form.org_unit_id.choices = [
        SelectChoice(u.id, f"{'　' * (u.depth - _actor().org_unit.depth)}{u.name}")
        for u in _tree_order(list_subtree(actor=_actor()))
    ]
    if request.method == "GET" and request.args.get("unit", type=int):
        form.org_unit_id.data = request.args.get("unit", type=int)
    if form.validate_on_submit():
        try:
            staff, password = staff_service.create_staff(
                actor=_actor(),
                username=form.username.data,
                full_name=form.full_name.data,
                org_unit_id=form.org_unit_id.data,
                roles=form.roles.data,
            )
        except (ValidationFailed, RuleViolation) as error:
            apply_error(form, error)
        else:
            return render_template("staff/password_issued.html", staff=staff, password=password, created=True)
    return render_template("staff/new.html", form=form), 422 if form.errors else 200


def _tree_order(units):
    """Depth-first order, so the select reads like the tree."""
    by_parent = {}
    for u in units:
        by_parent.setdefault(u.parent_id, []).append(u)
    ids = {u.id for u in units}
    out = []

    def walk(unit):
        out.append(unit)
        for child in sorted(by_parent.get(unit.id, []), key=lambda c: c.name):
            walk(child)

    for root in sorted((u for u in units if u.parent_id not in ids), key=lambda c: c.name):
        walk(root)
    return out


@bp.route("/<id:staff_id>")
@permission_required("staff.view")
def detail(staff_id, roles_form=None, status=200):
    staff = staff_service.get_staff(actor=_actor(), staff_id=staff_id)
    return render_template(
        "staff/detail.html",
        staff=staff,
        roles_form=roles_form or RolesForm(data={"roles": staff.roles}),
        confirm=ConfirmForm(),
        can_manage=_actor().can("staff.manage") and staff.id != _actor().id,
    ), status


@bp.route("/<id:staff_id>/roles", methods=["POST"])
@permission_required("staff.manage")
def set_roles(staff_id):
    form = RolesForm()
    if form.validate_on_submit():
        try:
            staff_service.set_staff_roles(actor=_actor(), staff_id=staff_id, roles=form.roles.data)
        except (ValidationFailed, RuleViolation) as error:
            apply_error(form, error)
        else:
            flash("角色已更新，对方重新登录后生效", "success")
            return redirect(url_for("staff.detail", staff_id=staff_id))
    return detail(staff_id, roles_form=form, status=422)


def _simple_action(staff_id, fn, message):
    ConfirmForm().validate_on_submit()
    try:
        fn(actor=_actor(), staff_id=staff_id)
    except (ValidationFailed, RuleViolation) as error:
        flash(error.message, "danger")
    else:
        flash(message, "success")
    return redirect(url_for("staff.detail", staff_id=staff_id))


@bp.route("/<id:staff_id>/disable", methods=["POST"])
@permission_required("staff.manage")
def disable(staff_id):
    return _simple_action(
        staff_id, lambda **kw: staff_service.set_staff_active(active=False, **kw), "账号已停用，其所有会话已结束"
    )


@bp.route("/<id:staff_id>/enable", methods=["POST"])
@permission_required("staff.manage")
def enable(staff_id):
    return _simple_action(staff_id, lambda **kw: staff_service.set_staff_active(active=True, **kw), "账号已启用")


@bp.route("/<id:staff_id>/end-sessions", methods=["POST"])
@permission_required("staff.manage")
def end_sessions(staff_id):
    return _simple_action(staff_id, staff_service.end_staff_sessions, "已强制该账号下线")


@bp.route("/<id:staff_id>/reset-totp", methods=["POST"])
@permission_required("staff.manage")
def reset_totp(staff_id):
    return _simple_action(staff_id, totp.reset_second_factor, "已重置动态口令，对方下次登录时须重新绑定")


@bp.route("/<id:staff_id>/reset-password", methods=["POST"])
@permission_required("staff.manage")
def reset_password(staff_id):
    ConfirmForm().validate_on_submit()
    try:
        staff, password = staff_service.reset_staff_password(actor=_actor(), staff_id=staff_id)
    except RuleViolation as error:
        flash(error.message, "danger")
        return redirect(url_for("staff.detail", staff_id=staff_id))
    return render_template("staff/password_issued.html", staff=staff, password=password, created=False)
