"""Center reviewers: approve, return with a reason per section, flag a concern and its talk, bulk approve.

Two reviewers acting on one submission at once: the row is locked and the version the reviewer saw is compared, so
exactly one wins and the other gets registration.changed (409). The bulk path writes the version predicate into
its conditional UPDATE and checks the row count.
"""

from datetime import datetime

from sqlalchemy import select, update

from backend import denials
from backend.db import transaction, utcnow
from backend.employment.registration import on_approved as employment_on_approved
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.inbox.service import post_message
from backend.names import clean_name
from backend.orgs.scope import get_scoped, require_permission, subtree_unit_ids
from backend.pension import states as pension_states  # issue 18
from backend.registration.content import SECTIONS
from backend.registration.models import Registration, Talk
from backend.registration.service import RegistrationNotFound, timeline
from backend.registration.windows import CST
from backend.veterans.models import Veteran


class RegistrationChanged(RuleViolation):
    code = "registration.changed"
    message = "该登记已被他人处理或已更新，请刷新后查看"


class TalkNotFound(NotFound):
    code = "registration.talk_not_found"
    message = "未找到该约谈"


def get_for_staff(*, actor, registration_id, permission="registration.view", lock=False):
    require_permission(actor, permission)
    return get_scoped(
        Registration,
        registration_id,
        actor=actor,
        unit_column=Registration.unit_id,
        not_found=RegistrationNotFound,
        lock=lock,
    )


def _locked_submitted(actor, registration_id, expected_version):
    reg = get_for_staff(actor=actor, registration_id=registration_id, permission="registration.review", lock=True)
    if reg.version_id != int(expected_version) or reg.status != "submitted":
        raise RegistrationChanged(details={"status": reg.status})
    return reg


def _approved_side_effects(reg, actor, channel="portal"):
    veteran = db.session.get(Veteran, reg.veteran_id)
    veteran.benefits_year = max(veteran.benefits_year or 0, reg.year)
    employment_on_approved(reg, veteran, actor)  # issue 19: the approved employment answer updates the record
    timeline(reg, actor=actor, action="approved", channel=channel)
    pension_states.on_registration_approved(reg.veteran_id, reg.year, actor)  # issue 18: lift an overdue suspension
    post_message(
        veteran_id=reg.veteran_id,
        kind="registration.approved",
        title=f"{reg.year}年度确认登记已通过",
        body="您的年度确认登记已审核通过，相关待遇按规定落实。",
        link="pages/registration/index",
        values={"结果": "已通过"},
        sender_unit_id=actor.org_unit_id,
    )


def approve(*, actor, registration_id, expected_version):
    """Approve a submission the reviewer saw at `expected_version`. :raises RegistrationChanged, ...:"""
    with transaction():
        reg = _locked_submitted(actor, registration_id, expected_version)
        reg.status, reg.decided_at, reg.reviewer_id = "approved", utcnow(), actor.id
        db.session.flush()
        _approved_side_effects(reg, actor)
    return reg


def return_for_correction(*, actor, registration_id, expected_version, reasons):
    """Return a submission with a reason per section; the veteran is told at once (inbox).

    :raises ValidationFailed (no reasons, unknown section), RegistrationChanged
    """
    reasons = {k: clean_name(v)[:300] for k, v in (reasons or {}).items() if clean_name(v)}
    if not reasons or any(k not in SECTIONS for k in reasons):
        raise ValidationFailed("请至少为一个登记项填写退回原因", details={"reasons": "请至少为一个登记项填写退回原因"})
    with transaction():
        reg = _locked_submitted(actor, registration_id, expected_version)
        reg.status, reg.return_reasons, reg.decided_at, reg.reviewer_id = "returned", reasons, utcnow(), actor.id
        db.session.flush()
        timeline(reg, actor=actor, action="returned", channel="portal", details={"sections": sorted(reasons)})
        body = "；".join(f"{SECTIONS[k]}：{v}" for k, v in reasons.items())
        post_message(
            veteran_id=reg.veteran_id,
            kind="registration.returned",
            title=f"{reg.year}年度确认登记需补正",
            body=f"请按以下意见修改后重新提交。{body}",
            link="pages/registration/index",
            values={"结果": "需补正"},
            sender_unit_id=actor.org_unit_id,
        )
    return reg


def flag_concern(*, actor, registration_id, concern, scheduled_at, place):
    """Flag a concern (苗头性问题) and schedule a talk (约谈), whatever the decision. Returns the Talk."""
    concern, place = clean_name(concern), clean_name(place)
    errors = {}
    if not concern:
        errors["concern"] = "请填写关注事项"
    if not place:
        errors["place"] = "请填写约谈地点"
    if not isinstance(scheduled_at, datetime) or scheduled_at.tzinfo is None or scheduled_at < utcnow():
        errors["scheduled_at"] = "请选择今后的约谈时间"
    if errors:
        raise ValidationFailed(details=errors)
    with transaction():
        reg = get_for_staff(actor=actor, registration_id=registration_id, permission="registration.review", lock=True)
        if reg.status == "draft":
            raise RegistrationChanged(details={"status": reg.status})
        reg.flagged = True
        talk = Talk(
            registration_id=reg.id,
            concern=concern[:1000],
            scheduled_at=scheduled_at,
            place=place[:100],
            created_by_id=actor.id,
        )
        db.session.add(talk)
        db.session.flush()
        timeline(reg, actor=actor, action="flagged", channel="portal", details={"talk_id": talk.id})
        when = scheduled_at.astimezone(CST)
        post_message(
            veteran_id=reg.veteran_id,
            kind="registration.talk",
            title="约谈通知",
            body=f"请于{when:%Y年%m月%d日 %H:%M}到{talk.place}参加约谈。如有困难请联系服务站。",
            link="pages/inbox/index",
            values={"结果": "待约谈", "约谈日期": f"{when:%Y年%m月%d日 %H:%M}"},
            sender_unit_id=actor.org_unit_id,
        )
    return talk


def get_talk(*, actor, talk_id, lock=False):
    """A talk whose registration is in the actor's scope. :raises TalkNotFound:"""
    query = select(Talk).where(Talk.id == int(talk_id))
    talk = db.session.scalars(query.with_for_update(of=Talk) if lock else query).first()
    if talk is None:
        raise TalkNotFound()
    try:
        get_for_staff(actor=actor, registration_id=talk.registration_id)
    except RegistrationNotFound:
        raise denials.mark(TalkNotFound(), object_type="talk", object_id=talk.id) from None
    return talk


def record_talk(*, actor, talk_id, outcome, held=True):
    """Record that a talk was held (with its outcome) or cancelled."""
    outcome = clean_name(outcome)
    if held and not outcome:
        raise ValidationFailed(details={"outcome": "请填写约谈情况"})
    with transaction():
        talk = get_talk(actor=actor, talk_id=talk_id, lock=True)
        reg = get_for_staff(actor=actor, registration_id=talk.registration_id, permission="registration.review")
        if talk.status != "scheduled":
            raise RegistrationChanged(details={"talk": talk.status})
        talk.status, talk.outcome, talk.recorded_by_id = ("held" if held else "cancelled"), outcome[:2000], actor.id
        timeline(
            reg,
            actor=actor,
            action="talk_held" if held else "talk_cancelled",
            channel="portal",
            details={"talk_id": talk.id},
        )
    return talk


def list_talks(*, actor, registration_id):
    reg = get_for_staff(actor=actor, registration_id=registration_id)
    return db.session.scalars(select(Talk).where(Talk.registration_id == reg.id).order_by(Talk.id)).all()


def bulk_approve(*, actor, items):
    """Approve many submissions, each at the version the reviewer saw. Returns (approved_ids, changed_ids)."""
    require_permission(actor, "registration.review")
    approved, changed = [], []
    with transaction():
        for registration_id, version in items:
            result = db.session.execute(
                update(Registration)
                .where(
                    Registration.id == registration_id,
                    Registration.version_id == version,
                    Registration.status == "submitted",
                    Registration.unit_id.in_(subtree_unit_ids(actor)),
                )
                .values(status="approved", version_id=version + 1, decided_at=utcnow(), reviewer_id=actor.id)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                changed.append(registration_id)
                continue
            reg = db.session.get(Registration, registration_id)
            db.session.refresh(reg)
            _approved_side_effects(reg, actor)
            approved.append(registration_id)
    return approved, changed
