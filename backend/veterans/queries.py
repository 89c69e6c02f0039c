"""Scoped reads of the registry: keyset-paginated lists, search by ID number, coverage figures."""

from dataclasses import dataclass

from sqlalchemy import func, select, true

from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission, scoped
from backend.veterans.identity import parse_id_number
from backend.veterans.models import Veteran
from backend.veterans.service import id_index


@dataclass
class VeteranFilter:
    unit_id: int | None = None
    grid_id: int | None = None
    status: str | None = None
    name: str | None = None
    id_number: str | None = None  # full number only: found through the HMAC index
    id_index: str | None = None  # the HMAC itself (what the portal carries in URLs instead of the number)


@dataclass
class Page:
    rows: list
    next_after: int | None  # older rows: ?after=
    prev_before: int | None  # newer rows: ?before=


def _scope_path(actor, filters):
    if filters.unit_id:
        return get_unit_in_scope(actor, filters.unit_id).path
    return actor.scope_path


def _conditions(filters):
    conds = []
    if filters.grid_id:
        conds.append(Veteran.grid_id == filters.grid_id)
    if filters.status:
        conds.append(Veteran.status == filters.status)
    if filters.name:
        conds.append(Veteran.name.startswith(filters.name.strip(), autoescape=True))
    if filters.id_number:
        conds.append(Veteran.id_number_hmac == id_index(parse_id_number(filters.id_number).number))
    if filters.id_index:
        conds.append(Veteran.id_number_hmac == filters.id_index)
    return conds


def _filtered(actor, filters):
    path = _scope_path(actor, filters)
    units = select(OrgUnit.id).where(OrgUnit.path.startswith(path, autoescape=True))
    return select(Veteran).where(Veteran.unit_id.in_(units), *_conditions(filters))


LATERAL_MAX_UNITS = 400


def _page_ids(path, conds, limit, ascending):
    """On PostgreSQL, for a subtree of few units: the newest `limit` ids of each unit from the (unit_id, id) index,
    merged (a LATERAL top-N per unit). The planner cannot see that a small subtree holds few rows, and otherwise
    walks the whole primary key or sorts the subtree. None when the plain query is the better plan."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    in_subtree = OrgUnit.path.startswith(path, autoescape=True)
    if db.session.scalar(select(func.count()).select_from(OrgUnit).where(in_subtree)) > LATERAL_MAX_UNITS:
        return None
    order = Veteran.id.asc() if ascending else Veteran.id.desc()
    per_unit = (
        select(Veteran.id).where(Veteran.unit_id == OrgUnit.id, *conds).order_by(order).limit(limit).lateral("per_unit")
    )
    merged = per_unit.c.id.asc() if ascending else per_unit.c.id.desc()
    query = select(per_unit.c.id).select_from(OrgUnit).join(per_unit, true()).where(in_subtree)
    return db.session.scalars(query.order_by(merged).limit(limit)).all()


def _page(actor, filters, extra, limit, ascending):
    path = _scope_path(actor, filters)
    conds = [*_conditions(filters), *extra]
    order = Veteran.id.asc() if ascending else Veteran.id.desc()
    ids = _page_ids(path, conds, limit, ascending)
    if ids is not None:
        rows = {v.id: v for v in db.session.scalars(select(Veteran).where(Veteran.id.in_(ids)))}
        return [rows[i] for i in ids]
    units = select(OrgUnit.id).where(OrgUnit.path.startswith(path, autoescape=True))
    query = select(Veteran).where(Veteran.unit_id.in_(units), *conds).order_by(order).limit(limit)
    return db.session.scalars(query).all()


def list_veterans(*, actor, filters, after=None, before=None, limit=50):
    """Veterans in scope, newest first, keyset-paginated by id (no OFFSET, no COUNT).

    :raises PermissionDenied, OrgUnitNotFound, InvalidIdNumber (a malformed search number)
    """
    require_permission(actor, "veterans.view")
    if before:
        rows = _page(actor, filters, [Veteran.id > before], limit + 1, ascending=True)
        has_newer = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        return Page(rows=rows, next_after=rows[-1].id if rows else None, prev_before=rows[0].id if has_newer else None)
    rows = _page(actor, filters, [Veteran.id < after] if after else [], limit + 1, ascending=False)
    has_older = len(rows) > limit
    rows = rows[:limit]
    return Page(
        rows=rows,
        next_after=rows[-1].id if has_older else None,
        prev_before=rows[0].id if (after and rows) else None,
    )


def estimate_count(*, actor, filters, cap=10_000):
    """Rows matching the filters, counted up to `cap` (shown as "cap+" beyond): never an unbounded COUNT."""
    require_permission(actor, "veterans.view")
    sub = _filtered(actor, filters).with_only_columns(Veteran.id).limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(sub))


def stations_in_scope(actor):
    return db.session.scalars(
        scoped(select(OrgUnit).where(OrgUnit.level == "station"), actor, OrgUnit.id).order_by(OrgUnit.path)
    ).all()


def grids_in_scope(actor, station_id=None):
    query = scoped(select(OrgUnit).where(OrgUnit.level == "grid"), actor, OrgUnit.id)
    if station_id:
        query = query.where(OrgUnit.parent_id == station_id)
    return db.session.scalars(query.order_by(OrgUnit.path)).all()


@dataclass
class Coverage:
    unit: OrgUnit
    total: int
    with_station: int
    with_grid: int
    with_worker: int  # 全覆盖 (Art. 15): a station, a grid and a grid worker

    empty_reason = "暂无退役军人"

    def share(self, part):
        """A percentage, or None when there is nobody to count (shown as 「—」 with the reason, never 0.0%)."""
        return round(100 * part / self.total, 1) if self.total else None


def coverage(*, actor, unit_id=None):
    """Coverage figures (Art. 15) for a unit in scope and for each of its children: (own, [children])."""
    require_permission(actor, "veterans.view")
    unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
    children = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.name)).all()
    return _coverage_of(unit), [_coverage_of(child) for child in children]


def _coverage_of(unit):
    subtree = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))
    has_worker = func.coalesce(func.length(Veteran.grid_worker), 0) > 0
    row = db.session.execute(
        select(
            func.count(Veteran.id),
            func.count(Veteran.station_id),
            func.count(Veteran.grid_id),
            func.count(Veteran.id).filter(Veteran.grid_id.is_not(None), has_worker),
        ).where(Veteran.unit_id.in_(subtree))
    ).one()
    return Coverage(unit, row[0], row[1], row[2], row[3])


def search_index(raw):
    """The HMAC index of a typed ID number (validated), so the number itself never travels in a URL."""
    return id_index(parse_id_number(raw).number)


# --- workbench slice (issue 11)


def finished_imports(*, actor, days=7, limit=5):
    """The actor's own import jobs that finished (done or failed) in the last `days` days, newest first."""
    from datetime import timedelta

    from backend.db import utcnow
    from backend.veterans.models import ImportJob

    require_permission(actor, "veterans.import")
    query = scoped(
        select(ImportJob).where(
            ImportJob.created_by_id == actor.id,
            ImportJob.status.in_(("done", "failed")),
            ImportJob.finished_at >= utcnow() - timedelta(days=days),
        ),
        actor,
        ImportJob.unit_id,
    )
    return db.session.scalars(query.order_by(ImportJob.id.desc()).limit(limit)).all()
