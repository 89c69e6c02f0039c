"""Education campaigns (Art. 5): political education and confidentiality (保密) reminders to a target group.

A campaign belongs to the unit its audience is drawn from (always within the sender's subtree), so the stations of
that unit see it. Sending creates one staff-source notification of kind "education" (inbox only, no WeChat template)
that the notification pipeline fans out chunk by chunk (backend/notifications/materialize.py: set-based, resumable,
never the whole audience in one Python list); its inbox entries carry requires_ack (backend/notifications/kinds.py
ACK_KINDS) and the veteran answers 「我已阅读并知悉」 with POST /inbox/{id}/acknowledge.
"""

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from backend.audit import service as audit_service
from backend.db import transaction, utcnow
from backend.education.models import KINDS, EducationCampaign
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.notifications import dispatch, recipients, render
from backend.notifications.models import Notification
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, require_permission, scoped

KIND_LABELS = {"political": "政治教育", "confidentiality": "保密提醒"}
STATE_LABELS = {"draft": "草稿", "sent": "已发送"}
MAX_LINKS = 10
LINK_RULE = "链接应以 http:// 或 https:// 开头，或为本单位网站的相对路径（/开头）"
_URL = re.compile(r"^(https?://[^\s<>\"']{1,290}|/(?!/)[^\s<>\"']{0,290})$", re.IGNORECASE)


class CampaignNotFound(NotFound):
    code = "education.campaign_not_found"
    message = "未找到该教育提醒"


class AlreadySent(RuleViolation):
    code = "education.already_sent"
    message = "该教育提醒已发送，不能再修改或重复发送"


class NotSent(RuleViolation):
    code = "education.not_sent"
    message = "该教育提醒尚未发送"


def _path(unit_id):
    return db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == unit_id))


def audit(actor, action, campaign, **details):
    audit_service.record(
        actor=actor,
        action=action,
        object_type="education_campaign",
        object_id=campaign.id,
        org_path=_path(campaign.unit_id),
        details=details,
    )


def parse_date(value, field):
    if isinstance(value, date):
        return value
    value = (value or "").strip()[:10]
    if not value:
        raise ValidationFailed(details={field: "请填写日期"})
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(details={field: "日期格式应为 YYYY-MM-DD"}) from None


def parse_links(text):
    """Links typed one a line as 「标题 链接」 (or 「标题|链接」) -> [{"title", "url"}]. :raises ValidationFailed:"""
    links = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        line = line.replace("｜", "|")
        title, _, url = line.rpartition("|") if "|" in line else line.rpartition(" ")
        links.append({"title": title.strip() or url.strip(), "url": url.strip()})
    return clean_links(links)


def clean_links(links):
    """Only http(s) URLs or relative paths of the unit's own site; titles up to 60 characters; 10 links at most."""
    if not isinstance(links, list) or len(links) > MAX_LINKS:
        raise ValidationFailed(details={"links": f"学习材料链接最多 {MAX_LINKS} 条"})
    out = []
    for link in links:
        title = " ".join(str(link.get("title") or "").split())[:60] if isinstance(link, dict) else ""
        url = str(link.get("url") or "").strip() if isinstance(link, dict) else ""
        if not _URL.match(url):
            raise ValidationFailed(details={"links": LINK_RULE})
        out.append({"title": title or url[:60], "url": url})
    return out


def _fields(actor, *, kind, title, content, links, audience, due_on):
    title, content = " ".join((title or "").split()), (content or "").strip()
    errors = {}
    if kind not in KINDS:
        errors["kind"] = "请选择类别"
    if not title or len(title) > 60:
        errors["title"] = "请填写标题（不超过 60 字）"
    if not content or len(content) > 1500:
        errors["content"] = "请填写内容（不超过 1500 字）"
    if errors:
        raise ValidationFailed(details=errors)
    due = parse_date(due_on, "due_on")
    clean = recipients.clean_audience(actor, {"unit_id": None, **(audience or {})})  # always a unit: never {}
    links = clean_links(links or [])
    render.check_body(title, inbox_body(content, links))
    values = dict(kind=kind, title=title, content=content, links=links, audience=clean, due_on=due)
    return {**values, "unit_id": clean["unit_id"]}


def inbox_body(content, links):
    """The text the veteran reads: the content, then the unit's materials one a line."""
    if not links:
        return content
    lines = "\n".join(f"{link['title']}：{link['url']}" for link in links)
    return f"{content}\n\n学习材料：\n{lines}"


def create_campaign(*, actor, **fields):
    """A draft campaign. :raises PermissionDenied, ValidationFailed, OrgUnitNotFound:"""
    require_permission(actor, "education.send")
    values = _fields(actor, **fields)
    with transaction():
        campaign = EducationCampaign(created_by_id=actor.id, state="draft", **values)
        db.session.add(campaign)
        db.session.flush()
        audit(actor, "education.campaign_created", campaign, kind=campaign.kind, due_on=campaign.due_on.isoformat())
    return campaign


def update_campaign(*, actor, campaign_id, **fields):
    """Edit a draft. :raises …, AlreadySent:"""
    require_permission(actor, "education.send")
    values = _fields(actor, **fields)
    with transaction():
        campaign = get_campaign(actor=actor, campaign_id=campaign_id, permission="education.send", lock=True)
        if campaign.state != "draft":
            raise AlreadySent()
        for key, value in values.items():
            setattr(campaign, key, value)
        audit(actor, "education.campaign_updated", campaign)
    return campaign


def get_campaign(*, actor, campaign_id, permission="education.view", lock=False):
    """A campaign of a unit in the actor's subtree. :raises PermissionDenied, CampaignNotFound:"""
    require_permission(actor, permission)
    return get_scoped(
        EducationCampaign,
        campaign_id,
        actor=actor,
        unit_column=EducationCampaign.unit_id,
        not_found=CampaignNotFound,
        lock=lock,
    )


def unit_of(campaign):
    return db.session.get(OrgUnit, campaign.unit_id)


def preview_count(campaign):
    """How many veterans the audience reaches now (one COUNT over the unit's subtree)."""
    return recipients.count(unit_of(campaign), campaign.audience)


def send(*, actor, campaign_id, now=None):
    """Send a draft: one notification of kind "education" fanned out by the pipeline (after commit).

    :raises PermissionDenied, CampaignNotFound, AlreadySent, ValidationFailed (nobody in the audience):
    """
    require_permission(actor, "education.send")
    now = now or utcnow()
    with transaction():
        campaign = get_campaign(actor=actor, campaign_id=campaign_id, permission="education.send", lock=True)
        if campaign.state != "draft":
            raise AlreadySent()
        total = preview_count(campaign)
        if total == 0:
            raise ValidationFailed(details={"recipients": "没有符合条件的收件人"})
        notification = Notification(
            kind="education",
            source="staff",
            title=campaign.title,
            body=inbox_body(campaign.content, campaign.links),
            variables={"截止日期": campaign.due_on.strftime(render.CST_FORMAT)},
            sender_unit_id=campaign.unit_id,
            created_by_id=actor.id,
            audience=campaign.audience,
            status="sending",
            follow_up=False,  # the campaign's own chase puts the unacknowledged on the call list
            recipient_count=total,
            started_at=now,
        )
        db.session.add(notification)
        db.session.flush()
        result = db.session.execute(
            update(EducationCampaign)
            .where(EducationCampaign.id == campaign.id, EducationCampaign.state == "draft")
            .values(state="sent", notification_id=notification.id, recipient_count=total, sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise AlreadySent()
        dispatch.start_after_commit(notification.id)
        audit(actor, "education.campaign_sent", campaign, recipients=total, notification_id=notification.id)
    db.session.refresh(campaign)
    return campaign


@dataclass
class Page:
    rows: list
    next_after: int | None


def list_campaigns(*, actor, after=None, limit=30):
    """Campaigns of the units in the actor's subtree, newest first, keyset by id."""
    require_permission(actor, "education.view")
    query = scoped(select(EducationCampaign), actor, EducationCampaign.unit_id)
    if after:
        query = query.where(EducationCampaign.id < after)
    rows = db.session.scalars(query.order_by(EducationCampaign.id.desc()).limit(limit + 1)).all()
    return Page(rows[:limit], rows[limit - 1].id if len(rows) > limit else None)
