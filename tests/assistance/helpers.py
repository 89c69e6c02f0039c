"""Shared helpers of the assistance tests: a veteran at X1 with a bound account, a case moved to any status."""

from sqlalchemy import func, select

from backend.assistance import service, transitions
from backend.extensions import db
from backend.notifications.models import Delivery, Notification
from tests.factories import create_staff, create_veteran
from tests.registration.helpers import account_for

ORDER = ("submitted", "under_review", "recommended", "approved", "paid", "closed")


def veteran_with_account(world):
    veteran = create_veteran(station=world.x1, grid=world.x1_grid)
    return veteran, account_for(veteran)


def second_approver(world):
    """Another person with assistance.approve in county X (staff_x is the first)."""
    return create_staff(unit=world.x, roles=("center_reviewer",))


def new_case(world, account=None, *, amount_fen=100_000, description="突发重病住院，需要帮助"):
    if account is None:
        _, account = veteran_with_account(world)
    return service.submit_case(
        account=account, category="serious_illness", description=description, requested_amount_fen=amount_fen
    )


def move_to(world, case, status, *, amount_fen=None, paid_on=None):
    """Walk `case` forward to `status` as staff_x (amounts at or below the four-eyes threshold by default)."""
    from backend.registration.windows import today_cst

    actor = world.staff_x
    amount = amount_fen or case.requested_amount_fen or 100_000
    steps = {
        "under_review": lambda: transitions.start_review(actor=actor, case_id=case.id),
        "recommended": lambda: transitions.recommend(actor=actor, case_id=case.id, amount_fen=amount, notes="属实"),
        "approved": lambda: transitions.approve(actor=actor, case_id=case.id, amount_fen=amount),
        "paid": lambda: transitions.pay(
            actor=actor,
            case_id=case.id,
            amount_fen=amount,
            paid_on=paid_on or today_cst(),
            payment_reference="PAY-001",
            funding_source="local",
            budget_year=today_cst().year,
        ),
        "closed": lambda: transitions.close(actor=actor, case_id=case.id, follow_up="已回访，病情好转"),
    }
    for step in ORDER[ORDER.index(case.status) + 1 : ORDER.index(status) + 1]:
        steps[step]()
    return case


def care_deliveries(veteran_id):
    return db.session.scalar(
        select(func.count())
        .select_from(Delivery)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Delivery.veteran_id == veteran_id, Notification.kind == "care")
    )
