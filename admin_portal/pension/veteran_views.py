"""A veteran's retirement pay page and its writes: amounts, account (reveal audited), category, start, suspend, stop,
resume with back pay (previewed first). Views parse and call one service; scope and rules live in backend/pension."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.forms import ConfirmForm
from admin_portal.pension import bp
from admin_portal.security import permission_required
from backend.errors import RuleViolation, ValidationFailed
from backend.pension import accounts, profile, rules, states
from backend.pension.models import COMPONENTS, FUNDING
from backend.pension.money import fen_to_yuan
from backend.registration.windows import today_cst
from backend.webutil import positive_int


def _actor():
    return current_user._get_current_object()


def _form(name, limit=300):
    return (request.form.get(name) or "")[:limit]


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash(error.message if isinstance(error, RuleViolation) or not details else "；".join(details), "danger")


def _back(veteran_id):
    return redirect(url_for("pension.veteran", veteran_id=veteran_id))


def _page(veteran_id, revealed=None):
    actor = _actor()
    view = profile.pay_view(actor=actor, veteran_id=veteran_id, before=positive_int(request.args, "before"))
    can_manage = actor.can("pension.manage")
    return render_template(
        "pension/veteran.html",
        view=view,
        veteran=view.veteran,
        profile=view.profile,
        account=accounts.masked(accounts.account_of(view.veteran.id)),
        revealed=revealed,
        message=rules.veteran_message(view.profile),
        labels={
            "component": rules.COMPONENT_LABELS,
            "funding": rules.FUNDING_LABELS,
            "state": rules.STATE_LABELS,
            "action": rules.ACTION_LABELS,
            "line": rules.LINE_STATUS_LABELS,
            "reason": rules.rule_labels(),
        },
        suspend_rules=rules.enabled_rules("suspend") if can_manage else [],
        stop_rules=rules.enabled_rules("stop") if can_manage else [],
        components=COMPONENTS,
        fundings=FUNDING,
        yuan=fen_to_yuan,
        today=today_cst(),
        confirm=ConfirmForm(),
        can_manage=can_manage,
        can_reveal=actor.can("pension.reveal"),
    )


@bp.route("/veterans/<id:veteran_id>")
@permission_required("pension.view")
def veteran(veteran_id):
    return _page(veteran_id)


@bp.route("/veterans/<id:veteran_id>/reveal", methods=["POST"])
@permission_required("pension.reveal")
def reveal_account(veteran_id):
    ConfirmForm().validate_on_submit()
    number = accounts.reveal_account(actor=_actor(), veteran_id=veteran_id)
    return _page(veteran_id, revealed=number or "未登记")


@bp.route("/veterans/<id:veteran_id>/amount", methods=["POST"])
@permission_required("pension.manage")
def set_amount(veteran_id):
    try:
        profile.set_amount(
            actor=_actor(),
            veteran_id=veteran_id,
            expected_version=_form("version", 20),
            component=_form("component", 20),
            amount=_form("amount", 30),
            funding=_form("funding", 10),
            month=_form("month", 10),
            note=_form("note", 200),
        )
    except (ValidationFailed, RuleViolation) as error:
        _failed(error)
    else:
        flash("已设定退役金标准（历史记录保留）", "success")
    return _back(veteran_id)


@bp.route("/veterans/<id:veteran_id>/account", methods=["POST"])
@permission_required("pension.manage")
def set_account(veteran_id):
    try:
        accounts.set_account(
            actor=_actor(),
            veteran_id=veteran_id,
            bank=_form("bank", 60),
            branch=_form("branch", 100),
            number=_form("number", 40),
            holder=_form("holder", 64),
        )
    except ValidationFailed as error:
        _failed(error)
    else:
        flash("已保存收款账户", "success")
    return _back(veteran_id)


@bp.route("/veterans/<id:veteran_id>/category", methods=["POST"])
@permission_required("pension.manage")
def set_category(veteran_id):
    try:
        profile.set_category(
            actor=_actor(), veteran_id=veteran_id, expected_version=_form("version", 20), category=_form("category", 20)
        )
    except (ValidationFailed, RuleViolation) as error:
        _failed(error)
    else:
        flash("已保存退役金类别", "success")
    return _back(veteran_id)


@bp.route("/veterans/<id:veteran_id>/start", methods=["POST"])
@permission_required("pension.manage")
def start(veteran_id):
    try:
        start_on = rules.parse_day(_form("start_on", 10), "start_on") if _form("start_on", 10).strip() else None
        states.start(actor=_actor(), veteran_id=veteran_id, start_on=start_on, category=_form("category", 20))
    except (ValidationFailed, RuleViolation) as error:
        _failed(error)
    else:
        flash("已起发退役金", "success")
    return _back(veteran_id)


def _change(veteran_id, action, done):
    try:
        states.change(
            actor=_actor(),
            veteran_id=veteran_id,
            expected_version=_form("version", 20),
            action=action,
            reason=_form("reason", 30),
            note=_form("note", 300),
            effective_on=rules.parse_day(_form("effective_on", 10)),
        )
    except (ValidationFailed, RuleViolation) as error:
        _failed(error)
    else:
        flash(done, "success")
    return _back(veteran_id)


@bp.route("/veterans/<id:veteran_id>/suspend", methods=["POST"])
@permission_required("pension.manage")
def suspend(veteran_id):
    return _change(veteran_id, "suspend", "已暂停发放退役金")


@bp.route("/veterans/<id:veteran_id>/stop", methods=["POST"])
@permission_required("pension.manage")
def stop(veteran_id):
    return _change(veteran_id, "stop", "已停止发放退役金")


def _resume_args(source):
    back_pay = source.get("back_pay", "1") != "0"
    text = (source.get("effective_on") or "")[:10]
    return back_pay, (rules.parse_day(text) if not back_pay and text.strip() else None)


@bp.route("/veterans/<id:veteran_id>/resume")
@permission_required("pension.manage")
def resume_preview(veteran_id):
    try:
        back_pay, effective_on = _resume_args(request.args)
        veteran, pay, plan = states.resume_preview(
            actor=_actor(), veteran_id=veteran_id, back_pay=back_pay, effective_on=effective_on or today_cst()
        )
    except (ValidationFailed, RuleViolation) as error:
        _failed(error)
        return _back(veteran_id)
    return render_template(
        "pension/resume.html",
        veteran=veteran,
        profile=pay,
        plan=plan,
        back_pay=back_pay,
        labels={"reason": rules.rule_labels(), "state": rules.STATE_LABELS},
        yuan=fen_to_yuan,
    )


@bp.route("/veterans/<id:veteran_id>/resume", methods=["POST"])
@permission_required("pension.manage")
def resume(veteran_id):
    try:
        back_pay, effective_on = _resume_args(request.form)
        expected = _form("back_pay_fen", 20).strip()
        states.resume(
            actor=_actor(),
            veteran_id=veteran_id,
            expected_version=_form("version", 20),
            back_pay=back_pay,
            effective_on=effective_on or today_cst(),
            expected_back_pay_fen=int(expected) if expected.isascii() and expected.isdigit() else None,
            note=_form("note", 300),
        )
    except (ValidationFailed, RuleViolation) as error:
        _failed(error)
    else:
        flash("已恢复发放退役金" + ("，补发金额将在下次发放名册中发放" if back_pay else ""), "success")
    return _back(veteran_id)
