"""Visit campaigns: creation over a filtered set of veterans in scope (materialized set-based into one visit per
veteran), visibility, bulk assignment to staff of each veteran's station, and progress per station.

A campaign belongs to a unit. Staff see a campaign of their subtree or of a unit above them (a county's Spring
Festival round reaches its stations), but only ever the visits of stations in their own subtree.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, exists, func, insert, literal, or_, select, update

from backend.audit import service as audit_service
from backend.bulk import id_in
from backend.db import transaction, utcnow
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.notifications import recipients
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, scoped, subtree_unit_ids
from backend.staff.models import Staff
from backend.veterans.models import Veteran
from backend.visits.models import Visit, VisitCampaign

PAGE = 50
MAX_ASSIGN = 5000
FILTER_KEYS = ("unit_id", "grid_id", "party_member", "tags")  # of recipients.AUDIENCE_KEYS


class CampaignNotFound(NotFound):
    code = "visits.campaign_not_found"
    message = "未找到该走访活动"


def _invalid(field, message):
    return ValidationFailed(details={field: message})


def _clean(name, purpose, starts_on, ends_on):
    name, purpose = (name or "").strip(), (purpose or "").strip()
    if not 0 < len(name) <= 50:
        raise _invalid("name", "请填写活动名称（不超过50字）")
    if len(purpose) > 500:
        raise _invalid("purpose", "活动说明不超过500字")
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        raise _invalid("starts_on", "请填写起止日期")
    if not 2000 <= starts_on.year <= 2100 or not 2000 <= ends_on.year <= 2100:
        raise _invalid("starts_on", "日期不正确")
    if ends_on < starts_on or (ends_on - starts_on).days > 366:
        raise _invalid("ends_on", "结束日期应在开始日期之后，且活动不超过一年")
    return name, purpose or None


def create_campaign(*, actor, unit_id, name, starts_on, ends_on, purpose=None, audience=None):
    """Create a campaign of `unit_id` (in the actor's scope) and one planned visit per veteran the filter selects.

    :param audience: {"grid_id", "party_member", "tags"}, validated by recipients.clean_audience (scoped).
    :returns: the VisitCampaign (its `total` is the number of visits).
    :raises ValidationFailed, OrgUnitNotFound: a unit or grid outside the scope answers like a missing one.
    """
    name, purpose = _clean(name, purpose, starts_on, ends_on)
    unit = get_unit_in_scope(actor, unit_id)
    raw = {k: v for k, v in (audience or {}).items() if k in FILTER_KEYS and k != "unit_id"}
    clean = recipients.clean_audience(actor, {**raw, "unit_id": unit.id})
    with transaction():
        campaign = VisitCampaign(
            unit_id=unit.id,
            name=name,
            purpose=purpose,
            starts_on=starts_on,
            ends_on=ends_on,
            audience=clean,
            created_by_id=actor.id,
        )
        db.session.add(campaign)
        db.session.flush()
        campaign.total = _materialize(campaign, actor.scope_path, clean)
        audit_service.record(
            actor=actor,
            action="visits.campaign_created",
            object_type="visit_campaign",
            object_id=campaign.id,
            details={"unit_id": unit.id, "total": campaign.total},
        )
    return campaign


def _materialize(campaign, path, audience):
    """INSERT … SELECT one planned visit per selected veteran under `path` (never wider than the creator's scope);
    NOT EXISTS and the unique constraint keep it one per veteran. Returns the campaign's visit count."""
    ids = recipients._audience_ids(path, audience)  # the notification audience, reused as is
    if ids is None:
        return 0
    sub = ids.subquery()
    table = Visit.__table__
    already = select(table.c.id).where(table.c.campaign_id == campaign.id, table.c.veteran_id == Veteran.id)
    db.session.execute(
        insert(table).from_select(
            ["campaign_id", "veteran_id", "station_id", "status", "amount_fen", "created_at"],
            select(
                literal(campaign.id),
                Veteran.id,
                Veteran.station_id,
                literal("planned"),
                literal(0),
                literal(utcnow(), table.c.created_at.type),
            )
            .join(sub, sub.c.id == Veteran.id)
            .where(~exists(already)),
        )
    )
    return db.session.scalar(select(func.count()).where(Visit.campaign_id == campaign.id)) or 0


def _ancestor_paths(path):
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def _visible(actor):
    """Campaigns of the actor's subtree or of a unit above them."""
    return or_(
        VisitCampaign.unit_id.in_(subtree_unit_ids(actor)),
        VisitCampaign.unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.in_(_ancestor_paths(actor.scope_path)))),
    )


def get_campaign(*, actor, campaign_id):
    """:raises CampaignNotFound: missing, garbage or not visible alike."""
    try:
        campaign_id = int(campaign_id)
    except (TypeError, ValueError):
        raise CampaignNotFound() from None
    found = db.session.scalars(select(VisitCampaign).where(VisitCampaign.id == campaign_id, _visible(actor))).first()
    if found is None:
        raise CampaignNotFound()
    return found


def list_campaigns(*, actor, before_id=None, limit=PAGE):
    """Visible campaigns, newest first, keyset by id: (rows, next_before_id or None)."""
    query = select(VisitCampaign).where(_visible(actor))
    if before_id:
        query = query.where(VisitCampaign.id < before_id)
    rows = db.session.scalars(query.order_by(VisitCampaign.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


@dataclass
class Progress:
    station_id: int | None
    station_name: str
    total: int
    done: int
    skipped: int
    unassigned: int

    @property
    def percent(self):
        return round(100 * (self.done + self.skipped) / self.total) if self.total else 0


def progress(*, actor, campaign_ids):
    """{campaign_id: {"stations": [Progress per station in the actor's scope], "all": their sum}}."""
    if not campaign_ids:
        return {}
    done = func.sum(case((Visit.status == "done", 1), else_=0))
    skipped = func.sum(case((Visit.status == "skipped", 1), else_=0))
    unassigned = func.sum(case((Visit.staff_id.is_(None) & (Visit.status == "planned"), 1), else_=0))
    query = scoped(
        select(Visit.campaign_id, Visit.station_id, OrgUnit.name, func.count(), done, skipped, unassigned)
        .join(OrgUnit, OrgUnit.id == Visit.station_id)
        .where(id_in(Visit.campaign_id, sorted(campaign_ids)))
        .group_by(Visit.campaign_id, Visit.station_id, OrgUnit.name, OrgUnit.path)
        .order_by(Visit.campaign_id, OrgUnit.path),
        actor,
        Visit.station_id,
    )
    result = {}
    for campaign_id, station_id, station_name, *figures in db.session.execute(query):
        result.setdefault(campaign_id, []).append(Progress(station_id, station_name, *(int(f or 0) for f in figures)))
    return {cid: {"stations": rows, "all": _sum(rows)} for cid, rows in result.items()}


def _sum(rows):
    totals = [sum(getattr(r, f) for r in rows) for f in ("total", "done", "skipped", "unassigned")]
    return Progress(None, "合计", *totals)


def assignable_staff(*, actor, station_id):
    """Active staff of a station in scope (its own unit or its grids) who may record visits."""
    station = get_unit_in_scope(actor, station_id)
    rows = db.session.scalars(
        select(Staff)
        .join(OrgUnit, OrgUnit.id == Staff.org_unit_id)
        .where(OrgUnit.path.startswith(station.path, autoescape=True), Staff.is_active.is_(True))
        .order_by(Staff.full_name, Staff.id)
    ).all()
    return [s for s in rows if s.can("care.visits")]


def assign(*, actor, campaign_id, station_id, staff_id, visit_ids=None):
    """Assign planned visits of one station to one of its staff (bulk, one conditional UPDATE).

    :param visit_ids: the checked visits; None assigns every unassigned planned visit of the station.
    :returns: the number of visits assigned (visits already recorded or of another station are left alone).
    :raises CampaignNotFound, OrgUnitNotFound, ValidationFailed: a staff member who is not of that station.
    """
    campaign = get_campaign(actor=actor, campaign_id=campaign_id)
    station = get_unit_in_scope(actor, station_id)
    if station.level != "station":
        raise _invalid("station", "请选择服务站")
    staff = next((s for s in assignable_staff(actor=actor, station_id=station.id) if s.id == staff_id), None)
    if staff is None:
        raise _invalid("staff", "请选择本服务站可走访的工作人员")
    conditions = [Visit.campaign_id == campaign.id, Visit.station_id == station.id, Visit.status == "planned"]
    if visit_ids is None:
        conditions.append(Visit.staff_id.is_(None))
    else:
        clean = sorted({int(v) for v in map(str, visit_ids) if v.isascii() and v.isdigit() and 0 < int(v) < 2**63})
        if not clean or len(clean) > MAX_ASSIGN:
            raise _invalid("visits", "请勾选要分配的走访对象")
        conditions.append(id_in(Visit.id, clean))
    with transaction():
        count = db.session.execute(update(Visit).where(*conditions).values(staff_id=staff.id)).rowcount
        audit_service.record(
            actor=actor,
            action="visits.assigned",
            object_type="visit_campaign",
            object_id=campaign.id,
            details={"station_id": station.id, "staff_id": staff.id, "count": count},
        )
    return count
