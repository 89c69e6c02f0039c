"""Demo data of Party members (Art. 6) (issue 19): a branch per station, a membership for every demo veteran marked
as a party member (Veteran.party_member stays in step), last year's evaluation for most of them, one open inbound
transfer."""

import random
from datetime import date

from sqlalchemy import select

from backend.extensions import db
from backend.party.models import PartyBranch, PartyEvaluation, PartyMembership, PartyTransfer
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
    rng = random.Random(19)
    staff_id = db.session.scalar(select(Staff.id).order_by(Staff.id))
    if staff_id is None:
        return
    branches = {}
    for unit in units.values():
        if unit.level == "station":
            branch = PartyBranch(
                unit_id=unit.id, name=f"{unit.name.removesuffix('退役军人服务站')}退役军人党支部", secretary="王书记"
            )
            db.session.add(branch)
            branches[unit.id] = branch
    db.session.flush()
    last_year = today_cst().year - 1
    members = db.session.scalars(select(Veteran).where(Veteran.party_member.is_(True)).order_by(Veteran.id)).all()
    for index, veteran in enumerate(members):
        branch = branches.get(veteran.station_id)
        status = "probationary" if rng.random() < 0.1 else "full"
        db.session.add(
            PartyMembership(
                veteran_id=veteran.id,
                station_id=veteran.station_id,
                status=status,
                branch_id=branch.id if branch and index else None,  # the first one waits for its transfer
                joined_on=date(rng.randint(1995, 2018), rng.randint(1, 12), 1),
                updated_by_id=staff_id,
            )
        )
        if index == 0:
            db.session.add(
                PartyTransfer(
                    veteran_id=veteran.id,
                    station_id=veteran.station_id,
                    direction="in",
                    counterpart="原部队党委",
                    branch_id=branch.id if branch else None,
                    letter_number="转字第001号",
                    started_on=today_cst(),
                    recorded_by_id=staff_id,
                )
            )
        elif rng.random() < 0.8:
            db.session.add(
                PartyEvaluation(
                    veteran_id=veteran.id,
                    station_id=veteran.station_id,
                    year=last_year,
                    branch_id=branch.id if branch else None,
                    life="good",
                    dues=rng.choice(("good", "good", "fair")),
                    conduct="good",
                    overall=rng.choice(("excellent", "qualified", "qualified")),
                    opinion="按时参加组织生活，按期足额缴纳党费，日常表现良好。",
                    recorded_by_id=staff_id,
                )
            )
