"""The life cycle of an assistance case: submitted → under_review → recommended → approved | rejected → paid → closed.

Each step is one conditional UPDATE (`WHERE status IN (…)`): a step someone else took first moves 0 rows and is
CaseStateInvalid (409). Each step writes a timeline event and an audit row and tells the veteran ("care"). Approval
locks the veteran's row first, so two approvals for the same veteran cannot both slip under the yearly cap; above
the four-eyes threshold a second person with assistance.approve must approve the amount the first one approved.
"""

from datetime import date

from sqlalchemy import select, update

from backend.assistance import rules
from backend.assistance.models import FUNDING_SOURCES, MAX_AMOUNT_FEN, AssistanceCase, AssistanceEvent
from backend.assistance.rules import CaseStateInvalid, OverPayment, SecondApproverRequired, yuan
from backend.assistance.service import audit, get_case, seal, tell
from backend.db import transaction, utcnow
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.orgs.scope import require_permission
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran

REFUSALS = {
    "under_review": "只有已提交、尚未受理的申请可以受理",
    "recommended": "只有审核中的申请可以推荐上报",
    "rejected": "该申请已审批或已办结，不能再不予批准",
    "approved": "只有服务站已推荐的申请可以审批",
    "paid": "只有已批准、尚未发放的申请可以登记发放",
    "closed": "只有已发放的申请可以办结",
}


def _move(case, to_status, actor, *, action=None, amount_fen=None, guard=None, **values):
    """The conditional UPDATE from the step's allowed statuses, its event, audit row and notification."""
    allowed, _ = rules.STEPS[to_status]
    if case.status not in allowed:
        raise CaseStateInvalid(REFUSALS[to_status], details={"status": case.status})
    result = db.session.execute(
        update(AssistanceCase)
        .where(AssistanceCase.id == case.id, AssistanceCase.status == case.status, *([] if guard is None else [guard]))
        .values(status=to_status, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CaseStateInvalid(REFUSALS[to_status], details={"status": case.status})
    from_status = case.status
    db.session.refresh(case)
    db.session.add(
        AssistanceEvent(
            case_id=case.id,
            action=to_status,
            from_status=from_status,
            to_status=to_status,
            staff_id=actor.id,
            amount_fen=amount_fen,
        )
    )
    audit(actor, action or f"assistance.{to_status}", case, from_status=from_status, amount_fen=amount_fen)
    return case


def start_review(*, actor, case_id):
    """submitted → under_review (the station takes the case up). :raises CaseNotFound, CaseStateInvalid:"""
    with transaction():
        case = get_case(actor=actor, case_id=case_id, permission="assistance.review", lock=True)
        _move(case, "under_review", actor, action="assistance.review_started")
        tell(case, "帮扶申请已受理", "服务站已受理您的帮扶申请，正在审核，如需补充材料工作人员会与您联系。")
    return case


def recommend(*, actor, case_id, amount_fen, notes=None):
    """under_review → recommended, with the station's proposed amount (fen) and notes (sealed)."""
    with transaction():
        case = get_case(actor=actor, case_id=case_id, permission="assistance.review", lock=True)
        _positive(amount_fen, "amount")
        _move(
            case,
            "recommended",
            actor,
            amount_fen=amount_fen,
            recommended_amount_fen=amount_fen,
            notes_sealed=seal((notes or "").strip()[:2000], "notes"),
        )
        tell(case, "帮扶申请已上报", "服务站已审核并推荐您的帮扶申请，正在等待服务中心审批。")
    return case


def reject(*, actor, case_id, reason):
    """submitted | under_review (assistance.review) or recommended (assistance.approve) → rejected with a reason,
    which the veteran is told. :raises ValidationFailed, CaseNotFound, CaseStateInvalid, PermissionDenied:"""
    reason = (reason or "").strip()
    with transaction():
        case = get_case(actor=actor, case_id=case_id, lock=True)
        needed = "assistance.review"
        if case.status == "recommended":  # the center decides once the station has recommended
            needed = "assistance.approve"
        require_permission(actor, needed)
        if not reason or len(reason) > 500:
            raise ValidationFailed(details={"reason": "请填写不予批准的原因（不超过500字）"})
        _move(case, "rejected", actor, reject_reason=reason)
        tell(case, "帮扶申请未获批准", f"您的帮扶申请未获批准。原因：{reason}")
    return case


def approve(*, actor, case_id, amount_fen=None, now=None):
    """recommended → approved within the caps. Above the four-eyes threshold the first approval only records the
    approver and the amount (the status stays recommended); another approver's approval completes it.

    :returns: (case, done) — done False after a first approval.
    :raises CaseNotFound, CaseStateInvalid, CaseCapExceeded, YearCapExceeded, SecondApproverRequired:
    """
    with transaction():
        case = get_case(actor=actor, case_id=case_id, permission="assistance.approve", lock=True)
        if case.status != "recommended":
            raise CaseStateInvalid(REFUSALS["approved"], details={"status": case.status})
        db.session.execute(select(Veteran.id).where(Veteran.id == case.veteran_id).with_for_update())
        first = case.first_approved_by_id
        if first is not None:
            if first == actor.id:
                raise SecondApproverRequired("您已审批过该申请，须由另一位有审批权限的工作人员再次审批")
            amount_fen = case.approved_amount_fen  # the second approver confirms what the first approved
        amount_fen = amount_fen or case.recommended_amount_fen or case.requested_amount_fen
        _positive(amount_fen, "amount")
        rules.check_caps(case, amount_fen, now)
        if first is None and rules.needs_second_approver(amount_fen):
            _first_approval(case, actor, amount_fen)
            return case, False
        who = AssistanceCase.first_approved_by_id
        guard = who == first if first else who.is_(None)  # nobody changed the first approval meanwhile
        _move(
            case,
            "approved",
            actor,
            amount_fen=amount_fen,
            approved_amount_fen=amount_fen,
            approved_by_id=actor.id,
            approved_at=now or utcnow(),
            guard=guard,
        )
        tell(case, "帮扶申请已批准", f"您的帮扶申请已批准，批准金额{yuan(amount_fen)}元，将尽快发放。")
    return case, True


def _first_approval(case, actor, amount_fen):
    result = db.session.execute(
        update(AssistanceCase)
        .where(
            AssistanceCase.id == case.id,
            AssistanceCase.status == "recommended",
            AssistanceCase.first_approved_by_id.is_(None),
        )
        .values(first_approved_by_id=actor.id, approved_amount_fen=amount_fen, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise CaseStateInvalid(REFUSALS["approved"], details={"status": case.status})
    db.session.refresh(case)
    db.session.add(
        AssistanceEvent(
            case_id=case.id,
            action="first_approval",
            from_status="recommended",
            to_status="recommended",
            staff_id=actor.id,
            amount_fen=amount_fen,
        )
    )
    audit(actor, "assistance.first_approved", case, amount_fen=amount_fen)


def pay(*, actor, case_id, amount_fen, paid_on, payment_reference, funding_source, budget_year, now=None):
    """approved → paid: the amount (fen, at most the approved), the date (CST, not in the future), the payment
    reference, the funding source (central | local, Art. 22) and the budget year.
    :raises ValidationFailed, OverPayment, CaseNotFound, CaseStateInvalid:"""
    with transaction():
        case = get_case(actor=actor, case_id=case_id, permission="assistance.approve", lock=True)
        reference = _check_payment(amount_fen, paid_on, payment_reference, funding_source, budget_year, now)
        if case.status == "approved" and amount_fen > case.approved_amount_fen:
            raise OverPayment(f"发放金额不能超过批准金额（{yuan(case.approved_amount_fen)}元）")
        _move(
            case,
            "paid",
            actor,
            amount_fen=amount_fen,
            paid_amount_fen=amount_fen,
            paid_on=paid_on,
            payment_reference=reference,
            funding_source=funding_source,
            budget_year=budget_year,
        )
        tell(case, "帮扶资金已发放", f"您的帮扶资金{yuan(amount_fen)}元已于{paid_on.isoformat()}发放，请注意查收。")
    return case


def close(*, actor, case_id, follow_up, now=None):
    """paid → closed with the follow-up visit's note (sealed). :raises ValidationFailed, CaseNotFound,
    CaseStateInvalid:"""
    note = (follow_up or "").strip()
    with transaction():
        case = get_case(actor=actor, case_id=case_id, permission="assistance.review", lock=True)
        if not note or len(note) > 2000:
            raise ValidationFailed(details={"follow_up": "请填写回访情况（不超过2000字）"})
        _move(case, "closed", actor, follow_up_sealed=seal(note, "follow_up"), closed_on=today_cst(now))
        tell(case, "帮扶申请已办结", "您的帮扶申请已办结。如仍有困难，请与服务站联系。")
    return case


def _positive(amount_fen, field):
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or not 0 < amount_fen <= MAX_AMOUNT_FEN:
        raise ValidationFailed(details={field: "请填写大于0的金额"})


def _check_payment(amount_fen, paid_on, payment_reference, funding_source, budget_year, now):
    """The payment's fields, checked once the case is found in scope. Returns the cleaned reference."""
    _positive(amount_fen, "amount")
    errors = {}
    if not isinstance(paid_on, date) or paid_on > today_cst(now) or paid_on.year < 2000:
        errors["paid_on"] = "请填写发放日期（不能晚于今天）"
    reference = (payment_reference or "").strip()
    if not reference or len(reference) > 64:
        errors["payment_reference"] = "请填写支付凭证号（不超过64字）"
    if funding_source not in FUNDING_SOURCES:
        errors["funding_source"] = "请选择资金来源（中央或地方）"
    if not isinstance(budget_year, int) or not 2000 <= budget_year <= 2100:
        errors["budget_year"] = "请填写预算年度"
    if errors:
        raise ValidationFailed(details=errors)
    return reference
