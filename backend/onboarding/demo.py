"""Demo data of onboarding (issue 17): three cases at 青山镇 so `make run` shows the one-stop screen with data — a party
member half-way (transfer and check-in done, household registration being coordinated with the police), a non-member
whose steps are overdue, and a closed case whose onboarding date shows on the veteran's page."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from backend.extensions import db
from backend.onboarding.models import STEPS, OnboardingCase, OnboardingEvent, OnboardingStep
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran

STATION = "青山镇退役军人服务站"


def _case(veteran, staff, arrived_on, number, done=(), working=()):
    days = current_app.config["ONBOARDING_STEP_DUE_DAYS"]
    case = OnboardingCase(
        veteran_id=veteran.id,
        station_id=veteran.station_id,
        notice_number=number,
        notice_date=arrived_on - timedelta(days=10),
        arrived_on=arrived_on,
        party_member=bool(veteran.party_member),
        opened_by_id=staff.id,
    )
    db.session.add(case)
    db.session.flush()
    db.session.add(OnboardingEvent(case_id=case.id, action="opened", staff_id=staff.id))
    for offset, code in enumerate(STEPS):
        applies = code != "party_transfer" or case.party_member
        state = "done" if code in done else "in_progress" if code in working else "pending"
        item = OnboardingStep(
            case_id=case.id,
            station_id=case.station_id,
            step=code,
            required=applies,
            state=state if applies else "not_applicable",
            due_on=arrived_on + timedelta(days=days[code]) if applies else None,
            done_on=arrived_on + timedelta(days=offset) if applies and state == "done" else None,
            handler_id=staff.id if applies and state != "pending" else None,
        )
        if code == "hukou" and state == "in_progress":
            item.contact_party, item.contacted_on = "青山派出所户籍窗口 李警官", arrived_on + timedelta(days=3)
            item.coordination_result = "材料已齐，户口迁入审批中，预计一周内办结"
        db.session.add(item)
        if applies and state != "pending":
            db.session.add(
                OnboardingEvent(case_id=case.id, step=code, action="state", from_state="pending", to_state=state)
            )
    return case


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
    station = units.get(STATION)
    staff = db.session.scalars(select(Staff).where(Staff.username == "station")).first()
    if station is None or staff is None:
        return
    veterans = db.session.scalars(
        select(Veteran).where(Veteran.station_id == station.id).order_by(Veteran.id.desc()).limit(40)
    ).all()
    members = [v for v in veterans if v.party_member]
    others = [v for v in veterans if not v.party_member]
    if len(members) < 2 or not others:
        return
    today = today_cst()
    _case(
        members[0],
        staff,
        today - timedelta(days=12),
        "青安置〔2026〕031号",
        done=("party_transfer", "check_in", "bank_account"),
        working=("hukou", "social_insurance"),
    )
    _case(others[0], staff, today - timedelta(days=45), "青安置〔2026〕027号", done=("check_in",))
    closed = _case(members[1], staff, today - timedelta(days=120), "青安置〔2026〕009号", done=STEPS)
    closed.status, closed.closed_on, closed.closed_by_id = "closed", today - timedelta(days=70), staff.id
    closed.summary = "各项接收安置手续已办结，本人已按月领取退役金，已纳入网格常态化联系。"
    db.session.add(OnboardingEvent(case_id=closed.id, action="closed", staff_id=staff.id))
    db.session.flush()
