"""Roles and the permissions they grant (RBAC). Data scope (where) is separate: backend/orgs/scope.py.

三员分立: the system administrator runs the org tree and configuration but cannot read the audit log; the security
administrator manages accounts and roles but approves no business; the auditor reads the audit log and changes nothing.
"""

ROLE_LABELS = {
    "station_staff": "服务站工作人员",
    "center_reviewer": "服务中心审核员",
    "supervisor": "主管部门（只读）",
    "sys_admin": "系统管理员",
    "security_admin": "安全管理员",
    "auditor": "审计员",
}

PERMISSIONS = {
    "orgs.view": "查看组织机构",
    "orgs.manage": "管理组织机构",
    "staff.view": "查看工作人员账号",
    "staff.manage": "管理工作人员账号与角色",
    "audit.view": "查阅审计日志",
    "veterans.view": "查看退役军人信息",
    "veterans.edit": "登记、修改、调整退役军人信息",
    "veterans.reveal": "查看完整身份证号和手机号",
    "veterans.import": "批量导入退役军人",
    "registration.view": "查看年度确认登记",
    "registration.enter": "现场录入年度确认登记",
    "registration.review": "审核年度确认登记、约谈",
    "registration.windows": "设置年度确认办理时间",
    "travel.view": "查看出入境报备",
    "travel.record": "代为登记出入境报备、记录跟进情况",
    # notifications slice (issue 13)
    "notifications.view": "查看通知及送达情况",
    "notifications.send": "编写、发送关爱通知",
    "notifications.approve": "审批大范围通知（四眼原则）",
    "notifications.templates": "管理消息模板",
    "notifications.calls": "处理电话联系任务",
    # bookings slice (issue 14)
    "bookings.view": "查看服务预约",
    "bookings.manage": "管理服务项目、工作时间与本站日历",
    "bookings.counter": "窗口办理预约（签到、完成、爽约、代约、取消）",
    "bookings.calendar": "维护全国法定节假日与调休安排",
    "pii.keys": "管理个人信息密钥版本与轮换",  # issue 15
    # care slice (issue 16)
    "care.view": "查看联系、走访与帮扶记录",
    "care.contact": "记录常态化联系、管理联系计划",
    "care.visits": "组织走访慰问、记录走访",
    "assistance.review": "受理、初审帮扶申请",
    "assistance.approve": "审批帮扶申请、登记发放",
    "groups.manage": "管理自我服务小组与带头人",
    "funding.view": "查看经费支出统计",
    # issue 17: reception one-stop, personnel archives, honors
    "onboarding.view": "查看接收安置办理情况",
    "onboarding.manage": "办理接收安置（一站式）",
    "archives.view": "查看人事档案登记与查阅记录",
    "archives.request": "登记档案查阅、复制申请",
    "archives.manage": "档案入档、转出、安全检查与数字档案",
    "archives.approve": "审批档案查阅、复制申请",
    "honors.view": "查看表彰、仪式与地方志",
    "honors.manage": "组织仪式与邀请、登记表彰、推荐编入地方志",
    "honors.review": "审核编入地方志",
    # issue 18: retirement pay
    "pension.view": "查看退役金标准、发放状态与名册",
    "pension.manage": "维护退役金标准、收款账户、停发与恢复",
    "pension.reveal": "查看完整收款账号",
    "pension.batch": "编制退役金调整批次与月度发放名册（经办）",
    "pension.approve": "复核执行调整批次、确认发放名册（复核）",
    "pension.rules": "配置停发、暂停发放规则与银行文件格式",
    # issue 19: party members, education reminders, employment, staff training
    "party.view": "查看党员信息与评定意见",
    "party.manage": "登记党员信息、组织关系转接与年度评定意见",
    "education.view": "查看教育提醒与知悉情况",
    "education.send": "发起政治教育、保密提醒",
    "education.attendance": "组织集中学习、登记参加情况",
    "employment.view": "查看就业创业与社会角色信息",
    "employment.manage": "登记就业状况、就业创业扶持与社会角色",
    "training.view": "查看工作人员培训与专人负责情况",
    "training.manage": "登记培训、明确负责科室与专人",
    # issue 20: feedback and the closed loop, assessment
    "feedback.view": "查看服务评价与投诉建议",
    "feedback.handle": "办理差评与投诉（闭环处理、回访）",
    "assessment.view": "查看考核评价指标与看板",
    "assessment.configure": "设置考核指标权重与目标值",
}

ROLE_PERMISSIONS = {
    "station_staff": {
        "orgs.view",
        "veterans.view",
        "veterans.edit",
        "veterans.import",
        "registration.view",
        "registration.enter",
        "travel.view",
        "travel.record",
        "notifications.view",
        "notifications.calls",
        "bookings.view",
        "bookings.manage",
        "bookings.counter",
        "care.view",
        "care.contact",
        "care.visits",
        "assistance.review",
        "groups.manage",
        "onboarding.view",
        "onboarding.manage",
        "archives.view",
        "archives.request",
        "honors.view",
        "honors.manage",
        "pension.view",
        "party.view",
        "party.manage",
        "education.view",
        "education.attendance",
        "employment.view",
        "employment.manage",
        "training.view",
        "feedback.view",
    },
    "center_reviewer": {
        "orgs.view",
        "veterans.view",
        "veterans.edit",
        "veterans.reveal",
        "veterans.import",
        "registration.view",
        "registration.enter",
        "registration.review",
        "travel.view",
        "travel.record",
        "notifications.view",
        "notifications.send",
        "notifications.approve",
        "notifications.calls",
        "bookings.view",
        "bookings.manage",
        "bookings.counter",
        "care.view",
        "care.contact",
        "care.visits",
        "assistance.review",
        "assistance.approve",
        "groups.manage",
        "funding.view",
        "onboarding.view",
        "onboarding.manage",
        "archives.view",
        "archives.request",
        "archives.manage",
        "archives.approve",
        "honors.view",
        "honors.manage",
        "honors.review",
        "pension.view",
        "pension.manage",
        "pension.reveal",
        "pension.batch",
        "pension.approve",
        "party.view",
        "party.manage",
        "education.view",
        "education.send",
        "education.attendance",
        "employment.view",
        "employment.manage",
        "training.view",
        "training.manage",
        "feedback.view",
        "feedback.handle",
        "assessment.view",
    },
    "supervisor": {
        "orgs.view",
        "veterans.view",
        "registration.view",
        "travel.view",
        "notifications.view",
        "bookings.view",
        "care.view",
        "funding.view",
        "onboarding.view",
        "archives.view",
        "honors.view",
        "pension.view",
        "party.view",
        "education.view",
        "employment.view",
        "training.view",
        "feedback.view",
        "assessment.view",
        "assessment.configure",
    },
    "sys_admin": {
        "orgs.view",
        "orgs.manage",
        "staff.view",
        "registration.windows",
        "notifications.templates",
        "bookings.calendar",
        "pii.keys",
        "pension.rules",
    },
    "security_admin": {"orgs.view", "staff.view", "staff.manage"},
    "auditor": {"orgs.view", "audit.view"},
}

ROLES = tuple(ROLE_LABELS)


def permissions_for(roles):
    granted = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, set())
    return granted


# 三员分立 on combinations (issue #10): one account holds at most one administrator role, and the auditor holds no
# business role either (the auditor must not audit their own work).
ADMIN_ROLES = frozenset({"sys_admin", "security_admin", "auditor"})
BUSINESS_ROLES = frozenset({"station_staff", "center_reviewer", "supervisor"})


def separation_conflict(roles):
    """True when the role set breaks 三员分立: two administrator roles, or the auditor with a business role."""
    roles = set(roles)
    return len(roles & ADMIN_ROLES) > 1 or ("auditor" in roles and bool(roles & BUSINESS_ROLES))
