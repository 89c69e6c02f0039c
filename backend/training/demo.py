"""Demo data of Staff training and responsible persons (Art. 20, 21) (issue 19): responsible offices for the centers,
a person for all but one station (flagged), and a few sessions this year with the demo staff attending."""

from datetime import date

from sqlalchemy import select

from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.training.models import TrainingAttendance, TrainingSession, UnitResponsible

OFFICES = {"province": "优抚处", "city": "优抚科", "county": "优抚股"}


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
    staff = db.session.scalars(select(Staff).order_by(Staff.id)).all()
    if not staff:
        return
    by_unit = {}
    for s in staff:
        by_unit.setdefault(s.org_unit_id, []).append(s)
    stations = sorted((u for u in units.values() if u.level == "station"), key=lambda u: u.path)
    for unit in units.values():
        if unit.level in OFFICES:
            head = (by_unit.get(unit.id) or [None])[0]
            db.session.add(
                UnitResponsible(unit_id=unit.id, office=OFFICES[unit.level], staff_id=head.id if head else None)
            )
    for unit in stations[:-1]:  # the last station names nobody: the org tree flags it
        person = (by_unit.get(unit.id) or [None])[0]
        db.session.add(
            UnitResponsible(
                unit_id=unit.id, staff_id=person.id if person else None, person_name=None if person else "张专干"
            )
        )
    year = today_cst().year
    county = next((u for u in units.values() if u.level == "county"), None)
    if county is None:
        return
    subtree = db.session.scalars(
        select(Staff.id).join(OrgUnit, OrgUnit.id == Staff.org_unit_id).where(OrgUnit.path.startswith(county.path))
    ).all()
    for kind, topic, day, tenths in (
        ("political", "学习贯彻《逐月领取退役金退役军人服务管理规定》", date(year, 1, 15), 30),
        ("business", "年度确认审核业务培训", date(year, 1, 20), 35),
        ("drill", "窗口服务岗位练兵", date(year, 1, 25), 20),
    ):
        session = TrainingSession(
            unit_id=county.id, kind=kind, topic=topic, held_on=day, hours_tenths=tenths, created_by_id=staff[0].id
        )
        db.session.add(session)
        db.session.flush()
        for index, staff_id in enumerate(subtree):
            result = "absent" if index == 1 and kind == "drill" else ("excellent" if index == 0 else "pass")
            db.session.add(TrainingAttendance(session_id=session.id, staff_id=staff_id, result=result))
