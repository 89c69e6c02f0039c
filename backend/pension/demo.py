"""Demo data of retirement pay (issue 18): a profile for every active veteran with a placement date, amounts (base
from central funds, an allowance from local funds, a later raise for some), bank accounts for most (some lack one, so
the payroll lists exceptions), one veteran suspended by registration_overdue and one stopped (re-enlisted)."""

import random
from datetime import date

from sqlalchemy import select

from backend import pii
from backend.extensions import db
from backend.pension import amounts
from backend.pension.accounts import CONTEXT
from backend.pension.models import PayAccount, PayAmount, PayProfile, PayStateEvent
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran

BANKS = [("中国农业银行", "秦川市青山支行"), ("中国工商银行", "秦川市绿水支行"), ("秦川农村商业银行", "城关分理处")]
CATEGORIES = ["一类", "二类", "三类"]


def _month(day):
    return amounts.first_of_month(day)


def load(units, seed=20261118):
    """Called with {unit name: unit} inside the demo transaction."""
    rng = random.Random(seed)
    today = today_cst()
    this_month = _month(today)
    veterans = db.session.scalars(
        select(Veteran).where(Veteran.status == "active", Veteran.placement_date.is_not(None)).order_by(Veteran.id)
    ).all()
    profiles = []
    for index, veteran in enumerate(veterans):
        start = max(veteran.placement_date, date(2018, 1, 1))
        profile = PayProfile(
            veteran_id=veteran.id,
            station_id=veteran.station_id,
            category=CATEGORIES[index % 3],
            state="active",
            state_since=start,
            pay_start_on=start,
        )
        profiles.append(profile)
        db.session.add(profile)
        db.session.add(PayStateEvent(veteran_id=veteran.id, action="start", effective_on=start))
        first = _month(start)
        base = 280_000 + rng.randrange(0, 140) * 1_000  # 2,800–4,190 元
        db.session.add(
            PayAmount(
                veteran_id=veteran.id, component="base", amount_fen=base, funding="central", effective_month=first
            )
        )
        db.session.add(
            PayAmount(
                veteran_id=veteran.id,
                component="allowance",
                amount_fen=30_000 + rng.randrange(0, 7) * 5_000,
                funding="local",
                effective_month=first,
            )
        )
        raise_month = date(today.year, 1, 1)
        if rng.random() < 0.5 and raise_month > first:
            db.session.add(
                PayAmount(
                    veteran_id=veteran.id,
                    component="base",
                    amount_fen=base + 10_000,
                    funding="central",
                    effective_month=raise_month,
                    note="年度调整",
                )
            )
        if index % 7 != 3:  # about one in seven has no account yet: the payroll lists it
            bank, branch = BANKS[index % len(BANKS)]
            number = f"6228{rng.randrange(10**14):014d}"
            db.session.add(
                PayAccount(
                    veteran_id=veteran.id,
                    bank=bank,
                    branch=branch,
                    account_enc=pii.encrypt(number, context=CONTEXT),
                    account_last4=number[-4:],
                    holder_name=veteran.name,
                )
            )
    db.session.flush()
    _demo_states(profiles, this_month)


def _demo_states(profiles, this_month):
    """One veteran suspended for an overdue registration (from April of the last window that closed), one
    stopped (re-enlisted last month)."""
    if len(profiles) < 3:
        return
    overdue_year = this_month.year if this_month.month >= 4 else this_month.year - 1
    suspended, stopped = profiles[1], profiles[2]
    since = date(overdue_year, 4, 1)
    if suspended.pay_start_on < since:
        suspended.state, suspended.state_since, suspended.state_reason = "suspended", since, "registration_overdue"
        db.session.add(
            PayStateEvent(
                veteran_id=suspended.veteran_id,
                action="suspend",
                effective_on=since,
                reason="registration_overdue",
                note=f"{overdue_year}年度确认登记逾期",
            )
        )
    stop_on = amounts.add_months(this_month, -1)
    if stopped.pay_start_on < stop_on:
        stopped.state, stopped.state_since, stopped.state_reason = "stopped", stop_on, "reenlisted"
        db.session.add(
            PayStateEvent(veteran_id=stopped.veteran_id, action="stop", effective_on=stop_on, reason="reenlisted")
        )
