"""Scoped reads of the registry: keyset-paginated lists, search by ID number, coverage figures."""

from dataclasses import dataclass

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import aliased, selectinload

from backend import pii
from backend.extensions import db
from backend.figures import service as figures_service
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission, scoped
from backend.veterans.identity import parse_id_number
from backend.veterans.models import ID_CONTEXT, Veteran
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
    next_after: int | None  # the next page: ?after=<id of the page's last row>
    prev_before: int | None  # the previous page: ?before=<id of the page's first row>


def path_range(path, column=None):
    """Conditions selecting rows whose unit_path lies under `path` ("/1/23/"): a plain index range, no LIKE.

    Paths hold digits and slashes, and "/" sorts just before "0", so the subtree is [path, path[:-1] + "0").
    """
    column = Veteran.unit_path if column is None else column
    return column >= path, column < path[:-1] + "0"


def _scope_path(actor, filters):
    path = get_unit_in_scope(actor, filters.unit_id).path if filters.unit_id else actor.scope_path
    if filters.grid_id:
        # Veterans of a grid have it as their unit, so the filter narrows the range to the grid's own path.
        grid = db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == filters.grid_id))
        if grid and grid.startswith(path):
            return grid
    return path


def _conditions(filters):
    conds = []
    if filters.grid_id:
        conds.append(Veteran.grid_id == filters.grid_id)
    if filters.status:
        conds.append(Veteran.status == filters.status)
    if filters.name:
        conds.append(Veteran.name.startswith(filters.name.strip(), autoescape=True))
    if filters.id_number:
        number = parse_id_number(filters.id_number).number
        conds.append(pii.index_in(Veteran.id_number_hmac, number, context=ID_CONTEXT))
    if filters.id_index:
        conds.append(Veteran.id_number_hmac == filters.id_index)
    return conds


def _filtered(actor, filters):
    return select(Veteran).where(*path_range(_scope_path(actor, filters)), *_conditions(filters))


def _cursor(path, veteran_id):
    """The (unit_path, id) key of the cursor row as SQL: its unit_path is a scalar subquery inside the scope (NULL, so
    no rows, for an id outside it), which PostgreSQL runs once and uses as the start of the index range. None for a
    garbage id."""
    try:
        veteran_id = int(veteran_id)
    except (TypeError, ValueError):
        return None
    if not 0 < veteran_id < 2**63:
        return None
    cursor = aliased(Veteran)
    found = select(cursor.unit_path).where(cursor.id == veteran_id, *path_range(path, cursor.unit_path))
    return tuple_(found.scalar_subquery(), veteran_id)


def list_veterans(*, actor, filters, after=None, before=None, limit=50):
    """Veterans in scope station by station (unit_path order), ids ascending within a unit, keyset-paginated on
    (unit_path, id): one index range for any subtree, whatever the id order; no OFFSET, no COUNT.

    :param after: / :param before: the id of the row before / after the wanted page (portal URLs carry ids). An id
        outside the scope, a garbage one or one that leads nowhere gives the first page.
    :raises PermissionDenied, OrgUnitNotFound, InvalidIdNumber (a malformed search number)
    """
    require_permission(actor, "veterans.view")
    path = _scope_path(actor, filters)
    # The units come in a second small query, so the page itself is one index range with a LIMIT (no join, no sort).
    loads = (selectinload(Veteran.station), selectinload(Veteran.grid))
    query = select(Veteran).options(*loads).where(*path_range(path), *_conditions(filters))
    key = tuple_(Veteran.unit_path, Veteran.id)
    before = _cursor(path, before) if before else None
    after = _cursor(path, after) if after and not before else None
    if before is not None:
        order = (Veteran.unit_path.desc(), Veteran.id.desc())
        rows = db.session.scalars(query.where(key < before).order_by(*order).limit(limit + 1)).all()
        if not rows:
            return list_veterans(actor=actor, filters=filters, limit=limit)
        has_previous = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        return Page(rows=rows, next_after=rows[-1].id, prev_before=rows[0].id if has_previous else None)
    if after is not None:
        query = query.where(key > after)
    rows = db.session.scalars(query.order_by(Veteran.unit_path, Veteran.id).limit(limit + 1)).all()
    if after is not None and not rows:
        return list_veterans(actor=actor, filters=filters, limit=limit)
    has_next = len(rows) > limit
    rows = rows[:limit]
    return Page(
        rows=rows,
        next_after=rows[-1].id if has_next else None,
        prev_before=rows[0].id if (after is not None and rows) else None,
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
    as_of: object = None  # when the rollup counted these (None: not rolled up yet)

    empty_reason = "暂无退役军人"

    def share(self, part):
        """A percentage, or None when there is nobody to count (shown as 「—」 with the reason, never 0.0%)."""
        return round(100 * part / self.total, 1) if self.total else None

    @property
    def as_of_text(self):
        return figures_service.as_of_text(self.as_of)


def coverage(*, actor, unit_id=None):
    """Coverage figures (Art. 15) for a unit in scope and for each of its children: (own, [children]), read from the
    newest rollup (backend/figures: unit_stat primary keys). Raises PermissionDenied, OrgUnitNotFound."""
    require_permission(actor, "veterans.view")
    unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
    stat = figures_service.latest_stat(unit.id)
    children = figures_service.children_with_stats(unit, stat.year if stat else None)
    return _coverage_of(unit, stat), [_coverage_of(child, child_stat) for child, child_stat in children]


def _coverage_of(unit, stat):
    if stat is None:
        missing = Coverage(unit, 0, 0, 0, 0)
        missing.empty_reason = figures_service.NOT_YET_COVERAGE
        return missing
    return Coverage(unit, stat.veterans_all, stat.with_station, stat.with_grid, stat.with_worker, stat.computed_at)


def search_index(raw):
    """The HMAC index of a typed ID number (validated), so the number itself never travels in a URL: the one a row
    carries when a row has the number (whichever key version it is under, issue 15), else the newest version's."""
    number = parse_id_number(raw).number
    stored = db.session.scalar(
        select(Veteran.id_number_hmac).where(pii.index_in(Veteran.id_number_hmac, number, context=ID_CONTEXT)).limit(1)
    )
    return stored or id_index(number)


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
