"""Who a staff notification goes to: an audience filter within the sender's scope, and/or hand-picked veterans.

The audience is a small JSON filter (never personal data), validated strictly by `clean_audience`; an empty audience
means "hand-picked recipients only". Picks (searched or uploaded ID numbers) are resolved to veterans within scope and
stored in notification_pick. At send time `materialize` recomputes the scope from the sender unit's subtree, so a
crafted filter or a stale pick never reaches outside it.
"""

import re

from sqlalchemy import String, and_, bindparam, delete, exists, func, insert, literal, or_, select, union
from sqlalchemy.dialects.postgresql import ARRAY

from backend import pii
from backend.bulk import id_in, id_rows
from backend.db import utcnow
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.notifications.models import Delivery, NotificationPick, VeteranTag
from backend.orgs.models import OrgUnit
from backend.orgs.scope import OrgUnitNotFound
from backend.registration.models import STATUS_LABELS as REGISTRATION_STATUS_LABELS
from backend.registration.models import Registration
from backend.veterans.identity import InvalidIdNumber, parse_id_number
from backend.veterans.models import ID_CONTEXT, Veteran
from backend.veterans.queries import path_range

AUDIENCE_KEYS = frozenset({"unit_id", "grid_id", "party_member", "registration", "overdue_trip", "wechat", "tags"})
REGISTRATION_STATES = {"none": "未办理", **REGISTRATION_STATUS_LABELS}
WECHAT_STATES = {"bound": "已绑定微信", "unbound": "未绑定微信"}
REACHABLE_STATUSES = ("active", "suspended")  # never the deceased or the transferred-out
MAX_TAGS = 10
MAX_IDS = 20_000  # ID numbers per upload
NOT_FOUND_TEXT = "未找到或不在本单位范围内"
_ID = re.compile(r"[0-9]{1,19}")


def _invalid(field, message):
    return ValidationFailed(details={field: message})


def _int(value, field):
    if isinstance(value, bool):
        raise _invalid(field, "格式不正确")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _invalid(field, "格式不正确") from None
    if not 0 < number < 2**63:
        raise _invalid(field, "格式不正确")
    return number


def base_path(who):
    """The scope path of a staff member or an OrgUnit."""
    return who.scope_path if hasattr(who, "scope_path") else who.path


def _unit_under(path, unit_id):
    """The unit `unit_id` if it lies under `path`; a missing and an out-of-scope unit answer alike (404)."""
    unit = db.session.get(OrgUnit, unit_id)
    if unit is None or not unit.path.startswith(path):
        raise OrgUnitNotFound()
    return unit


def clean_audience(who, raw):
    """The validated audience filter for a sender (a Staff or their OrgUnit), or {} for "no filter recipients".

    :raises ValidationFailed: an unknown key or a malformed value. :raises OrgUnitNotFound: a unit or grid that is
        missing or outside the sender's subtree (the same answer).
    """
    if raw in (None, {}):
        return {}
    if not isinstance(raw, dict):
        raise _invalid("audience", "格式不正确")
    unknown = set(raw) - AUDIENCE_KEYS
    if unknown:
        raise _invalid("audience", "不支持的筛选条件")
    path = base_path(who)
    unit_id = raw.get("unit_id")
    unit = _unit_under(path, _int(unit_id, "unit_id")) if unit_id not in (None, "") else None
    if unit is None:
        unit = who.org_unit if hasattr(who, "org_unit") else who
    clean = {"unit_id": unit.id}
    if raw.get("grid_id") not in (None, ""):
        grid = _unit_under(unit.path, _int(raw["grid_id"], "grid_id"))
        if grid.level != "grid":
            raise OrgUnitNotFound()
        clean["grid_id"] = grid.id
    if raw.get("party_member") is not None:
        if not isinstance(raw["party_member"], bool):
            raise _invalid("party_member", "格式不正确")
        clean["party_member"] = raw["party_member"]
    if raw.get("registration") is not None:
        clean["registration"] = _registration(raw["registration"])
    if raw.get("overdue_trip") is not None:
        if raw["overdue_trip"] is not True:
            raise _invalid("overdue_trip", "格式不正确")
        clean["overdue_trip"] = True
    if raw.get("wechat") is not None:
        if raw["wechat"] not in WECHAT_STATES:
            raise _invalid("wechat", "格式不正确")
        clean["wechat"] = raw["wechat"]
    if raw.get("tags"):
        tags = raw["tags"]
        if not isinstance(tags, list) or len(tags) > MAX_TAGS:
            raise _invalid("tags", f"最多 {MAX_TAGS} 个标签")
        if not all(isinstance(t, str) and 0 < len(t.strip()) <= 20 for t in tags):
            raise _invalid("tags", "标签应为 1 至 20 个字")
        clean["tags"] = sorted({t.strip() for t in tags})
    return clean


def _registration(raw):
    if not isinstance(raw, dict) or set(raw) - {"year", "status"}:
        raise _invalid("registration", "格式不正确")
    year = raw.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 2000 <= year <= 2100:
        raise _invalid("registration", "请选择年度")
    if raw.get("status") not in REGISTRATION_STATES:
        raise _invalid("registration", "请选择办理状态")
    return {"year": year, "status": raw["status"]}


def _audience_path(path, audience):
    """The unit_path range the audience covers, never wider than `path` (the sender's subtree)."""
    for key in ("grid_id", "unit_id"):
        if audience.get(key):
            unit_path = db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == audience[key]))
            if unit_path is None or not unit_path.startswith(path):
                return None  # a unit gone or out of the sender's subtree: nobody
            return unit_path
    return path


def _audience_conditions(audience):
    conds = [Veteran.status.in_(REACHABLE_STATUSES)]
    if "party_member" in audience:
        conds.append(Veteran.party_member.is_(audience["party_member"]))
    reg = audience.get("registration")
    if reg:
        year_rows = select(Registration.id).where(
            Registration.veteran_id == Veteran.id, Registration.year == reg["year"]
        )
        if reg["status"] == "none":
            conds.append(~exists(year_rows))
        else:
            conds.append(exists(year_rows.where(Registration.status == reg["status"])))
    if audience.get("overdue_trip"):
        from backend.travel.models import Trip

        conds.append(
            exists(
                select(Trip.id).where(
                    Trip.veteran_id == Veteran.id, Trip.overdue.is_(True), Trip.status.in_(("planned", "departed"))
                )
            )
        )
    if audience.get("wechat"):
        from backend.accounts.models import WechatAccount

        bound = exists(select(WechatAccount.id).where(WechatAccount.veteran_id == Veteran.id))
        conds.append(bound if audience["wechat"] == "bound" else ~bound)
    if audience.get("tags"):
        conds.append(
            exists(
                select(VeteranTag.tag).where(VeteranTag.veteran_id == Veteran.id, VeteranTag.tag.in_(audience["tags"]))
            )
        )
    return conds


def _audience_ids(path, audience):
    """A SELECT of the ids of the audience's veterans under `path`, or None when the audience selects nobody."""
    if not audience:
        return None
    unit_path = _audience_path(path, audience)
    if unit_path is None:
        return None
    return select(Veteran.id.label("id")).where(*path_range(unit_path), *_audience_conditions(audience))


def _pick_ids(path, notification_id):
    return (
        select(Veteran.id.label("id"))
        .join(NotificationPick, NotificationPick.veteran_id == Veteran.id)
        .where(
            NotificationPick.notification_id == notification_id,
            Veteran.status.in_(REACHABLE_STATUSES),
            *path_range(path),
        )
    )


def _recipient_ids(path, audience, notification_id=None, pick_ids=None):
    """A SELECT (column `id`) of audience ∪ picks under `path`; picks are stored ones or a list of ids."""
    parts = []
    audience_q = _audience_ids(path, audience)
    if audience_q is not None:
        parts.append(audience_q)
    if notification_id is not None:
        parts.append(_pick_ids(path, notification_id))
    if pick_ids:
        parts.append(
            select(Veteran.id.label("id")).where(
                id_in(Veteran.id, pick_ids), Veteran.status.in_(REACHABLE_STATUSES), *path_range(path)
            )
        )
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else union(*parts)


def count(who, audience, *, notification_id=None, pick_ids=None):
    """How many veterans the audience and the picks reach within the sender's scope (each once)."""
    ids = _recipient_ids(base_path(who), audience, notification_id, pick_ids)
    if ids is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(ids.subquery())) or 0


def push_count(who, audience, *, wechat_template_id, notification_id=None, pick_ids=None):
    """How many of them would get a WeChat push: bound, holding a credit or a long-term grant, not refused."""
    if not wechat_template_id:
        return 0
    from backend.accounts.models import WechatAccount
    from backend.subscriptions.models import SubscriptionCredit

    ids = _recipient_ids(base_path(who), audience, notification_id, pick_ids)
    if ids is None:
        return 0
    sub = ids.subquery()
    credit = SubscriptionCredit
    query = (
        select(func.count())
        .select_from(sub)
        .join(WechatAccount, WechatAccount.veteran_id == sub.c.id)
        .join(
            credit,
            and_(credit.openid == WechatAccount.openid, credit.template_id == wechat_template_id),
        )
        .where(
            credit.refused.is_(False),
            or_(credit.credits > 0, and_(credit.long_term.is_(True), credit.granted.is_(True))),
        )
    )
    return db.session.scalar(query) or 0


def sample_recipient(who, audience, *, notification_id=None, pick_ids=None):
    """The first recipient by id (for the preview), or None."""
    ids = _recipient_ids(base_path(who), audience, notification_id, pick_ids)
    if ids is None:
        return None
    sub = ids.subquery()
    first = db.session.scalar(select(sub.c.id).order_by(sub.c.id).limit(1))
    return db.session.get(Veteran, first) if first else None


def materialize(notification, after_id, limit):
    """Write queued deliveries for the next `limit` recipients with veteran id > `after_id` (None: from the start).

    The scope is the sender unit's subtree now, at send time. Idempotent: a veteran already holding a delivery of
    this notification is skipped (NOT EXISTS, backed by the unique constraint). Returns the last veteran id
    considered, or None when no recipient is left after `after_id`.
    """
    sender_path = db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == notification.sender_unit_id))
    if sender_path is None:
        return None
    after_id = after_id or 0
    parts = []
    audience_q = _audience_ids(sender_path, notification.audience or {})
    picks_q = _pick_ids(sender_path, notification.id)
    for part in (audience_q, picks_q):
        if part is not None:
            # Each branch is its own keyset range with a LIMIT, so neither reads past the batch.
            branch = part.where(Veteran.id > after_id).order_by(Veteran.id).limit(limit).subquery()
            parts.append(select(branch.c.id))
    both = (union(*parts) if len(parts) > 1 else parts[0]).subquery()
    ids = db.session.scalars(select(both.c.id).order_by(both.c.id).limit(limit)).all()
    if not ids:
        return None
    now = utcnow()
    rows = id_rows(ids, name="veteran_id")
    table = Delivery.__table__
    already = select(table.c.id).where(
        table.c.notification_id == notification.id, table.c.veteran_id == rows.c.veteran_id
    )
    db.session.execute(
        insert(table).from_select(
            ["notification_id", "veteran_id", "status", "attempts", "created_at", "updated_at"],
            select(
                literal(notification.id),
                rows.c.veteran_id,
                literal("queued"),
                literal(0),
                literal(now, table.c.created_at.type),
                literal(now, table.c.updated_at.type),
            ).where(~exists(already)),
        )
    )
    return ids[-1]


# --- hand-picked and uploaded recipients


def resolve_id_numbers(who, raw_numbers):
    """Veterans within scope for a list of ID numbers, matched by their HMAC index (never decrypted or logged).

    :returns: (veteran ids, {"matched", "not_found", "invalid"}): "not_found" counts numbers missing or outside the
        scope alike (shown as 「未找到或不在本单位范围内」), so nothing is revealed about other units.
    """
    raw_numbers = list(raw_numbers)
    if len(raw_numbers) > MAX_IDS:
        raise _invalid("id_numbers", f"一次最多 {MAX_IDS} 个身份证号")
    indexes, numbers, invalid = set(), set(), 0
    for raw in raw_numbers:
        try:
            numbers.add(parse_id_number(raw).number)
            indexes.update(pii.index_values(parse_id_number(raw).number, context=ID_CONTEXT))
        except InvalidIdNumber:
            invalid += 1
    found = []
    if indexes:
        found = db.session.scalars(
            select(Veteran.id).where(
                _text_in(Veteran.id_number_hmac, sorted(indexes)),
                Veteran.status.in_(REACHABLE_STATUSES),
                *path_range(base_path(who)),
            )
        ).all()
    return sorted(found), {"matched": len(found), "not_found": len(numbers) - len(found), "invalid": invalid}


def _text_in(column, values):
    """`column IN values` as one array parameter on PostgreSQL (an upload may hold thousands of numbers)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == func.any(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(list(values))


def scoped_veteran_ids(who, veteran_ids):
    """The subset of `veteran_ids` (garbage dropped) that lies within the sender's scope and can be reached."""
    # ASCII digits only: str.isdigit() also admits "²" or "١", which int() refuses or reads as another number
    clean = sorted({int(v) for v in map(str, veteran_ids) if _ID.fullmatch(v) and 0 < int(v) < 2**63})
    if not clean:
        return []
    return db.session.scalars(
        select(Veteran.id).where(
            id_in(Veteran.id, clean), Veteran.status.in_(REACHABLE_STATUSES), *path_range(base_path(who))
        )
    ).all()


def replace_picks(notification_id, veteran_ids):
    """Store the picks of a notification (in the caller's transaction)."""
    db.session.execute(delete(NotificationPick).where(NotificationPick.notification_id == notification_id))
    if veteran_ids:
        rows = id_rows(sorted(set(veteran_ids)), name="veteran_id")
        db.session.execute(
            insert(NotificationPick.__table__).from_select(
                ["notification_id", "veteran_id"], select(literal(notification_id), rows.c.veteran_id)
            )
        )


def pick_ids(notification_id):
    return db.session.scalars(
        select(NotificationPick.veteran_id).where(NotificationPick.notification_id == notification_id)
    ).all()


def search(who, name, limit=20):
    """Veterans within scope whose name starts with `name`, for hand-picking."""
    name = (name or "").strip()[:64]
    if not name:
        return []
    return db.session.scalars(
        select(Veteran)
        .where(
            Veteran.name.startswith(name, autoescape=True),
            Veteran.status.in_(REACHABLE_STATUSES),
            *path_range(base_path(who)),
        )
        .order_by(Veteran.name, Veteran.id)
        .limit(limit)
    ).all()
