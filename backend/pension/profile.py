"""A veteran's pay: the profile (state, category, start), the amounts in force and their history, and the writes that
append an amount or set the category. Every write checks the profile's version the form was rendered at (optimistic
concurrency) and is audited; amounts are appended, never edited (models.PayAmount)."""

from dataclasses import dataclass

from sqlalchemy import select

from backend.audit import service as audit_service
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.pension import amounts, money
from backend.pension.models import COMPONENTS, FUNDING, PayAmount, PayProfile, PayrollLine, PayrollRun
from backend.pension.rules import BadMonth, NotStarted, ProfileChanged, parse_month
from backend.registration.windows import today_cst
from backend.veterans.service import get_veteran

HISTORY_PAGE = 20
CATEGORY_MAX = 20


def profile_of(veteran_id, *, lock=False):
    query = select(PayProfile).where(PayProfile.veteran_id == veteran_id)
    if lock:
        query = query.with_for_update(of=PayProfile)
    return db.session.scalars(query).first()


def locked_profile(actor, veteran_id, expected_version, permission="pension.manage"):
    """(veteran, profile) for a write: the veteran in scope, the profile locked and at the version the form saw.

    :raises PermissionDenied, VeteranNotFound, NotStarted, ProfileChanged
    """
    veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission=permission)
    profile = profile_of(veteran.id, lock=True)
    if profile is None:
        raise NotStarted()
    if expected_version is None or str(expected_version) != str(profile.version_id):
        raise ProfileChanged(details={"version": profile.version_id})
    return veteran, profile


def touch(profile):
    """Bump the profile's version (every write on the veteran's pay does, so a stale form is refused)."""
    profile.updated_at = utcnow()


def this_month(now=None):
    return amounts.first_of_month(today_cst(now))


@dataclass
class PayView:
    veteran: object
    profile: object
    month: object
    components: dict  # {component: (fen, funding)}
    total_fen: int
    history: list
    history_before: int | None
    events: list
    lines: list  # [(PayrollLine, month)]


def pay_view(*, actor, veteran_id, before=None):
    """Everything the pay page shows (pension.view, veteran in scope). :raises PermissionDenied, VeteranNotFound:"""
    veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="pension.view")
    month = this_month()
    components = amounts.components_of(veteran.id, month)
    query = select(PayAmount).where(PayAmount.veteran_id == veteran.id)
    if before:
        query = query.where(PayAmount.id < before)
    history = db.session.scalars(query.order_by(PayAmount.id.desc()).limit(HISTORY_PAGE + 1)).all()
    more = len(history) > HISTORY_PAGE
    history = history[:HISTORY_PAGE]
    return PayView(
        veteran=veteran,
        profile=profile_of(veteran.id),
        month=month,
        components={c: components[c] for c in COMPONENTS if c in components},
        total_fen=sum(fen for fen, _ in components.values()),
        history=history,
        history_before=history[-1].id if more else None,
        events=list(reversed(amounts.state_events(veteran.id))),
        lines=last_lines(veteran.id),
    )


def last_lines(veteran_id, limit=12, *, confirmed_only=False):
    """The veteran's last payroll lines with their run's month, newest first (the phone: confirmed runs only)."""
    query = (
        select(PayrollLine, PayrollRun.month)
        .join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
        .where(PayrollLine.veteran_id == veteran_id)
    )
    if confirmed_only:
        query = query.where(PayrollRun.state == "confirmed")
    return db.session.execute(query.order_by(PayrollLine.id.desc()).limit(limit)).all()


def set_amount(*, actor, veteran_id, expected_version, component, amount, funding, month, note=None):
    """Append a component's amount from `month` (yuan text). The month must be a month not before pay started.

    :raises PermissionDenied, VeteranNotFound, NotStarted, ProfileChanged, BadAmount, BadMonth, ValidationFailed
    """
    fen = money.yuan_to_fen(amount)
    effective = parse_month(month)
    if component not in COMPONENTS or funding not in FUNDING:
        raise BadMonth("请选择退役金项目和资金来源", details={"component": "请选择退役金项目和资金来源"})
    with transaction():
        veteran, profile = locked_profile(actor, veteran_id, expected_version)
        if profile.pay_start_on is None or effective < amounts.first_of_month(profile.pay_start_on):
            raise BadMonth(details={"month": f"生效月份不得早于起发月份（{profile.pay_start_on:%Y-%m}）"})
        row = PayAmount(
            veteran_id=veteran.id,
            component=component,
            amount_fen=fen,
            funding=funding,
            effective_month=effective,
            note=(note or "").strip()[:200] or None,
            created_by_id=actor.id,
        )
        db.session.add(row)
        touch(profile)
        db.session.flush()
        audit_service.record(
            actor=actor,
            action="pension.amount_set",
            object_type="veteran",
            object_id=veteran.id,
            details={"component": component, "fen": fen, "funding": funding, "month": effective.isoformat()},
        )
    return row


def set_category(*, actor, veteran_id, expected_version, category):
    """Set the department's category that table adjustments read. :raises ...NotStarted, ProfileChanged:"""
    category = (category or "").strip()[:CATEGORY_MAX] or None
    with transaction():
        veteran, profile = locked_profile(actor, veteran_id, expected_version)
        before = profile.category
        profile.category = category
        touch(profile)
        audit_service.record(
            actor=actor,
            action="pension.category_set",
            object_type="veteran",
            object_id=veteran.id,
            details={"from": before, "to": category},
        )
    return profile
