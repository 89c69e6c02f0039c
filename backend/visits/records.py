"""One visit: reading it in scope, recording it (date, notes, gift and/or money with funding source and budget year)
or marking it not visited. Each visit is recorded once: planned -> done | skipped by a conditional UPDATE."""

import re
from datetime import date, timedelta

from sqlalchemy import select, update

from backend import pii
from backend.audit import service as audit_service
from backend.db import transaction, utcnow
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.notifications.events import notify
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, scoped
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran
from backend.visits.models import NOTES_CONTEXT, STATUS_LABELS, Visit, VisitCampaign

MAX_FEN = 100_000_000  # 100万元, the CHECK's bound
PAGE = 50
_YUAN = re.compile(r"[0-9]{1,7}(\.[0-9]{1,2})?")


class VisitNotFound(NotFound):
    code = "visits.not_found"
    message = "未找到该走访记录"


class VisitAlreadyRecorded(RuleViolation):
    code = "visits.already_recorded"
    message = "该走访已登记，不能重复登记"


def _invalid(field, message):
    return ValidationFailed(details={field: message})


def parse_yuan(text):
    """'500' or '500.5' (元) -> fen as an int; '' -> 0. Never through a float. :raises ValidationFailed:"""
    text = (text or "").strip().replace(",", "").replace("，", "")
    if not text:
        return 0
    if not _YUAN.fullmatch(text):
        raise _invalid("amount", "金额格式不正确（元，最多两位小数）")
    whole, _, cents = text.partition(".")
    return int(whole) * 100 + int((cents + "00")[:2])


def format_fen(fen):
    return f"{fen // 100}.{fen % 100:02d}"


def get_visit(*, actor, visit_id, lock=False):
    """A visit of a station in the actor's subtree. :raises VisitNotFound: missing or out of scope alike."""
    return get_scoped(Visit, visit_id, actor=actor, unit_column=Visit.station_id, not_found=VisitNotFound, lock=lock)


def read_notes(visit):
    return pii.decrypt(visit.notes_sealed, context=NOTES_CONTEXT) if visit.notes_sealed else ""


def list_visits(*, actor, campaign_id, station_id=None, status=None, after_id=None, limit=PAGE):
    """(visit, veteran name, station name) rows of a campaign in scope, keyset by id: (rows, next_after_id)."""
    query = scoped(
        select(Visit, Veteran.name, OrgUnit.name)
        .join(Veteran, Veteran.id == Visit.veteran_id)
        .join(OrgUnit, OrgUnit.id == Visit.station_id)
        .where(Visit.campaign_id == campaign_id),
        actor,
        Visit.station_id,
    )
    if station_id:
        query = query.where(Visit.station_id == station_id)
    if status in STATUS_LABELS:
        query = query.where(Visit.status == status)
    if after_id:
        query = query.where(Visit.id > after_id)
    rows = db.session.execute(query.order_by(Visit.id).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1][0].id if len(rows) > limit else None)


def _check(campaign, visited_on, amount_fen, gift, funding_source, budget_year, notes, today):
    if not isinstance(visited_on, date):
        raise _invalid("visited_on", "请填写走访日期")
    if visited_on > today:
        raise _invalid("visited_on", "走访日期不能晚于今天")
    if visited_on < campaign.starts_on - timedelta(days=30):
        raise _invalid("visited_on", "走访日期早于活动开始日期")
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or not 0 <= amount_fen <= MAX_FEN:
        raise _invalid("amount", "慰问金金额不正确（不超过100万元）")
    if len(gift) > 500 or len(notes) > 4000:
        raise _invalid("gift" if len(gift) > 500 else "notes", "内容过长")
    if amount_fen or gift:
        if funding_source not in ("central", "local"):
            raise _invalid("funding_source", "发放慰问金或慰问品时请选择经费来源")
        if isinstance(budget_year, bool) or not isinstance(budget_year, int):
            raise _invalid("budget_year", "请填写预算年度")
        if not visited_on.year - 1 <= budget_year <= visited_on.year + 1:
            raise _invalid("budget_year", "预算年度应与走访年度相符（前后一年内）")
        return funding_source, budget_year
    return None, None


def record_visit(
    *,
    actor,
    visit_id,
    visited_on,
    notes="",
    gift="",
    amount_fen=0,
    funding_source=None,
    budget_year=None,
    tell=True,
    now=None,
):
    """Record a planned visit as done. Money is in fen; gift or money needs a funding source and a budget year.

    :param tell: send the veteran a care message (inbox and, where granted, WeChat) that the visit is on record.
    :raises VisitNotFound, ValidationFailed, VisitAlreadyRecorded: recorded (or marked not visited) before.
    """
    visit = get_visit(actor=actor, visit_id=visit_id)
    campaign = db.session.get(VisitCampaign, visit.campaign_id)
    notes, gift = (notes or "").strip(), (gift or "").strip()
    source, year = _check(campaign, visited_on, amount_fen, gift, funding_source, budget_year, notes, today_cst(now))
    values = {
        "status": "done",
        "visited_on": visited_on,
        "notes_sealed": pii.encrypt(notes, context=NOTES_CONTEXT) if notes else None,
        "gift": gift or None,
        "amount_fen": amount_fen,
        "funding_source": source,
        "budget_year": year,
    }
    with transaction():
        _finish(actor, visit, values, "visits.recorded", {"amount_fen": amount_fen, "funding_source": source})
        if tell:
            station = db.session.get(OrgUnit, visit.station_id)
            notify(
                "care",
                [visit.veteran_id],
                title=f"{campaign.name}走访慰问",
                body=f"{station.name}工作人员已于{visited_on:%Y年%m月%d日}走访看望您。如有困难或需要帮助，请随时联系服务站。",
                values={"结果": "已走访"},
                sender_unit_id=visit.station_id,
            )
    return visit


def skip_visit(*, actor, visit_id, reason):
    """Mark a planned visit as not visited (moved away, declined, in hospital elsewhere) with a reason.

    :raises VisitNotFound, ValidationFailed, VisitAlreadyRecorded:"""
    reason = (reason or "").strip()
    if not 0 < len(reason) <= 500:
        raise _invalid("reason", "请填写未走访原因（不超过500字）")
    visit = get_visit(actor=actor, visit_id=visit_id)
    values = {"status": "skipped", "notes_sealed": pii.encrypt(reason, context=NOTES_CONTEXT)}
    with transaction():
        _finish(actor, visit, values, "visits.skipped", {})
    return visit


def _finish(actor, visit, values, action, details):
    """planned -> done | skipped, once: two people recording the same visit at once, one wins."""
    changed = db.session.execute(
        update(Visit)
        .where(Visit.id == visit.id, Visit.status == "planned")
        .values(**values, recorded_by_id=actor.id, recorded_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise VisitAlreadyRecorded(details={"status": STATUS_LABELS.get(visit.status, visit.status)})
    audit_service.record(actor=actor, action=action, object_type="visit", object_id=visit.id, details=details)
    db.session.refresh(visit)
