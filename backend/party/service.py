"""Party members (Art. 6): branches per unit, a veteran's membership (kept in step with Veteran.party_member) and the
transfers of the organisational relationship. Scope: a veteran's party rows follow the veteran's station; branches
follow their unit. Out of scope is not found. Yearly evaluations: backend/party/evaluations.py; figures and lists:
backend/party/figures.py.
"""

from datetime import date

from sqlalchemy import insert, select

from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, get_unit_in_scope, require_permission, scoped
from backend.party.models import MEMBERSHIP, PartyBranch, PartyEvaluation, PartyMembership, PartyTransfer
from backend.veterans.models import Veteran
from backend.veterans.service import VeteranNotFound

try:  # Art. 7: an inbound transfer completes the onboarding case's party_transfer step (issue 17)
    from backend.onboarding.links import step_done_elsewhere
except ImportError:  # pragma: no cover - issue 17 not merged into this tree
    step_done_elsewhere = None

STATUS_LABELS = {"full": "正式党员", "probationary": "预备党员"}
DIRECTION_LABELS = {"in": "转入", "out": "转出"}
STATE_LABELS = {"open": "办理中", "done": "已完成", "cancelled": "已取消"}
BRANCH_LEVELS = ("province", "city", "county", "station")


class BranchNotFound(NotFound):
    code = "party.branch_not_found"
    message = "未找到该党组织"


class BranchExists(RuleViolation):
    code = "party.branch_exists"
    message = "本单位已有同名党组织"


class NotAMember(RuleViolation):
    code = "party.not_member"
    message = "该退役军人尚未登记为党员"


class TransferNotFound(NotFound):
    code = "party.transfer_not_found"
    message = "未找到该组织关系转接记录"


class TransferClosed(RuleViolation):
    code = "party.transfer_closed"
    message = "该转接已办结或已取消，不能再操作"


def _text(value, limit):
    return (value or "").strip()[:limit]


def _path(unit_id):
    return db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == unit_id))


def audit(actor, action, object_type, object_id, unit_id, **details):
    audit_service.record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        org_path=_path(unit_id),
        details=details,
    )


def parse_date(value, field, *, required=True):
    value = (value or "").strip()[:10]
    if not value:
        if required:
            raise ValidationFailed(details={field: "请填写日期"})
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(details={field: "日期格式应为 YYYY-MM-DD"}) from None


def get_veteran(*, actor, veteran_id, permission="party.view", lock=False):
    require_permission(actor, permission)
    return get_scoped(
        Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound, lock=lock
    )


# --- branches


def list_branches(*, actor, unit_id=None, active_only=False, after=None, limit=50):
    """Branches of the units in scope (of `unit_id`'s subtree when given), by id; (rows, next_after)."""
    require_permission(actor, "party.view")
    query = scoped(select(PartyBranch), actor, PartyBranch.unit_id)
    if unit_id:
        unit = get_unit_in_scope(actor, unit_id)
        query = query.where(
            PartyBranch.unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True)))
        )
    if active_only:
        query = query.where(PartyBranch.active.is_(True))
    if after:
        query = query.where(PartyBranch.id > after)
    rows = db.session.scalars(query.order_by(PartyBranch.id).limit(limit + 1)).all()
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


def create_branch(*, actor, unit_id, name, secretary=None):
    require_permission(actor, "party.manage")
    name, secretary = _text(name, 100), _text(secretary, 64) or None
    if not name:
        raise ValidationFailed(details={"name": "请填写党组织名称"})
    with transaction():
        unit = get_unit_in_scope(actor, unit_id)
        if unit.level not in BRANCH_LEVELS:
            raise ValidationFailed(details={"unit": "党组织登记在服务站或服务中心下"})
        if db.session.scalar(select(PartyBranch.id).where(PartyBranch.unit_id == unit.id, PartyBranch.name == name)):
            raise BranchExists()
        branch = PartyBranch(unit_id=unit.id, name=name, secretary=secretary)
        db.session.add(branch)
        db.session.flush()
        audit(actor, "party.branch_created", "party_branch", branch.id, unit.id, name=name)
    return branch


def get_branch(*, actor, branch_id, permission="party.view", lock=False):
    require_permission(actor, permission)
    return get_scoped(
        PartyBranch, branch_id, actor=actor, unit_column=PartyBranch.unit_id, not_found=BranchNotFound, lock=lock
    )


def deactivate_branch(*, actor, branch_id):
    with transaction():
        branch = get_branch(actor=actor, branch_id=branch_id, permission="party.manage", lock=True)
        if branch.active:
            branch.active = False
            audit(actor, "party.branch_deactivated", "party_branch", branch.id, branch.unit_id)
    return branch


def branches_for_veteran(veteran):
    """The active branches a veteran may belong to: those of the veteran's station and the centers above it."""
    ancestors = [int(x) for x in veteran.station.path.strip("/").split("/")]
    return db.session.scalars(
        select(PartyBranch)
        .where(PartyBranch.unit_id.in_(ancestors), PartyBranch.active.is_(True))
        .order_by(PartyBranch.unit_id, PartyBranch.name)
    ).all()


def _branch_for(veteran, branch_id):
    if branch_id is None:
        return None
    branch = db.session.get(PartyBranch, branch_id)
    if (
        branch is None
        or not branch.active
        or branch.unit_id not in [int(x) for x in veteran.station.path.strip("/").split("/")]
    ):
        raise ValidationFailed(details={"branch": "请选择本服务站或上级服务中心的党组织"})
    return branch


# --- membership


def membership_of(veteran_id):
    return db.session.get(PartyMembership, veteran_id)


def set_membership(*, actor, veteran_id, status, branch_id=None, joined_on=None):
    """Record the veteran as a full or probationary member of a branch; Veteran.party_member becomes True."""
    if status not in MEMBERSHIP:
        raise ValidationFailed(details={"status": "请选择正式党员或预备党员"})
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="party.manage", lock=True)
        branch = _branch_for(veteran, branch_id)
        row = db.session.get(PartyMembership, veteran.id)
        created = row is None
        if created:
            row = PartyMembership(veteran_id=veteran.id)
            db.session.add(row)
        row.station_id, row.status, row.joined_on = veteran.station_id, status, joined_on
        row.branch_id, row.updated_by_id = branch.id if branch else None, actor.id
        if not veteran.party_member:
            veteran.party_member = True
        audit(
            actor,
            "party.membership_set",
            "veteran",
            veteran.id,
            veteran.station_id,
            status=status,
            branch_id=row.branch_id,
            created=created,
        )
    return row


def remove_membership(*, actor, veteran_id):
    """Not a member: the membership row goes and Veteran.party_member becomes False (history stays)."""
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="party.manage", lock=True)
        row = db.session.get(PartyMembership, veteran.id)
        if row is not None:
            db.session.delete(row)
        if veteran.party_member:
            veteran.party_member = False
        if row is not None:
            audit(actor, "party.membership_removed", "veteran", veteran.id, veteran.station_id, status=row.status)
    return veteran


def sync_flag(*, actor, veteran, member):
    """Keep the membership in step when the registry (veteran edit form, new record) sets Veteran.party_member:
    True with no row creates a full membership without a branch, False removes the row. Runs inside the caller's
    transaction; the caller has already opened the veteran within its scope (veterans.edit)."""
    row = db.session.get(PartyMembership, veteran.id)
    if member and row is None:
        db.session.add(
            PartyMembership(veteran_id=veteran.id, station_id=veteran.station_id, status="full", updated_by_id=actor.id)
        )
        db.session.flush()
        audit(
            actor,
            "party.membership_set",
            "veteran",
            veteran.id,
            veteran.station_id,
            status="full",
            branch_id=None,
            created=True,
            source="registry",
        )
    elif not member and row is not None:
        status = row.status
        db.session.delete(row)
        db.session.flush()
        audit(
            actor,
            "party.membership_removed",
            "veteran",
            veteran.id,
            veteran.station_id,
            status=status,
            source="registry",
        )


def sync_imported(*, actor, veteran_ids):
    """Set-based sync_flag for an import batch: a full membership (no branch) for each imported party member that
    has none, one audit row each, in a few statements whatever the batch size. Inside the caller's transaction."""
    ids = sorted(set(veteran_ids))
    if not ids:
        return 0
    missing = db.session.execute(
        select(Veteran.id, Veteran.station_id, OrgUnit.path)
        .join(OrgUnit, OrgUnit.id == Veteran.station_id)
        .where(
            Veteran.id.in_(ids),
            Veteran.party_member.is_(True),
            ~select(PartyMembership.veteran_id).where(PartyMembership.veteran_id == Veteran.id).exists(),
        )
    ).all()
    if not missing:
        return 0
    db.session.execute(
        insert(PartyMembership),
        [{"veteran_id": v, "station_id": s, "status": "full", "updated_by_id": actor.id} for v, s, _ in missing],
    )
    audit_service.record_many(
        actor=actor,
        action="party.membership_set",
        object_type="veteran",
        rows=[
            (v, path, {"status": "full", "branch_id": None, "created": True, "source": "registry"})
            for v, _, path in missing
        ],
    )
    return len(missing)


# --- transfers


def transfers_of(veteran_id):
    return db.session.scalars(
        select(PartyTransfer).where(PartyTransfer.veteran_id == veteran_id).order_by(PartyTransfer.id.desc())
    ).all()


def record_transfer(
    *, actor, veteran_id, direction, counterpart, started_on, letter_number=None, branch_id=None, note=None
):
    if direction not in ("in", "out"):
        raise ValidationFailed(details={"direction": "请选择转入或转出"})
    counterpart = _text(counterpart, 100)
    if not counterpart:
        raise ValidationFailed(details={"counterpart": "请填写对方党组织"})
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="party.manage")
        branch = _branch_for(veteran, branch_id) if direction == "in" else None
        transfer = PartyTransfer(
            veteran_id=veteran.id,
            station_id=veteran.station_id,
            direction=direction,
            counterpart=counterpart,
            branch_id=branch.id if branch else None,
            letter_number=_text(letter_number, 64) or None,
            started_on=started_on,
            note=_text(note, 300) or None,
            recorded_by_id=actor.id,
        )
        db.session.add(transfer)
        db.session.flush()
        audit(actor, "party.transfer_recorded", "party_transfer", transfer.id, veteran.station_id, direction=direction)
    return transfer


def get_transfer(*, actor, transfer_id, permission="party.view", lock=False):
    require_permission(actor, permission)
    return get_scoped(
        PartyTransfer,
        transfer_id,
        actor=actor,
        unit_column=PartyTransfer.station_id,
        not_found=TransferNotFound,
        lock=lock,
    )


def complete_transfer(*, actor, transfer_id, completed_on):
    """Close an open transfer. Inbound: the membership's branch becomes the receiving branch (a member needed), and
    the onboarding case's party_transfer step is done (Art. 7)."""
    with transaction():
        transfer = get_transfer(actor=actor, transfer_id=transfer_id, permission="party.manage", lock=True)
        if transfer.state != "open":
            raise TransferClosed(details={"state": transfer.state})
        if completed_on < transfer.started_on:
            raise ValidationFailed(details={"completed_on": "办结日期不能早于开始日期"})
        if transfer.direction == "in":
            row = db.session.get(PartyMembership, transfer.veteran_id)
            if row is None:
                raise NotAMember()
            if transfer.branch_id:
                row.branch_id, row.updated_by_id = transfer.branch_id, actor.id
        transfer.state, transfer.completed_on = "done", completed_on
        audit(actor, "party.transfer_completed", "party_transfer", transfer.id, transfer.station_id)
        if transfer.direction == "in" and step_done_elsewhere is not None:
            step_done_elsewhere(
                actor=actor,
                veteran_id=transfer.veteran_id,
                step="party_transfer",
                done_on=completed_on,
                note=f"组织关系转入：{transfer.counterpart}",
            )
    return transfer


def cancel_transfer(*, actor, transfer_id):
    with transaction():
        transfer = get_transfer(actor=actor, transfer_id=transfer_id, permission="party.manage", lock=True)
        if transfer.state != "open":
            raise TransferClosed(details={"state": transfer.state})
        transfer.state = "cancelled"
        audit(actor, "party.transfer_cancelled", "party_transfer", transfer.id, transfer.station_id)
    return transfer


def latest_evaluation(veteran_id):
    """The veteran's most recent yearly evaluation (评定意见), or None: a reference for honors and preferential
    services. No scope check here: the caller has already opened the veteran within its scope."""
    return db.session.scalars(
        select(PartyEvaluation).where(PartyEvaluation.veteran_id == veteran_id).order_by(PartyEvaluation.year.desc())
    ).first()


def branch_names(ids):
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(PartyBranch.id, PartyBranch.name).where(PartyBranch.id.in_(ids))).all())
