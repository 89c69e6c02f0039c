"""Helpers of the adjustment batch tests (issue 18, part 2): paid veterans with amounts, a second checker, batches."""

from datetime import date

from backend.db import transaction
from backend.extensions import db
from backend.pension import adjust_preview, adjustments
from backend.pension.amounts import add_months, first_of_month
from backend.pension.models import PayAmount, PayProfile
from backend.registration.windows import today_cst
from tests.factories import create_staff, create_veteran


def this_month():
    return first_of_month(today_cst())


def month_text(offset=0):
    return add_months(this_month(), offset).strftime("%Y-%m")


def paid_veteran(
    station, *, fen=300_000, component="base", category=None, state="active", funding="central", since=None, name=None
):
    """A veteran of `station` with a pay profile and one amount row of `component` from `since` (a year ago)."""
    veteran = create_veteran(station=station, name=name)
    since = since or add_months(this_month(), -12)
    with transaction():
        db.session.add(
            PayProfile(
                veteran_id=veteran.id,
                station_id=station.id,
                category=category,
                state=state,
                state_since=since,
                pay_start_on=since,
            )
        )
        if fen is not None:
            db.session.add(
                PayAmount(
                    veteran_id=veteran.id, component=component, amount_fen=fen, funding=funding, effective_month=since
                )
            )
    return veteran


def set_amount(veteran, fen, *, component="base", month=None, funding="central"):
    with transaction():
        row = PayAmount(
            veteran_id=veteran.id,
            component=component,
            amount_fen=fen,
            funding=funding,
            effective_month=month or this_month(),
        )
        db.session.add(row)
    return row


def checker(world, unit=None):
    """Another center reviewer (pension.batch and pension.approve) at unit X (or `unit`)."""
    return create_staff(unit=unit or world.x, roles=("center_reviewer",))


def new_batch(
    actor,
    *,
    rule="percent",
    params=None,
    component="base",
    month=None,
    unit=None,
    unit_ids=(),
    categories=(),
    funding="central",
    title="2026年退役金调整",
    doc_ref="退役军人部发〔2026〕1号",
    preview=True,
):
    batch = adjustments.create_batch(
        actor=actor,
        title=title,
        doc_ref=doc_ref,
        rule=rule,
        params=params if params is not None else {"percent": "3.5"},
        component=component,
        effective_month=month or this_month(),
        unit_id=(unit.id if unit else actor.org_unit_id),
        unit_ids=[u.id for u in unit_ids],
        categories=categories,
        funding=funding,
    )
    return adjust_preview.preview(actor=actor, batch_id=batch.id) if preview else batch


def lines_of(batch):
    from sqlalchemy import select

    from backend.pension.models import AdjustmentLine

    rows = db.session.scalars(select(AdjustmentLine).where(AdjustmentLine.batch_id == batch.id)).all()
    return {row.veteran_id: (row.old_fen, row.new_fen) for row in rows}


def first_day(year, month):
    return date(year, month, 1)
