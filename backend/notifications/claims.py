"""Claiming and recording a batch's sends a group at a time (issue 21: 100k recipients in one fan-out).

A batch task sends its deliveries in claim groups of NOTIFY_CLAIM_SIZE rows instead of one by one, so the database
sees a handful of statements per group instead of eight round trips per send:

- `claim`: one committed transaction: the group's rows go queued -> sending in one UPDATE ... RETURNING (only the
  rows still queued and due: a redelivered or duplicated batch finds them taken and never sends twice), their
  credits are spent in one UPDATE ... RETURNING (backend/subscriptions/service.consume_credits), and the claimed
  rows whose credit was gone are skipped (no_credit) in the same transaction.
- `record_sent`: the group's accepted sends, each with its own msgid and time, recorded in one executemany
  (sending -> sent) after the group, or when the batch stops early.
- `release`: claimed rows that were never handed to WeChat (a 45009 pause, an error that ends the batch) go back to
  queued with their try and their credit given back.

The guarantees are the single-row claim's: a row is sent only by the worker that claimed it, and a row left
"sending" by a worker that died (after the claim, before the record) is in doubt: WeChat's sent event settles it
(reconcile_sent) or, with no event NOTIFY_IN_DOUBT_SECONDS after its claim, the watchdog takes it as not sent. A
group is sent within its batch task, so its claim is never older than the task's time limit when it goes out.
"""

from sqlalchemy import bindparam, or_, update

from backend.db import transaction
from backend.extensions import db
from backend.notifications.models import Delivery
from backend.subscriptions import service as ledger


def due(now):
    """A queued delivery that may be tried now (its backoff, if any, has passed)."""
    return or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now)


def claim(rows, template_id, now):
    """Claim `rows` (each with .id and .openid) due at `now` and spend their credits, committed together.

    Returns (the claimed rows that hold a spent credit, {"taken": n, "no_credit": n})."""
    with transaction():
        claimed = set(
            db.session.scalars(
                update(Delivery)
                .where(Delivery.id.in_([row.id for row in rows]), Delivery.status == "queued", due(now))
                .values(status="sending", attempts=Delivery.attempts + 1, claimed_at=now, updated_at=now)
                .returning(Delivery.id)
                .execution_options(synchronize_session=False)
            )
        )
        mine = [row for row in rows if row.id in claimed]
        spent = ledger.consume_credits(openids=[row.openid for row in mine], template_id=template_id)
        broke = [row.id for row in mine if row.openid not in spent]
        if broke:
            db.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(broke), Delivery.status == "sending")
                .values(status="skipped", skip_reason="no_credit", claimed_at=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
    counts = {"taken": len(rows) - len(mine), "no_credit": len(broke)}
    return [row for row in mine if row.openid in spent], counts


_table = Delivery.__table__
_RECORD = (
    _table.update()
    .where(_table.c.id == bindparam("b_id", type_=_table.c.id.type), _table.c.status == "sending")
    .values(
        status="sent",
        msgid=bindparam("b_msgid", type_=_table.c.msgid.type),
        sent_at=bindparam("b_at", type_=_table.c.sent_at.type),
        updated_at=bindparam("b_at", type_=_table.c.updated_at.type),
        error_code=None,
        error_message=None,
    )
)


def record_sent(sent):
    """sending -> sent for each (delivery id, msgid, sent at) in one transaction (one executemany). A row no longer
    "sending" is left alone: the watchdog released it, or its sent event already settled it."""
    if not sent:
        return
    with transaction():
        db.session.execute(_RECORD, [{"b_id": i, "b_msgid": msgid, "b_at": at} for i, msgid, at in sent])


def release(rows, template_id, now):
    """Claimed rows never handed to WeChat: back to queued, the try not counted, the credit refunded. Returns how
    many went back."""
    if not rows:
        return 0
    with transaction():
        back = set(
            db.session.scalars(
                update(Delivery)
                .where(Delivery.id.in_([row.id for row in rows]), Delivery.status == "sending")
                .values(status="queued", attempts=Delivery.attempts - 1, claimed_at=None, updated_at=now)
                .returning(Delivery.id)
                .execution_options(synchronize_session=False)
            )
        )
        ledger.refund_credits(openids=[row.openid for row in rows if row.id in back], template_id=template_id)
    return len(back)
