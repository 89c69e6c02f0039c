"""Writing and reading the audit log. The app never updates or deletes an audit row.

record() only inserts: no lock and no read of other rows, so audited writes never wait for each other. The sealer
(backend/audit/chain.py) chains the rows shortly after with a keyed HMAC; backend/audit/verify.py checks the chain and
the signed checkpoints kept outside the database.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import and_, func, insert, or_, select

from backend.audit.models import AuditLog
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.logs import current_request_id, current_source_ip

CST = timezone(timedelta(hours=8))

ACTION_LABELS = {
    "staff.login": "登录",
    "staff.logout": "退出登录",
    "staff.password_change": "修改密码",
    "staff.create": "创建账号",
    "system.bootstrap": "系统初始化（创建顶级单位与三员账号）",
    "staff.disable": "停用账号",
    "staff.enable": "启用账号",
    "staff.password_reset": "重置密码",
    "staff.roles_change": "变更角色",
    "staff.end_sessions": "强制下线",
    "staff.login_password": "登录（密码已验证，待二次验证）",
    "staff.totp_enrol": "启用二次验证",
    "staff.totp_reset": "重置二次验证",
    "orgs.create": "新建机构",
    "orgs.rename": "修改机构",
    "access.denied": "越权访问被拒绝",
    "veterans.create": "登记退役军人",
    "veterans.update": "修改退役军人信息",
    "veterans.move": "调整服务站/网格",
    "veterans.reveal": "查看完整证件号",
    "veterans.import": "批量导入",
    "veterans.import_rejects_download": "下载未导入的行",  # import slice (issue 11)
    "veteran.login": "小程序登录",
    "veteran.logout": "小程序退出",
    "veteran.bind": "绑定身份",
    "veteran.unbind": "解除绑定",
    "veteran.token_reuse": "刷新令牌重复使用",
    "registration.draft_deleted": "删除年度确认草稿",
    # lists slice (issue 11): the timeline actions recorded as registration.<action> / travel.<action>
    "registration.draft_created": "创建年度确认草稿",
    "registration.talk_held": "完成约谈",
    "registration.talk_cancelled": "取消约谈",
    "travel.departed": "出行报备：已出境",
    "travel.returned": "出行报备：已返回",
    "travel.cancelled": "出行报备：已取消",
    "travel.followed_up": "出行报备：跟进联系",
    "registration.submitted": "提交年度确认",
    "registration.resubmitted": "补正后重新提交",
    "registration.approved": "审核通过",
    "registration.returned": "退回补正",
    "registration.flagged": "关注事项/约谈",
    "registration.overdue": "逾期未报",
    "registration.window": "设置办理时间",
    "registration.export": "导出确认进度",
    "registration.attachment_download": "下载证明材料",
    "travel.consent": "出入境单独同意",
    "travel.reported": "出行报备",
    "travel.view": "查看出行详情",
    "travel.export": "导出出入境报备",
    # exports slice (issue 12): every export is a job
    # issue 15: personal data keys
    "pii.rotation_started": "启动密钥轮换",
    "pii.rotation_finished": "密钥轮换完成",
    "pii.version_retired": "退役密钥版本",
    "export.requested": "申请导出",
    "export.finished": "导出完成",
    "export.downloaded": "下载导出文件",
    # notifications slice (issue 13): compose and send (backend/notifications/compose.py)
    "notifications.draft_created": "编写通知草稿",
    "notifications.draft_updated": "修改通知",
    "notifications.submitted": "提交发送通知",
    "notifications.approved": "审批通过通知",
    "notifications.rejected": "审批退回通知",
    "notifications.cancelled": "取消通知",
    # notifications slice (issue 13): the call list and veteran tags (calls.py, tags.py)
    "notifications.call_outcome": "记录电话联系结果",
    "notifications.call_reveal": "查看电话联系号码",
    "veterans.tags": "修改标签",
    "notifications.template_version_created": "保存消息模板新版本",  # notifications slice (issue 13): templates
    # bookings slice (issue 14): the counter (backend/bookings/counter.py, blocks.py)
    "bookings.checked_in": "预约签到",
    "bookings.completed": "预约办结",
    "bookings.no_show": "标记预约爽约",
    "bookings.station_cancelled": "服务站取消预约",
    "bookings.counter_booked": "窗口代为预约",
    "bookings.slot_cancelled": "取消预约时段",
    "bookings.block_lifted": "解除预约限制",
    "bookings.phone_booked": "小程序预约",
    "bookings.phone_cancelled": "小程序取消预约",
    "bookings.phone_rescheduled": "小程序改约",
    "bookings.service_create": "新增服务项目",
    "bookings.service_update": "修改服务项目",
    "bookings.service_deactivate": "停用服务项目",
    "bookings.services_default": "添加常用服务项目",
    "bookings.calendar_set": "设置日历（休息日/工作日）",
    # care slice (issue 16, C4): self-service groups (backend/groups/)
    "groups.create": "建立自我服务小组",
    "groups.leader_set": "设置小组带头人",
    "groups.member_add": "加入小组成员",
    "groups.member_remove": "移出小组成员",
    "groups.activity_log": "登记小组活动",
    # care slice (issue 16, C2): visits and condolences
    "visits.campaign_created": "创建走访慰问活动",
    "visits.assigned": "分配走访任务",
    "visits.recorded": "登记走访慰问",
    "visits.skipped": "标记未走访",
    "visits.photo_added": "上传走访照片",
    "visits.photo_download": "下载走访照片",
    "bookings.calendar_delete": "删除日历设置",
    # care slice (issue 16, C1): regular contact (backend/care/)
    "care.contact_record": "记录常态化联系",
    "care.notes_read": "查看联系记录内容",
    "care.plan_update": "修改联系计划",
    "care.policy_set": "设置联系周期",
    # care slice (issue 16, C3): hardship assistance (backend/assistance/)
    "assistance.submitted": "小程序申请帮扶",
    "assistance.opened": "代为登记帮扶申请",
    "assistance.viewed": "查看帮扶申请详情",
    "assistance.review_started": "受理帮扶申请",
    "assistance.recommended": "推荐上报帮扶申请",
    "assistance.rejected": "不予批准帮扶申请",
    "assistance.first_approved": "帮扶申请第一审批",
    "assistance.approved": "批准帮扶申请",
    "assistance.paid": "登记帮扶资金发放",
    "assistance.closed": "帮扶申请回访办结",
    "assistance.attachment_added": "上传帮扶证明材料",
    "assistance.attachment_download": "下载帮扶证明材料",
    # issue 17, Art. 8: personnel archives (backend/archives/)
    "archives.location_created": "新增档案存放地点",
    "archives.location_updated": "修改档案存放地点",
    "archives.intake": "档案入档",
    "archives.items_added": "补充档案材料目录",
    "archives.request_filed": "登记档案查阅、复制申请",
    "archives.request_approved": "批准档案查阅、复制申请",
    "archives.request_rejected": "不予批准档案查阅、复制申请",
    "archives.request_cancelled": "撤销档案查阅、复制申请",
    "archives.looked_up": "登记档案查阅、复制办结",
    "archives.transferred_out": "档案转出",
    "archives.inspected": "登记档案安全检查",
    "archives.file_added": "上传数字档案扫描件",
    "archives.file_viewed": "查看数字档案（加水印）",
    # issue 17, Art. 11: honors and ceremonies (backend/honors/)
    "honors.ceremony_create": "登记庆典仪式",
    "honors.invite": "发出庆典仪式邀请",
    "honors.reply_record": "代为登记邀请回复",
    "honors.rsvp": "小程序回复庆典仪式邀请",
    "honors.award_create": "登记表彰奖励",
    "honors.chronicle_propose": "推荐编入地方志",
    "honors.chronicle_accept": "审核通过编入地方志",
    "honors.chronicle_reject": "地方志推荐不予采纳",
    # issue 17, Art. 7: the reception one-stop (backend/onboarding/)
    "onboarding.opened": "办理接收安置（建立一站式办理）",
    "onboarding.step": "变更接收安置办理事项状态",
    "onboarding.coordination": "登记接收安置协调情况",
    "onboarding.attachment_added": "上传接收安置证明材料",
    "onboarding.attachment_download": "下载接收安置证明材料",
    "onboarding.closed": "接收安置办结",
    "honors.welcome_recorded": "登记欢迎仪式",
    # issue 18, part 1: retirement pay amounts, accounts, states and rules (backend/pension/)
    "pension.amount_set": "设定退役金标准",
    "pension.account_set": "设置退役金收款账户",
    "pension.account_revealed": "查看完整收款账号",
    "pension.category_set": "设置退役金类别",
    "pension.started": "起发退役金",
    "pension.suspended": "暂停发放退役金",
    "pension.stopped": "停止发放退役金",
    "pension.resumed": "恢复发放退役金（含补发）",
    "pension.auto_suspended": "逾期未确认登记自动暂停发放",
    "pension.auto_suspend_failed": "逾期未确认登记自动暂停发放失败",
    "pension.rule_updated": "修改退役金停发规则",
    # issue 18, part 2: adjustment batches (backend/pension/adjustments.py, adjust_preview.py)
    "pension.batch_created": "新建退役金调整批次",
    "pension.batch_compensation_created": "新建退役金冲正批次",
    "pension.batch_previewed": "预览退役金调整批次",
    "pension.batch_applied": "复核执行退役金调整批次",
    "pension.batch_cancelled": "作废退役金调整批次",
    # issue 18, part 3: payroll runs, bank files, return files (backend/pension/payroll.py, bank_files.py, returns.py)
    "pension.run_started": "编制退役金发放名册",
    "pension.run_cancelled": "作废退役金发放名册",
    "pension.run_confirmed": "复核确认退役金发放名册",
    "pension.run_exported": "下载退役金银行发放文件",
    "pension.export_mismatch": "银行发放文件重新生成不一致（已拒绝）",
    "pension.layout_saved": "保存银行文件格式",
    "pension.return_imported": "导入银行回盘文件",
    "pension.failure_fixed": "标记发放失败已处理（转入下月补发）",
    # issue 19: party members (backend/party/)
    "party.branch_created": "登记党组织",
    "party.branch_deactivated": "停用党组织",
    "party.membership_set": "登记党员信息",
    "party.membership_removed": "登记为非党员",
    "party.transfer_recorded": "登记组织关系转接",
    "party.transfer_completed": "办结组织关系转接",
    "party.transfer_cancelled": "取消组织关系转接",
    "party.evaluation_recorded": "登记党员年度评定意见",
    "party.evaluation_download": "下载党员评定文件",
    # issue 19: staff training (backend/training/)
    "training.responsible_set": "明确负责科室与专人",
    "training.responsible_cleared": "清除负责科室与专人",
    "training.session_created": "登记工作人员培训",
    "training.attendee_added": "添加参训人员",
    "training.attendee_removed": "移除参训人员",
    # issue 19: education reminders (backend/education/)
    "education.campaign_created": "创建教育提醒",
    "education.campaign_updated": "修改教育提醒",
    "education.campaign_sent": "发送教育提醒",
    "education.campaign_chased": "未确认知悉人员转入电话联系",
    "education.session_created": "登记集中学习",
    "education.attendance_recorded": "登记集中学习参加情况",
    # issue 19: employment and entrepreneurship (backend/employment/)
    "employment.status_set": "登记就业状况",
    "employment.status_from_registration": "按年度确认更新就业状况",
    "employment.support_recorded": "登记就业创业扶持",
    "employment.support_outcome": "更新扶持结果",
    "employment.role_recorded": "登记社会角色",
    "employment.activity_recorded": "登记社会角色活动",
    # issue 20: assessment (backend/assessment/)
    "assessment.settings_saved": "设置考核指标权重与目标值",
    "assessment.recompute": "重新计算考核指标",
    "assessment.report_download": "下载年度考核报告",
    # issue 20: feedback and ratings, the closed loop (backend/feedback/)
    "feedback.rated": "小程序服务评价",
    "feedback.complaint_submitted": "小程序投诉建议",
    "feedback.attachment_added": "上传投诉建议附件",
    "feedback.attachment_download": "下载投诉建议附件",
    "feedback.case_opened": "差评/投诉立案",
    "feedback.case_viewed": "查看投诉评价办理详情",
    "feedback.assigned": "指派投诉评价办理人",
    "feedback.contacted": "记录联系投诉人情况",
    "feedback.resolved": "登记投诉评价办理结果",
    "feedback.revisited": "投诉评价回访",
    "feedback.closed": "投诉评价办结",
    "feedback.escalated": "投诉评价逾期或不满意上报",
    "feedback.reopened": "投诉评价重新办理",
}
RESULT_LABELS = {"success": "成功", "failure": "失败", "denied": "拒绝"}


@dataclass(frozen=True)
class SystemActor:
    """An actor for scheduled jobs and the CLI."""

    actor_type: str = "system"
    id: int | None = None
    label: str = "system"


def _actor_fields(actor):
    if actor is None:
        return {"actor_type": "anonymous", "actor_id": None, "actor_label": None, "actor_roles": None}
    fields = {"actor_type": actor.actor_type, "actor_id": actor.id}
    if actor.actor_type == "staff":
        fields.update(
            actor_label=actor.username,
            actor_roles=",".join(actor.roles),
            actor_org_id=actor.org_unit_id,
            org_path=actor.scope_path,
        )
    else:
        veteran = getattr(actor, "veteran", None)  # a mini program account: its veteran's station is its unit
        fields.update(
            actor_label=getattr(actor, "label", None),
            actor_roles=None,
            org_path=veteran.station.path if veteran is not None else None,
        )
    return fields


def record(*, actor, action, result="success", object_type=None, object_id=None, org_path=None, details=None):
    """Append one audit row inside the caller's transaction (it commits or rolls back with the change it records).

    :param actor: a Staff, a veteran, a SystemActor, or None for an anonymous caller.
    :param org_path: the unit path the row belongs to, when the actor has none (an anonymous login failure).
    :param details: small JSON without personal data.
    """
    row = AuditLog(
        occurred_at=utcnow(),
        action=action,
        result=result,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        request_id=current_request_id(),
        source_ip=current_source_ip(),
        details=details or {},
        **_actor_fields(actor),
    )
    if org_path and not row.org_path:
        row.org_path = org_path
    db.session.add(row)
    db.session.flush()
    return row


def record_many(*, actor, action, object_type, rows, result="success"):
    """Append one audit row per (object_id, org_path, details) in a single executemany inside the caller's
    transaction: for set-based writes (an import batch) that must stay audited per object."""
    rows = list(rows)
    if not rows:
        return 0
    common = {
        "occurred_at": utcnow(),
        "action": action,
        "result": result,
        "object_type": object_type,
        "request_id": current_request_id(),
        "source_ip": current_source_ip(),
        **_actor_fields(actor),
    }
    db.session.execute(
        insert(AuditLog),
        [
            {
                **common,
                "object_id": str(object_id),
                "org_path": common.get("org_path") or org_path,
                "details": details or {},
            }
            for object_id, org_path, details in rows
        ],
    )
    return len(rows)


def record_now(**kwargs):
    """Append one audit row in a transaction of its own, for events whose business change did not happen
    (a failed login, a refused request)."""
    with transaction():
        return record(**kwargs)


@dataclass
class AuditFilter:
    action: str | None = None
    result: str | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    date_from: object = None  # a date in China Standard Time
    date_to: object = None


def list_audit(*, actor, filters, before_id=None, limit=50):
    """Audit rows visible to `actor` (audit.view; rows of its unit's subtree, and unattributed rows for a root unit),
    newest first, keyset-paginated by id. Returns (rows, next_before_id)."""
    from backend.orgs.scope import require_permission

    require_permission(actor, "audit.view")
    query = select(AuditLog)
    scope = AuditLog.org_path.startswith(actor.scope_path, autoescape=True)
    if actor.org_unit.parent_id is None:
        scope = or_(scope, AuditLog.org_path.is_(None))
    query = query.where(scope)
    if filters.action:
        query = query.where(AuditLog.action == filters.action)
    if filters.result:
        query = query.where(AuditLog.result == filters.result)
    if filters.actor:  # a login name or, for staff, the person's full name
        from backend.staff.models import Staff

        named = select(Staff.id).where(Staff.full_name == filters.actor)
        query = query.where(
            or_(
                func.lower(AuditLog.actor_label) == filters.actor.lower(),
                and_(AuditLog.actor_type == "staff", AuditLog.actor_id.in_(named)),
            )
        )
    if filters.object_type:
        query = query.where(AuditLog.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditLog.object_id == filters.object_id)
    if filters.date_from:
        query = query.where(AuditLog.occurred_at >= datetime.combine(filters.date_from, time.min, CST))
    if filters.date_to:
        query = query.where(AuditLog.occurred_at < datetime.combine(filters.date_to + timedelta(days=1), time.min, CST))
    if before_id:
        query = query.where(AuditLog.id < before_id)
    rows = db.session.scalars(query.order_by(AuditLog.id.desc()).limit(limit + 1)).all()
    next_before = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_before
