"""Demo registrations: last year's approved for everyone (to compare against), this year's in every state."""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from backend.extensions import db
from backend.registration.content import FORM_VERSION
from backend.registration.models import Registration
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran

EMPLOYERS = ["青山机械厂", "秦川物流公司", "绿水社区", "个体经营", "秦川市第一中学"]


def _content(rng, veteran, year):
    return {
        "party_life": {
            "participated": veteran.party_member,
            "notes": "按时参加支部活动" if veteran.party_member else "",
        },
        "social_orgs": {
            "joined": rng.random() < 0.3,
            "organizations": ["退役军人志愿服务队"] if rng.random() < 0.3 else [],
        },
        "trips_abroad": {"had_trips": False, "trips": []},
        "rewards_punishments": {"has_any": False, "details": ""},
        "employment": {"status": "employed", "employer": rng.choice(EMPLOYERS)},
        "contact": {"phone": veteran.phone or "", "address": veteran.address or ""},
        "declaration": {"agreed": True},
    }


def load(units, seed=20260201):
    rng = random.Random(seed)
    year = today_cst().year
    start = datetime(year, 1, 5, 2, tzinfo=UTC)
    for veteran in db.session.scalars(select(Veteran).order_by(Veteran.id)):
        last = _content(rng, veteran, year - 1)
        db.session.add(
            Registration(
                veteran_id=veteran.id,
                unit_id=veteran.unit_id,
                year=year - 1,
                status="approved",
                content=last,
                form_version=FORM_VERSION,
                return_reasons={},
                submitted_at=start - timedelta(days=360),
                first_submitted_at=start - timedelta(days=360),
                decided_at=start - timedelta(days=355),
            )
        )
        veteran.benefits_year = year - 1
        roll = rng.random()
        if roll < 0.15:
            continue  # nothing this year yet: the overdue job lists them once the window has closed
        content = dict(last)
        if rng.random() < 0.3:
            content["employment"] = {"status": "employed", "employer": rng.choice(EMPLOYERS)}
        submitted = start + timedelta(days=rng.randrange(60), hours=rng.randrange(8))
        status = "approved" if roll < 0.7 else "submitted" if roll < 0.9 else "returned"
        reg = Registration(
            veteran_id=veteran.id,
            unit_id=veteran.unit_id,
            year=year,
            status=status,
            content=content,
            form_version=FORM_VERSION,
            channel=rng.choice(["online", "online", "onsite"]),
            submitted_at=submitted,
            first_submitted_at=submitted,
            return_reasons={"contact": "联系电话无法接通，请核实"} if status == "returned" else {},
        )
        if status != "submitted":
            reg.decided_at = submitted + timedelta(days=rng.randrange(1, 10))
        if status == "approved":
            veteran.benefits_year = year
        db.session.add(reg)
