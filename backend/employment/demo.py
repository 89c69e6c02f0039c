"""Demo data of Employment and entrepreneurship (Art. 13, 18) (issue 19): a current record for most demo veterans
across the statuses (an earlier closed one for some), employers' liaisons with sealed phones, support with outcomes,
and a few civic roles with activities. Seeded, repeatable."""

import random
from datetime import date, timedelta

from sqlalchemy import select

from backend import pii
from backend.employment.models import CivicActivity, CivicRole, EmploymentRecord, EmploymentSupport
from backend.employment.service import LIAISON_CONTEXT
from backend.extensions import db
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran

EMPLOYERS = [
    ("秦川市公交集团", "驾驶员"),
    ("青山县应急管理局", "安全员"),
    ("江宁物流有限公司", "仓储主管"),
    ("绿水区物业公司", "保安队长"),
]
BUSINESSES = ["老兵农家乐", "青山镇快递驿站", "退役军人汽修店"]
WISHES = ["希望从事安保或驾驶工作", "有意自主创业，需要贷款支持", "希望参加职业技能培训"]
SUPPORTS = [
    ("referral", "推荐至秦川市公交集团应聘驾驶员", None),
    ("training", "退役军人电工职业技能培训（40学时）", None),
    ("loan", "退役军人创业担保贷款", 20_000_000),
    ("subsidy", "一次性创业补贴", 500_000),
    ("incubation", "入驻退役军人创业孵化基地", None),
]
ROLES = [
    ("grassroots", "村（社区）两委委员", "青山镇东村村委会", "参加村务监督会议"),
    ("border", "护边员", "边境管理大队", "边境巡逻"),
    ("defence_education", "国防教育宣讲员", "青山县人武部", "走进中学讲国防"),
    ("volunteer", "志愿者", "退役军人志愿服务队", "敬老院志愿服务"),
]


def load(units, seed=19013):
    """Called with {unit name: unit} inside the demo transaction."""
    staff_id = db.session.scalar(select(Staff.id).order_by(Staff.id))
    if staff_id is None:
        return
    rng, today = random.Random(seed), today_cst()
    veterans = db.session.scalars(select(Veteran).order_by(Veteran.id)).all()
    for index, veteran in enumerate(veterans):
        if rng.random() < 0.1:
            continue  # no record yet: the registration or staff will add one
        since = date(rng.randint(2012, 2024), rng.randint(1, 12), 1)
        if rng.random() < 0.3:
            _record(veteran, staff_id, "unemployed", since=since - timedelta(days=900), until=since)
        status = rng.choices(["employed", "self_employed", "unemployed", "retired"], [55, 15, 20, 10])[0]
        record = _record(veteran, staff_id, status, since=since)
        if status == "employed":
            record.employer, record.position = rng.choice(EMPLOYERS)
            record.liaison_name = rng.choice(("张经理", "刘主任", "陈科长"))
            phone = f"139{rng.randrange(10**8):08d}"
            record.liaison_phone_enc = pii.encrypt(phone, context=LIAISON_CONTEXT)
        elif status == "self_employed":
            record.employer = rng.choice(BUSINESSES)
        elif status == "unemployed":
            record.wishes = rng.choice(WISHES)
        if status in ("unemployed", "self_employed") and rng.random() < 0.6:
            kind, detail, amount = rng.choice(SUPPORTS)
            outcome = rng.choice(("pending", "succeeded", "succeeded", "failed"))
            db.session.add(
                EmploymentSupport(
                    veteran_id=veteran.id,
                    station_id=veteran.station_id,
                    kind=kind,
                    given_on=today - timedelta(days=rng.randrange(20, 300)),
                    detail=detail,
                    amount_fen=amount,
                    outcome=outcome,
                    outcome_note={"succeeded": "已落实", "failed": "未达到条件"}.get(outcome),
                    recorded_by_id=staff_id,
                )
            )
        if index % 9 == 0:
            _civic_role(veteran, staff_id, ROLES[(index // 9) % len(ROLES)], today, rng)


def _record(veteran, staff_id, status, *, since, until=None):
    record = EmploymentRecord(
        veteran_id=veteran.id,
        station_id=veteran.station_id,
        status=status,
        since=since,
        until=until,
        source="staff",
        recorded_by_id=staff_id,
    )
    db.session.add(record)
    return record


def _civic_role(veteran, staff_id, role, today, rng):
    area, title, organisation, activity = role
    row = CivicRole(
        veteran_id=veteran.id,
        station_id=veteran.station_id,
        area=area,
        title=title,
        organisation=organisation,
        since=date(today.year - rng.randint(1, 5), 3, 1),
        recorded_by_id=staff_id,
    )
    db.session.add(row)
    db.session.flush()
    for months in (1, 3):
        db.session.add(
            CivicActivity(
                role_id=row.id,
                held_on=today - timedelta(days=30 * months),
                title=activity,
                hours_tenths=rng.choice((20, 35, 40)),
                recorded_by_id=staff_id,
            )
        )
