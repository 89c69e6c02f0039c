"""Pay states: start, suspend, stop, resume (with back pay), by hand (pension.manage) or by rule.

Each step appends a PayStateEvent (the dates back pay and payroll read) and moves PayProfile.state. A resume with back
pay owes the suspended months no payroll line paid (up to the newest run that held the veteran at 0, at least last
month: _back_pay_months), stored in back_pay_fen (the next payroll run pays it and sets paid_in_run_id); its event is
effective from the month after those months, so later runs pay the rest normally and never a month twice. A resume
without back pay starts again from the date given.

The automatic rule registration_overdue: suspend_overdue(year) suspends, set-based, the active pay of veterans whose
registration of `year` is overdue (called at the end of registration.jobs.mark_overdue, isolated: a failure is logged
and audited), from the current month at the earliest, recording the year on the event; on_registration_approved
(called when that year's registration is approved) resumes it with back pay.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, insert, select, update

from backend.audit import service as audit_service
from backend.audit.service import SystemActor
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.pension import amounts
from backend.pension.models import PayProfile, PayrollLine, PayrollRun, PayRule, PayStateEvent
from backend.pension.payroll_owed import DEAD, MONTH_FEN
from backend.pension.profile import locked_profile, profile_of, this_month, touch
from backend.pension.rules import InvalidState, ProfileChanged, choose_reason
from backend.registration.models import Registration
from backend.registration.windows import today_cst, unit_windows
from backend.veterans.models import Veteran
from backend.veterans.service import get_veteran

logger = logging.getLogger(__name__)
OVERDUE = "registration_overdue"
BATCH = 1000
SYSTEM = SystemActor()


def _last_event_day(veteran_id):
    return db.session.scalar(
        select(PayStateEvent.effective_on)
        .where(PayStateEvent.veteran_id == veteran_id)
        .order_by(PayStateEvent.effective_on.desc(), PayStateEvent.id.desc())
        .limit(1)
    )


def _not_before_last(veteran_id, day):
    last = _last_event_day(veteran_id)
    if last is not None and day < last:
        raise InvalidState(
            f"生效日期不得早于上一次状态变更的生效日期（{last.isoformat()}）",
            details={"effective_on": last.isoformat()},
        )


def _event(veteran_id, action, day, *, reason=None, note=None, back_pay_fen=None, staff_id=None):
    event = PayStateEvent(
        veteran_id=veteran_id,
        action=action,
        effective_on=day,
        reason=reason,
        note=note,
        back_pay_fen=back_pay_fen,
        staff_id=staff_id,
    )
    db.session.add(event)
    return event


def start(*, actor, veteran_id, start_on=None, category=None):
    """Start pay (creating the profile if missing) from `start_on`, by default the veteran's placement date.

    :raises PermissionDenied, VeteranNotFound, InvalidState, ValidationFailed
    """
    from backend.errors import ValidationFailed

    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="pension.manage", lock=True)
        start_on = start_on or veteran.placement_date
        if start_on is None:
            raise ValidationFailed("请填写起发日期（该退役军人未登记安置日期）", details={"start_on": "请填写起发日期"})
        profile = profile_of(veteran.id, lock=True)
        if profile is None:
            profile = PayProfile(veteran_id=veteran.id, station_id=veteran.station_id, state="pending")
            db.session.add(profile)
        elif profile.state != "pending":
            raise InvalidState(details={"state": profile.state})
        profile.state, profile.state_since, profile.pay_start_on = "active", start_on, start_on
        profile.state_reason = profile.state_note = None
        profile.category = (category or "").strip()[:20] or profile.category
        _event(veteran.id, "start", start_on, staff_id=actor.id)
        audit_service.record(
            actor=actor,
            action="pension.started",
            object_type="veteran",
            object_id=veteran.id,
            details={"start_on": start_on.isoformat()},
        )
    return profile


def change(*, actor, veteran_id, expected_version, action, reason, note=None, effective_on):
    """Suspend (from active) or stop (from active or suspended) with a rule's reason or manual with a note.

    :raises PermissionDenied, VeteranNotFound, NotStarted, ProfileChanged, InvalidState, BadReason
    """
    if action not in ("suspend", "stop"):
        raise InvalidState(details={"action": action})
    reason, note, _rule = choose_reason(action, reason, note)
    with transaction():
        veteran, profile = locked_profile(actor, veteran_id, expected_version)
        allowed = ("active",) if action == "suspend" else ("active", "suspended")
        if profile.state not in allowed:
            raise InvalidState(details={"state": profile.state})
        _not_before_last(veteran.id, effective_on)
        _event(veteran.id, action, effective_on, reason=reason, note=note, staff_id=actor.id)
        before = profile.state
        profile.state = "suspended" if action == "suspend" else "stopped"
        profile.state_since, profile.state_reason, profile.state_note = effective_on, reason, note
        touch(profile)
        details = {"from": before, "reason": reason, "effective_on": effective_on.isoformat()}
        if action == "suspend":
            audit_service.record(
                actor=actor, action="pension.suspended", object_type="veteran", object_id=veteran.id, details=details
            )
        else:
            audit_service.record(
                actor=actor, action="pension.stopped", object_type="veteran", object_id=veteran.id, details=details
            )
    return profile


def _back_pay_months(profile, now=None):
    """(months owed, horizon): the suspended months from the suspension's month up to the horizon — the later of last
    month and the newest month of a live run holding a line of the veteran (held at 0 while suspended) — less every
    month a line of a live run already pays a monthly amount for (a suspension recorded after its month was paid)."""
    since = amounts.first_of_month(profile.state_since)
    of_veteran = (
        select(PayrollRun.month)
        .join(PayrollLine, PayrollLine.run_id == PayrollRun.id)
        .where(PayrollLine.veteran_id == profile.veteran_id, PayrollRun.state.not_in(DEAD), PayrollRun.month >= since)
    )
    newest = db.session.scalar(of_veteran.with_only_columns(func.max(PayrollRun.month)))
    horizon = max(amounts.add_months(this_month(now), -1), newest or since)
    paid = set(db.session.scalars(of_veteran.where(MONTH_FEN > 0)))
    return [m for m in amounts.months_between(since, amounts.add_months(horizon, 1)) if m not in paid], horizon


def _plan(profile, back_pay, effective_on, now=None):
    """What a resume would do: {"effective_on", "months", "back_pay_fen", "capped"}. With back pay: the months
    _back_pay_months owes (at most PENSION_BACK_PAY_MONTHS) are paid as back pay at today's amounts, and pay resumes
    from the month after the horizon — so a run of a month the back pay covers (even one started later) holds it at
    0, and every later month is paid by its own run."""
    if not back_pay:
        if effective_on is None or effective_on < profile.state_since:
            raise InvalidState(
                f"恢复日期不得早于暂停日期（{profile.state_since.isoformat()}）",
                details={"effective_on": profile.state_since.isoformat()},
            )
        return {"effective_on": effective_on, "months": [], "back_pay_fen": 0, "capped": False}
    months, horizon = _back_pay_months(profile, now)
    limit = current_app.config.get("PENSION_BACK_PAY_MONTHS", 36)
    capped = len(months) > limit
    months = months[-limit:] if limit else []
    due = amounts.due_by_month(amounts.history_rows(profile.veteran_id), months)
    owed = sum(fen for month in months for fen, _ in due[month].values())
    resume_on = max(amounts.add_months(horizon, 1), profile.state_since)
    return {"effective_on": resume_on, "months": months, "back_pay_fen": owed, "capped": capped}


def resume_preview(*, actor, veteran_id, back_pay=True, effective_on=None):
    """(veteran, profile, plan) before confirming a resume. :raises ..., InvalidState:"""
    veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="pension.manage")
    profile = profile_of(veteran.id)
    if profile is None or profile.state != "suspended":
        raise InvalidState(details={"state": profile.state if profile else "pending"})
    return veteran, profile, _plan(profile, back_pay, effective_on)


def _resume(profile, *, plan, note, staff_id):
    event = _event(
        profile.veteran_id,
        "resume",
        plan["effective_on"],
        reason=profile.state_reason,
        note=note,
        back_pay_fen=plan["back_pay_fen"] or None,
        staff_id=staff_id,
    )
    profile.state, profile.state_since, profile.state_reason, profile.state_note = (
        "active",
        plan["effective_on"],
        None,
        None,
    )
    touch(profile)
    return event


def resume(
    *, actor, veteran_id, expected_version, back_pay=True, effective_on=None, expected_back_pay_fen=None, note=None
):
    """Resume suspended pay, with the back pay the preview showed (a different figure now is refused as stale).

    :raises PermissionDenied, VeteranNotFound, NotStarted, ProfileChanged, InvalidState
    """
    with transaction():
        veteran, profile = locked_profile(actor, veteran_id, expected_version)
        if profile.state != "suspended":
            raise InvalidState(details={"state": profile.state})
        plan = _plan(profile, back_pay, effective_on)
        if expected_back_pay_fen is not None and expected_back_pay_fen != plan["back_pay_fen"]:
            raise ProfileChanged(details={"back_pay_fen": plan["back_pay_fen"]})
        reason = profile.state_reason
        event = _resume(profile, plan=plan, note=(note or "").strip()[:300] or None, staff_id=actor.id)
        audit_service.record(
            actor=actor,
            action="pension.resumed",
            object_type="veteran",
            object_id=veteran.id,
            details={
                "reason": reason,
                "effective_on": plan["effective_on"].isoformat(),
                "back_pay_fen": plan["back_pay_fen"],
                "months": len(plan["months"]),
            },
        )
    return event


def on_registration_approved(veteran_id, year, actor):
    """Hook of registration approval (inside its transaction): pay suspended by registration_overdue of that same
    `year` is resumed with back pay. A no-op for anyone else (approving an older year lifts nothing)."""
    profile = profile_of(veteran_id, lock=True)
    if profile is None or profile.state != "suspended" or profile.state_reason != OVERDUE:
        return None
    suspended_for = db.session.scalar(
        select(PayStateEvent.registration_year)
        .where(PayStateEvent.veteran_id == veteran_id, PayStateEvent.action == "suspend")
        .order_by(PayStateEvent.effective_on.desc(), PayStateEvent.id.desc())
        .limit(1)
    )
    if suspended_for != year:
        return None
    plan = _plan(profile, True, None)
    staff_id = actor.id if getattr(actor, "actor_type", None) == "staff" else None
    event = _resume(profile, plan=plan, note=f"{year}年度确认登记审核通过", staff_id=staff_id)
    audit_service.record(
        actor=actor,
        action="pension.resumed",
        object_type="veteran",
        object_id=veteran_id,
        details={"reason": OVERDUE, "year": year, "back_pay_fen": plan["back_pay_fen"], "months": len(plan["months"])},
    )
    return event


def _due_groups(year, grace_days, today):
    """{effective date: [unit ids]} for the units whose window of `year` closed more than grace_days ago: the
    suspension takes effect the first day of the month after close + grace, but never before the current month (a
    job run late does not suspend months already paid)."""
    groups, current = {}, amounts.first_of_month(today)
    for unit_id, window in unit_windows(year).items():
        due = window.closes_on + timedelta(days=grace_days)
        if today > due:
            effective = max(amounts.add_months(amounts.first_of_month(due), 1), current)
            groups.setdefault(effective, []).append(unit_id)
    return groups


def suspend_overdue_safely(year, *, now=None):
    """suspend_overdue for registration.jobs.mark_overdue: a failure is logged and audited, never raised (the
    registration marks are committed already). Returns how many were suspended (None on failure)."""
    try:
        return suspend_overdue(year, now=now)
    except Exception as error:  # noqa: BLE001 - the registration job must finish; the cause is logged by type
        db.session.rollback()
        logger.error("pension suspend_overdue(%s) failed: %s", year, type(error).__name__)
        audit_service.record_now(
            actor=SYSTEM,
            action="pension.auto_suspend_failed",
            result="failure",
            object_type="veteran",
            details={"year": year, "error": type(error).__name__},
        )
        return None


def suspend_overdue(year, *, now=None):
    """The automatic rule registration_overdue, set-based: active pay of active veterans whose `year` registration
    is overdue is suspended, BATCH veterans per transaction (UPDATE … RETURNING, then one INSERT of their events and
    one audit row per batch). Idempotent; nothing when the rule is disabled. Returns how many were suspended."""
    rule = db.session.get(PayRule, OVERDUE)
    if rule is None or not rule.enabled:
        return 0
    grace = int((rule.params or {}).get("grace_days") or 0)
    total = 0
    for effective, unit_ids in sorted(_due_groups(year, grace, today_cst(now)).items()):
        total += _suspend_group(year, effective, sorted(unit_ids))
    return total


def _suspend_group(year, effective, unit_ids):
    profile, reg, vet = PayProfile.__table__, Registration.__table__, Veteran.__table__
    done, last = 0, 0
    while True:
        with transaction():
            picked = (
                select(profile.c.veteran_id)
                .join(vet, vet.c.id == profile.c.veteran_id)
                .join(reg, (reg.c.veteran_id == profile.c.veteran_id) & (reg.c.year == year))
                .where(
                    profile.c.veteran_id > last,
                    profile.c.state == "active",
                    profile.c.pay_start_on < effective,
                    reg.c.status == "overdue",
                    vet.c.status == "active",
                    vet.c.unit_id.in_(unit_ids),
                )
                .order_by(profile.c.veteran_id)
                .limit(BATCH)
            )
            ids = sorted(
                db.session.execute(
                    update(profile)
                    .where(profile.c.veteran_id.in_(picked.scalar_subquery()), profile.c.state == "active")
                    .values(
                        state="suspended",
                        state_since=effective,
                        state_reason=OVERDUE,
                        state_note=None,
                        updated_at=utcnow(),
                        version_id=profile.c.version_id + 1,
                    )
                    .returning(profile.c.veteran_id)
                ).scalars()
            )
            if ids:
                db.session.execute(
                    insert(PayStateEvent.__table__),
                    [
                        {
                            "veteran_id": i,
                            "action": "suspend",
                            "effective_on": effective,
                            "reason": OVERDUE,
                            "note": f"{year}年度确认登记逾期",
                            "registration_year": year,
                            "created_at": utcnow(),
                        }
                        for i in ids
                    ],
                )
                audit_service.record(
                    actor=SYSTEM,
                    action="pension.auto_suspended",
                    object_type="veteran",
                    details={
                        "year": year,
                        "count": len(ids),
                        "effective_on": effective.isoformat(),
                        "first_id": ids[0],
                        "last_id": ids[-1],
                    },
                )
        if not ids:
            return done
        done += len(ids)
        last = ids[-1]
