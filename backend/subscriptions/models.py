"""Credits per (openid, template), the accept reports that fed them, and processed WeChat pushes."""

from sqlalchemy import JSON, Boolean, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db


class SubscriptionCredit(db.Model):
    __tablename__ = "subscription_credit"
    __table_args__ = (UniqueConstraint("openid", "template_id", name="uq_subscription_credit_openid_template"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    template_id: Mapped[str] = mapped_column(String(64))
    credits: Mapped[int] = mapped_column(default=0)
    long_term: Mapped[bool] = mapped_column(Boolean, default=False)  # a standing grant instead of counted credits
    granted: Mapped[bool] = mapped_column(Boolean, default=False)  # long-term: currently granted
    # notifications slice (issue 13): the veteran turned the template off (change event reject, or a 43101); a new
    # accept clears it. Deliveries skip with reason "refused" while it is set.
    refused: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SubscriptionAccept(db.Model):
    """One 'accept' as reported by the client or by WeChat's popup event; a pair within the window is one credit."""

    __tablename__ = "subscription_accept"
    __table_args__ = (Index("ix_subscription_accept_lookup", "openid", "template_id", "source", "matched"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    template_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # client | event
    matched: Mapped[bool] = mapped_column(Boolean, default=False)
    occurred_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class WechatEvent(db.Model):
    """Every push processed once: WeChat retries carry the same key."""

    __tablename__ = "wechat_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    openid: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    received_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
