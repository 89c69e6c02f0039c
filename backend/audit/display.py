"""What people read of the audit log: names and Chinese labels, never login names, role codes, object codes, raw
JSON or untranslated action codes.

Object names are resolved in batch for one page (one query per object type) and only within the reader's subtree:
an object outside it, or deleted, reads as its type alone. The auditor reads names, never ID numbers or phones.
"""

from dataclasses import dataclass
from datetime import timedelta, timezone

from sqlalchemy import select

from backend.audit.service import ACTION_LABELS, RESULT_LABELS
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import subtree_unit_ids
from backend.registration.content import SECTIONS
from backend.staff.roles import ROLE_LABELS

_CST = timezone(timedelta(hours=8))

OBJECT_TYPE_LABELS = {
    "veteran": "退役军人",
    "registration": "年度确认",
    "trip": "出行报备",
    "staff": "工作人员账号",
    "org_unit": "机构",
    "import_job": "批量导入任务",
    "wechat_account": "微信账号",
    "attachment": "证明材料",
    "registration_attachment": "证明材料",
}
VETERAN_FIELD_LABELS = {
    "name": "姓名",
    "id_number": "身份证号",
    "phone": "手机号",
    "address": "住址",
    "grid_worker": "网格员",
    "placement_date": "安置日期",
    "party_member": "中共党员",
    "status": "状态",
    "station_id": "服务站",
    "grid_id": "网格",
}
REASON_LABELS = {
    "unknown_user": "用户名不存在",
    "bad_password": "密码错误",
    "locked": "连续失败，账号已锁定",
    "disabled": "账号已停用",
    "bad_code": "动态口令错误",
    "out_of_scope": "超出数据范围",
    "not_owner": "不是本人的记录",
    "token_revoked": "登录凭证已失效",
    "permission": "没有此项权限",
    "accounts.bind_mismatch": "身份信息不匹配",
    "accounts.bind_locked": "绑定失败次数过多，暂时锁定",
    "accounts.already_bound": "该微信已绑定身份",
    "accounts.veteran_taken": "该身份已被其他微信绑定",
    "accounts.veteran_inactive": "该退役军人不在册",
    "accounts.not_found": "未找到对应的退役军人",
}
SECOND_FACTOR_LABELS = {"totp": "动态口令", "recovery_code": "恢复码"}
TOKEN_TYPE_LABELS = {"access": "访问凭证", "refresh": "刷新凭证"}
AREA_LABELS = {
    "veterans": "退役军人",
    "registration": "年度确认",
    "travel": "出入境报备",
    "staff": "工作人员账号",
    "orgs": "组织机构",
    "audit": "审计日志",
    "auth": "登录与账号",
    "home": "工作台",
}


def role_text(codes):
    """「服务中心审核员、服务站工作人员」 from "center_reviewer,station_staff" or a list; unknown codes: 其他角色."""
    if isinstance(codes, str):
        codes = [c for c in codes.split(",") if c]
    return "、".join(ROLE_LABELS.get(c, "其他角色") for c in codes or ())


def _asked_text(endpoint, method):
    area = AREA_LABELS.get((endpoint or "").split(".")[0])
    if not area:
        return "访问了系统接口"
    return f"{'查看' if method in ('GET', 'HEAD') else '操作'}{area}"


def summarize(details, unit_names=None):
    """A readable Chinese sentence for an audit row's or a timeline event's details (no codes, no JSON)."""
    details, unit_names = details or {}, unit_names or {}
    parts = []
    if details.get("reason"):
        parts.append(f"原因：{REASON_LABELS.get(details['reason'], '其他原因')}")
    if details.get("endpoint") or details.get("asked"):
        parts.append(_asked_text(details.get("endpoint"), details.get("method")))
    if "roles" in details:
        parts.append(f"角色：{role_text(details['roles']) or '无'}")
    if "before" in details and "after" in details:
        parts.append(f"角色：{role_text(details['before']) or '无'} → {role_text(details['after']) or '无'}")
    if details.get("fields"):
        parts.append("修改了：" + "、".join(VETERAN_FIELD_LABELS.get(f, "其他信息") for f in details["fields"]))
    if isinstance(details.get("from"), dict) and isinstance(details.get("to"), dict):
        parts.append(f"{_place(details['from'], unit_names)} → {_place(details['to'], unit_names)}")
    if details.get("sections"):
        parts.append("退回项：" + "、".join(SECTIONS.get(s, "其他") for s in details["sections"]))
    if details.get("year"):
        parts.append(f"年度：{details['year']}")
    if details.get("closes_on"):
        where = unit_names.get(details.get("unit_id")) if details.get("unit_id") else "全部机构"
        parts.append(f"截止日期：{details['closes_on']}（{where or '机构'}）")
    if "rows" in details:
        parts.append(f"共 {details['rows']} 条")
    if details.get("second_factor"):
        parts.append(f"二次验证方式：{SECOND_FACTOR_LABELS.get(details['second_factor'], '其他')}")
    if "was_enrolled" in details:
        parts.append("原已启用二次验证" if details["was_enrolled"] else "原未启用二次验证")
    if details.get("notice_version"):
        parts.append(f"告知书版本：{details['notice_version']}")
    if details.get("token_type"):
        parts.append(f"凭证类型：{TOKEN_TYPE_LABELS.get(details['token_type'], '其他')}")
    return "；".join(parts)


def _place(side, unit_names):
    station = unit_names.get(side.get("station_id"), "服务站")
    return f"{station} / {unit_names.get(side.get('grid_id'), '未指定网格')}" if side.get("grid_id") else station


def unit_ids_in(details_list):
    """Every unit id named by a list of details dicts (moves, windows): resolve them with unit_names()."""
    ids = set()
    for details in details_list:
        details = details or {}
        for side in (details.get("from"), details.get("to"), details):
            if isinstance(side, dict):
                ids |= {side.get(k) for k in ("station_id", "grid_id", "unit_id") if isinstance(side.get(k), int)}
    return ids


def unit_names(ids):
    if not ids:
        return {}
    return dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


def staff_names(*, ids=(), usernames=()):
    """{id: full name} and {username: full name} for staff, in two batched reads."""
    from backend.staff.models import Staff

    by_id = (
        dict(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(set(ids)))).all()) if ids else {}
    )
    by_name = (
        dict(
            db.session.execute(select(Staff.username, Staff.full_name).where(Staff.username.in_(set(usernames)))).all()
        )
        if usernames
        else {}
    )
    return by_id, by_name


def _int_ids(rows, object_type):
    out = set()
    for r in rows:
        if r.object_type == object_type and r.object_id and r.object_id.isdigit() and len(r.object_id) < 19:
            out.add(int(r.object_id))
    return out


def _object_names(reader, rows):
    """{(object_type, object_id): display name} for the page's rows, one query per type, within the reader's scope."""
    from backend.accounts.models import WechatAccount
    from backend.registration.models import Registration, RegistrationAttachment
    from backend.staff.models import Staff
    from backend.travel.models import Trip
    from backend.veterans.models import ImportJob, Veteran

    scope = subtree_unit_ids(reader)
    names = {}

    def add(object_type, query, render):
        ids = _int_ids(rows, object_type)
        if ids:
            for row in db.session.execute(query(ids)).all():
                names[(object_type, str(row[0]))] = render(row)

    add(
        "veteran",
        lambda ids: select(Veteran.id, Veteran.name).where(Veteran.id.in_(ids), Veteran.unit_id.in_(scope)),
        lambda r: r[1],
    )
    add(
        "registration",
        lambda ids: (
            select(Registration.id, Veteran.name, Registration.year)
            .join(Veteran, Veteran.id == Registration.veteran_id)
            .where(Registration.id.in_(ids), Registration.unit_id.in_(scope))
        ),
        lambda r: f"{r[1]} 的 {r[2]} 年度确认",
    )
    add(
        "trip",
        lambda ids: (
            select(Trip.id, Veteran.name)
            .join(Veteran, Veteran.id == Trip.veteran_id)
            .where(Trip.id.in_(ids), Trip.unit_id.in_(scope))
        ),
        lambda r: f"{r[1]} 的出行报备",
    )
    add(
        "staff",
        lambda ids: select(Staff.id, Staff.full_name).where(Staff.id.in_(ids), Staff.org_unit_id.in_(scope)),
        lambda r: f"{r[1]}（工作人员）",
    )
    add(
        "org_unit",
        lambda ids: select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids), OrgUnit.id.in_(scope)),
        lambda r: r[1],
    )
    add(
        "import_job",
        lambda ids: select(ImportJob.id, ImportJob.created_at).where(
            ImportJob.id.in_(ids), ImportJob.unit_id.in_(scope)
        ),
        lambda r: f"批量导入任务（{r[1].astimezone(_CST):%Y-%m-%d %H:%M} 提交）",
    )
    add(
        "wechat_account",
        lambda ids: (
            select(WechatAccount.id, Veteran.name)
            .join(Veteran, Veteran.id == WechatAccount.veteran_id)
            .where(WechatAccount.id.in_(ids), Veteran.unit_id.in_(scope))
        ),
        lambda r: f"{r[1]} 的微信账号",
    )
    for kind in ("attachment", "registration_attachment"):
        add(
            kind,
            lambda ids: (
                select(RegistrationAttachment.id, Veteran.name)
                .join(Registration, Registration.id == RegistrationAttachment.registration_id)
                .join(Veteran, Veteran.id == Registration.veteran_id)
                .where(RegistrationAttachment.id.in_(ids), Registration.unit_id.in_(scope))
            ),
            lambda r: f"{r[1]} 的证明材料",
        )
    return names


@dataclass
class AuditLine:
    row: object
    who: str
    roles: str
    action: str
    target: str
    result: str
    summary: str


def _who(row, staff, accounts):
    if row.actor_type == "staff":
        return staff.get(row.actor_id, "工作人员（账号已删除）")
    if row.actor_type == "veteran":
        name = accounts.get(("wechat_account", str(row.actor_id)))
        return f"{name.removesuffix(' 的微信账号')}（小程序）" if name else "退役军人本人（小程序）"
    return {"system": "系统", "anonymous": "匿名访问者"}.get(row.actor_type, "其他")


def present(*, reader, rows):
    """The audit rows of one page as AuditLine: every code replaced by its Chinese label, every object by its name."""
    staff, _ = staff_names(ids={r.actor_id for r in rows if r.actor_type == "staff" and r.actor_id})
    objects = _object_names(reader, rows)
    account_rows = [
        _Ref("wechat_account", str(r.actor_id)) for r in rows if r.actor_type == "veteran" and r.actor_id is not None
    ]
    accounts = _object_names(reader, account_rows) if account_rows else {}
    units = unit_names(unit_ids_in([r.details for r in rows]))
    out = []
    for r in rows:
        type_label = OBJECT_TYPE_LABELS.get(r.object_type, "其他对象") if r.object_type else ""
        target = objects.get((r.object_type, r.object_id)) or (
            f"{type_label}（不在查看范围或已删除）" if r.object_type and r.object_id else type_label
        )
        out.append(
            AuditLine(
                row=r,
                who=_who(r, staff, accounts),
                roles=role_text(r.actor_roles),
                action=ACTION_LABELS.get(r.action, "其他操作"),
                target=target,
                result=RESULT_LABELS.get(r.result, "其他"),
                summary=summarize(r.details, units),
            )
        )
    return out


@dataclass(frozen=True)
class _Ref:
    object_type: str
    object_id: str
