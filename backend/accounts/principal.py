"""What the phone token check needs about an account, as a small read-only value cached for a short time.

Every phone request used to load the account, its veteran and the veteran's two units (four tables) and then the
token family. A Principal holds only the account id, its token generation, the bound veteran's id and status and the
account's live token families; it is cached (backend/cache.py, PRINCIPAL_CACHE_SECONDS) and rebuilt from two small
selects on a miss. Routes that change the account or show the veteran load the ORM rows by primary key.

Safety: only a *positive* answer is ever taken from the cache; a token that the cached value would refuse (an older
generation, a family not in the live set) is checked again against the database. Every change that can make a good
token bad forgets the account after the commit: a token generation bump (logout, unbinding), a changed binding, a
revoked family, a veteran status change, a deleted account. The session listeners below see these in the ORM flush
wherever they happen; a bulk UPDATE (tokens.revoke_family) calls forget() itself. Forgetting writes a new random
stamp rather than deleting: a request that read the database before the commit and stores its value after the
forget stores it under the old stamp, and that value is never used.
"""

import logging
import uuid
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from backend import cache, nearcache
from backend.accounts.models import TokenFamily, WechatAccount
from backend.extensions import db
from backend.veterans.models import Veteran

log = logging.getLogger(__name__)

# Families kept in the cached value; a token of an older live family is checked against the database instead.
MAX_FAMILIES = 20
_PENDING = "principal_forget"


@dataclass(frozen=True)
class Principal:
    """The authenticated phone account, read-only. `actor_type`, `id` and `label` let it stand as an audit actor."""

    id: int
    token_generation: int
    veteran_id: int | None
    veteran_status: str | None
    live_families: frozenset

    actor_type = "veteran"

    @property
    def label(self):
        return f"wechat:{self.id}"


def _keys(account_id):
    return f"acct:{account_id}", f"acct:{account_id}:stamp"


def _ttl():
    return current_app.config.get("PRINCIPAL_CACHE_SECONDS", 60)


def load(account_id, *, fresh=False):
    """The Principal of `account_id` (None when the account does not exist), from the cache unless `fresh`."""
    value_key, stamp_key = _keys(account_id)
    near = nearcache.for_app()  # this process's copy, coherent through pub/sub (backend/nearcache.py)
    if near is not None and not fresh:
        value = near.get(account_id)
        if value is not None:
            return _principal(account_id, value)
    epoch = near.epoch() if near is not None else None
    try:
        value, stamp = cache.get_many(value_key, stamp_key)  # the stamp is read before the database: see docstring
    except Exception:  # the cache is down: answer from the database (never a 500), and store nothing
        log.warning("principal cache unavailable; reading account %s from the database", account_id)
        value = stamp = None
        fresh = cache_down = True
    else:
        cache_down = False
    if not fresh and value is not None and value.get("stamp") == stamp:
        if near is not None:
            near.put(account_id, value, epoch)
        return _principal(account_id, value)
    row = db.session.execute(
        select(WechatAccount.id, WechatAccount.token_generation, WechatAccount.veteran_id, Veteran.status)
        .outerjoin(Veteran, Veteran.id == WechatAccount.veteran_id)
        .where(WechatAccount.id == account_id)
    ).first()
    if row is None:
        return None
    families = db.session.scalars(
        select(TokenFamily.id)
        .where(TokenFamily.account_id == account_id, TokenFamily.revoked_at.is_(None))
        .order_by(TokenFamily.id.desc())
        .limit(MAX_FAMILIES)
    ).all()
    value = {"gen": row[1], "vet": row[2], "status": row[3], "fams": list(families), "stamp": stamp}
    if not cache_down:
        try:
            cache.set(value_key, value, _ttl())
        except Exception:
            log.warning("principal cache unavailable; account %s not cached", account_id)
        else:
            if near is not None:
                near.put(account_id, value, epoch)
    return _principal(account_id, value)


def _principal(account_id, value):
    return Principal(
        id=account_id,
        token_generation=value["gen"],
        veteran_id=value["vet"],
        veteran_status=value["status"],
        live_families=frozenset(value["fams"]),
    )


def find_active(account_id, generation, family_id):
    """The Principal an access token names if the token is still good, else None (see find_active_account)."""
    try:
        account_id = int(account_id)
    except (TypeError, ValueError):
        return None
    if not 0 < account_id < 2**63 or (family_id is not None and type(family_id) is not int):
        return None  # a BIGINT id; a family id is an int, never a bool, float or string
    principal = load(account_id)
    if principal is not None and not _accepts(principal, generation, family_id):
        principal = load(account_id, fresh=True)  # a refusal is never taken from the cache
    if principal is None or not _accepts(principal, generation, family_id):
        return None
    return principal


def _accepts(principal, generation, family_id):
    if principal.token_generation != generation:
        return False
    return family_id is None or family_id in principal.live_families


def forget(account_id):
    """Forget the cached state of `account_id` once the current transaction commits."""
    db.session().info.setdefault(_PENDING, set()).add(account_id)


def forget_now(*account_ids):
    for account_id in account_ids:
        cache.set(_keys(account_id)[1], uuid.uuid4().hex, _ttl() * 10)
    nearcache.forget(account_ids)  # this process at once; the others through pub/sub


@event.listens_for(Session, "after_flush")
def _collect(session, flush_context):
    pending = session.info.setdefault(_PENDING, set())
    veterans = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, WechatAccount):
            if obj in session.deleted or _changed(obj, "token_generation", "veteran_id", "veteran"):
                pending.add(obj.id)
        elif isinstance(obj, TokenFamily):
            if obj in session.deleted or _changed(obj, "revoked_at"):
                pending.add(obj.account_id)
        elif isinstance(obj, Veteran) and obj not in session.new and _changed(obj, "status"):
            veterans.add(obj.id)
    if veterans:
        pending.update(
            session.connection().scalars(select(WechatAccount.id).where(WechatAccount.veteran_id.in_(veterans)))
        )


def _changed(obj, *names):
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_commit")
def _forget_committed(session):
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    try:
        forget_now(*pending)
    except Exception:  # the cache is down: the token check reads the database meanwhile; entries expire with TTL
        log.exception("could not forget %d cached account(s)", len(pending))


@event.listens_for(Session, "after_rollback")
def _drop_pending(session):
    session.info.pop(_PENDING, None)
