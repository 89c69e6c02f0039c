"""The 退役军人名册 export kind: the veteran list with the list page's unit, grid and status filters.

ID and mobile numbers are decrypted in the worker and written masked, exactly as the portal shows them
(backend/pii.py); the full numbers never reach the file.
"""

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from backend import pii
from backend.exports.registry import Source, export_kind, keyset_batches
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope
from backend.veterans.models import GENDER_LABELS, ID_CONTEXT, PHONE_CONTEXT, STATUS_LABELS, Veteran

HEADER = ["姓名", "性别", "出生日期", "服务站", "网格", "网格员", "状态", "身份证号", "手机号", "安置日期", "党员"]


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _rows(query):
    for row in keyset_batches(query, Veteran.id):
        _, name, gender, birth, station, grid, worker, status, id_enc, phone_enc, placed, party = row
        yield [
            name,
            GENDER_LABELS.get(gender, ""),
            birth,
            station,
            grid or "",
            worker or "",
            STATUS_LABELS.get(status, status),
            pii.mask_id_number(pii.decrypt(id_enc, context=ID_CONTEXT)),
            pii.mask_phone(pii.decrypt(phone_enc, context=PHONE_CONTEXT)) if phone_enc else "",
            placed,
            "是" if party else "否",
        ]


@export_kind("veterans", permission="veterans.view", title="退役军人名册")
def veterans_export(actor, params):
    """Veterans in the unit asked for (default: the actor's subtree), oldest record first. :raises OrgUnitNotFound:"""
    unit = get_unit_in_scope(actor, _int(params.get("unit")) or actor.org_unit_id)
    grid_id = _int(params.get("grid"))
    status = params.get("status") if params.get("status") in STATUS_LABELS else None
    subtree = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))
    conds = [Veteran.unit_id.in_(subtree)]
    if grid_id:
        conds.append(Veteran.grid_id == grid_id)
    if status:
        conds.append(Veteran.status == status)
    station, grid = aliased(OrgUnit), aliased(OrgUnit)
    query = (
        select(
            Veteran.id,
            Veteran.name,
            Veteran.gender,
            Veteran.birth_date,
            station.name,
            grid.name,
            Veteran.grid_worker,
            Veteran.status,
            Veteran.id_number_enc,
            Veteran.phone_enc,
            Veteran.placement_date,
            Veteran.party_member,
        )
        .join(station, station.id == Veteran.station_id)
        .outerjoin(grid, grid.id == Veteran.grid_id)
        .where(*conds)
    )
    params = {k: v for k, v in {"unit": unit.id, "grid": grid_id, "status": status}.items() if v}
    return Source(
        header=HEADER,
        rows=_rows(query),
        params=params,
        unit_id=unit.id,
        count=lambda: db.session.scalar(select(func.count()).select_from(Veteran).where(*conds)),
    )
