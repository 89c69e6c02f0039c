"""组织机构: browse the tree within scope; system administrators add and rename units."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.forms import apply_error, parse_id
from admin_portal.orgs.forms import UnitForm
from admin_portal.orgs.tree import PAGES, page_link, tree_links, unit_tree
from admin_portal.security import permission_required
from backend.errors import RuleViolation, ValidationFailed
from backend.orgs import service as orgs_service
from backend.orgs.scope import in_scope
from backend.orgs.tree import child_nodes
from backend.training import service as training_service  # issue 19: responsible office / person per unit

bp = Blueprint("orgs", __name__)
bp.add_app_template_global(tree_links, "unit_tree_links")


@bp.route("/")
@permission_required("orgs.view")
def index():
    return redirect(url_for("orgs.detail", unit_id=current_user.org_unit_id))


def _render_unit(unit_id, child_form=None, rename_form=None, status=200):
    actor = current_user._get_current_object()
    unit = orgs_service.get_unit(actor=actor, unit_id=unit_id)
    can_manage = actor.can("orgs.manage")
    children = orgs_service.list_children(actor=actor, unit_id=unit.id)
    return render_template(
        "orgs/detail.html",
        unit=unit,
        breadcrumbs=[u for u in orgs_service.list_ancestors(unit) if in_scope(actor, u)] + [unit],
        children=children,
        # issue 19 (Art. 20, 21): the responsible office / person of the unit and its children, one query
        responsible=_responsible(actor, [unit, *children]),
        needs_responsible=training_service.needs_responsible,
        tree=unit_tree(actor, unit.id),
        can_manage=can_manage,
        can_add_child=can_manage and unit.child_level is not None,
        can_view_staff=actor.can("staff.view"),
        child_form=child_form or UnitForm(prefix="child"),
        rename_form=rename_form or UnitForm(prefix="rename", data={"name": unit.name, "code": unit.code}),
    ), status


def _responsible(actor, units):
    """{unit id: (office, person)} for the units shown, or None without training.view (issue 19)."""
    if not actor.can("training.view"):
        return None
    rows = training_service.responsible_for(u.id for u in units)
    names = training_service.staff_names(r.staff_id for r in rows.values())
    return {uid: (r.office, names.get(r.staff_id) or r.person_name) for uid, r in rows.items()}


@bp.route("/tree")
@permission_required("orgs.view")
def tree():
    """The children of `parent` for the sidebar tree of page `for` (an htmx fragment). Without htmx: the page `for`
    with that unit selected. A parent out of scope is not found, like a missing one."""
    key = request.args.get("for")
    if key not in PAGES:
        abort(404)
    parent_id = parse_id(request.args.get("parent"))
    nodes = child_nodes(actor=current_user._get_current_object(), parent_id=parent_id)
    if not request.headers.get("HX-Request"):
        return redirect(page_link(key) + str(parent_id))
    return render_template("orgs/_tree_children.html", nodes=nodes, links=tree_links(PAGES[key][0]))


@bp.route("/<id:unit_id>")
@permission_required("orgs.view")
def detail(unit_id):
    return _render_unit(unit_id)


@bp.route("/<id:unit_id>/children", methods=["POST"])
@permission_required("orgs.manage")
def create_child(unit_id):
    form = UnitForm(prefix="child")
    if form.validate_on_submit():
        try:
            unit = orgs_service.create_unit(
                actor=current_user._get_current_object(), parent_id=unit_id, name=form.name.data, code=form.code.data
            )
        except (ValidationFailed, RuleViolation) as error:
            apply_error(form, error)
        else:
            flash(f"已新建{unit.level_label}：{unit.name}", "success")
            return redirect(url_for("orgs.detail", unit_id=unit_id))
    return _render_unit(unit_id, child_form=form, status=422)


@bp.route("/<id:unit_id>/rename", methods=["POST"])
@permission_required("orgs.manage")
def rename(unit_id):
    form = UnitForm(prefix="rename")
    if form.validate_on_submit():
        try:
            orgs_service.rename_unit(
                actor=current_user._get_current_object(), unit_id=unit_id, name=form.name.data, code=form.code.data
            )
        except (ValidationFailed, RuleViolation) as error:
            apply_error(form, error)
        else:
            flash("机构信息已保存", "success")
            return redirect(url_for("orgs.detail", unit_id=unit_id))
    return _render_unit(unit_id, rename_form=form, status=422)
