"""WeChat login, token revocation, binding an account to a veteran, unbinding, the veteran's own profile."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend import pii
from backend.accounts import tokens
from backend.accounts.models import WechatAccount
from backend.audit import service as audit_service
from backend.db import transaction, utcnow
from backend.errors import NotFound, PermissionDenied, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.names import clean_name
from backend.veterans import service as veterans_service
from backend.veterans.identity import InvalidIdNumber, parse_id_number
from backend.veterans.models import ID_CONTEXT, PHONE_CONTEXT, Veteran
from backend.wechat import client as wechat

SESSION_KEY_CONTEXT = "wechat.session_key"


class NotBound(PermissionDenied):
    code = "accounts.not_bound"
    message = "请先绑定退役军人身份"


class AlreadyBound(RuleViolation):
    code = "accounts.already_bound"
    message = "当前微信已绑定退役军人身份"


class VeteranTaken(RuleViolation):
    code = "accounts.veteran_taken"
    message = "该退役军人已绑定其他微信账号，如需更换请到服务站办理解绑"


class BindMismatch(ValidationFailed):
    code = "accounts.bind_mismatch"
    message = "姓名、身份证号或手机号与登记信息不一致，请核对；连续5次失败将暂停绑定30分钟"


class BindLocked(RuleViolation):
    code = "accounts.bind_locked"
    message = "绑定失败次数过多，请30分钟后再试，或到服务站办理"


class VeteranInactive(PermissionDenied):
    code = "accounts.veteran_inactive"
    message = "该退役军人档案已迁出或已注销，不能继续使用小程序办理业务，如有疑问请联系服务站"


# Statuses that end phone access at once (backend/veterans/models.py STATUS_LABELS); "suspended" keeps it.
INACTIVE_STATUSES = frozenset({"deceased", "transferred"})


class AccountNotFound(NotFound):
    code = "accounts.not_found"
    message = "未找到该微信账号"


def login(*, code):
    """Exchange a wx.login code for the account (created on first login) and open a token family for this login.
    WeChat is called before the transaction. Returns a tokens.Grant.

    :raises WechatCodeInvalid, WechatCodeUsed, WechatCodeBlocked, WechatUnavailable:
    """
    if not isinstance(code, str) or not 1 <= len(code) <= 128:
        raise ValidationFailed(details={"code": "缺少登录凭证"})
    session = wechat.code_to_session(code)
    for _ in range(2):  # a concurrent first login of the same openid loses the insert race once, then finds the row
        try:
            with transaction():
                account = db.session.scalars(
                    select(WechatAccount)
                    .where(WechatAccount.openid == session.openid)
                    .with_for_update(of=WechatAccount)
                ).first()
                if account is None:
                    account = WechatAccount(openid=session.openid)
                    db.session.add(account)
                account.unionid = session.unionid
                account.session_key_enc = pii.encrypt(session.session_key, context=SESSION_KEY_CONTEXT)
                account.last_login_at = utcnow()
                db.session.flush()
                audit_service.record(
                    actor=account, action="veteran.login", object_type="wechat_account", object_id=account.id
                )
                grant = tokens.open_family(account)
            return grant
        except IntegrityError:
            continue
    raise RuleViolation()


def find_active_account(account_id, generation, family_id=None, *, family_required=False):
    """The account a token names if the token is still good, else None: its generation is current (not logged out
    or unbound) and its token family, when it names one, is not revoked (no refresh token of it was reused).

    Access tokens issued before token families existed name none and live out their two hours; a refresh token must
    name one (`family_required`).
    """
    try:
        account = db.session.get(WechatAccount, int(account_id))
    except (TypeError, ValueError):
        return None
    if account is None or account.token_generation != generation:
        return None
    if family_id is None and not family_required:
        return account
    return account if tokens.family_is_live(family_id, account.id) else None


def logout(*, account):
    """Revoke every token of the account."""
    with transaction():
        account.token_generation += 1
        audit_service.record(actor=account, action="veteran.logout", object_type="wechat_account", object_id=account.id)


def bind(*, account, name, id_number, phone_code):
    """Bind the account to the veteran whose name, ID number and phone (from WeChat) all match.

    Five failed attempts lock binding for this account for 30 minutes. Every attempt is audited.
    :raises AlreadyBound, BindLocked, BindMismatch, VeteranInactive, VeteranTaken, WechatPhoneCodeInvalid,
        WechatUnavailable
    """
    now = utcnow()
    if account.veteran_id:
        raise AlreadyBound()
    if account.bind_locked_until and account.bind_locked_until > now:
        raise BindLocked(details={"locked_until": account.bind_locked_until.isoformat()})
    phone = wechat.get_phone_number(phone_code)  # before the transaction: never hold one across a WeChat call
    outcome = None
    try:
        with transaction():
            account = db.session.scalars(
                select(WechatAccount)
                .where(WechatAccount.id == account.id)
                .with_for_update(of=WechatAccount)
                .execution_options(populate_existing=True)  # the values as locked, not as loaded earlier
            ).one()
            veteran = _match(name, id_number, phone)
            if account.veteran_id:
                outcome = AlreadyBound
            elif account.bind_locked_until and account.bind_locked_until > now:
                outcome = BindLocked
            elif veteran is None:
                account.bind_failures += 1
                outcome = BindMismatch
                if account.bind_failures >= current_app.config.get("BIND_LOCK_AFTER_FAILURES", 5):
                    account.bind_locked_until = now + timedelta(minutes=30)
                    account.bind_failures = 0
                    outcome = BindLocked
            elif veteran.status in INACTIVE_STATUSES:
                outcome = VeteranInactive
            elif db.session.scalar(select(WechatAccount.id).where(WechatAccount.veteran_id == veteran.id)):
                outcome = VeteranTaken
            else:
                # the relationship, not veteran_id: the answer reads account.veteran (kept after commit)
                account.veteran, account.bound_at, account.bind_failures = veteran, now, 0
                db.session.flush()
            audit_service.record(
                actor=account,
                action="veteran.bind",
                result="failure" if outcome else "success",
                object_type="veteran",
                object_id=None if veteran is None else veteran.id,
                org_path=None if veteran is None else veteran.station.path,
                details={"reason": outcome.code} if outcome else {},
            )
    except IntegrityError:
        raise VeteranTaken() from None
    if outcome:
        raise outcome()
    return account


def _match(name, id_number, phone):
    try:
        number = parse_id_number(id_number).number
    except InvalidIdNumber:
        return None
    veteran = db.session.scalars(
        select(Veteran).where(pii.index_in(Veteran.id_number_hmac, number, context=ID_CONTEXT))
    ).first()
    if veteran is None or veteran.name != clean_name(name) or not phone:
        return None
    if not pii.index_matches(veteran.phone_hmac, phone, context=PHONE_CONTEXT):
        return None
    return veteran


def unbind(*, actor, veteran_id):
    """Staff unbind a veteran's WeChat account (in scope); its tokens stop working at once."""
    with transaction():
        veteran = veterans_service.get_veteran(actor=actor, veteran_id=veteran_id, permission="veterans.edit")
        account = db.session.scalars(select(WechatAccount).where(WechatAccount.veteran_id == veteran.id)).first()
        if account is None:
            raise AccountNotFound()
        account.veteran, account.bound_at = None, None
        account.token_generation += 1
        audit_service.record(actor=actor, action="veteran.unbind", object_type="veteran", object_id=veteran.id)
    return veteran


def find_account_of(veteran_id):
    return db.session.scalars(select(WechatAccount).where(WechatAccount.veteran_id == veteran_id)).first()


def require_veteran(account):
    """The veteran bound to the account, if their record is still active. :raises NotBound, VeteranInactive:"""
    if account.veteran is None:
        raise NotBound()
    if account.veteran.status in INACTIVE_STATUSES:
        raise VeteranInactive()
    return account.veteran


def require_bound(principal):
    """The id of the veteran a token check's Principal is bound to, if their record is still active; no query.

    :raises NotBound, VeteranInactive:
    """
    if principal.veteran_id is None:
        raise NotBound()
    if principal.veteran_status in INACTIVE_STATUSES:
        raise VeteranInactive()
    return principal.veteran_id


def get_account(account_id):
    """The ORM account by primary key (for routes that change it). :raises AccountNotFound:"""
    account = db.session.get(WechatAccount, account_id)
    if account is None:
        raise AccountNotFound()
    return account


def get_bound_veteran(principal):
    """The ORM veteran of a Principal (by primary key, after require_bound). :raises NotBound, VeteranInactive:"""
    veteran = db.session.get(Veteran, require_bound(principal))
    if veteran is None:
        raise NotBound()
    if veteran.status in INACTIVE_STATUSES:  # the row is loaded anyway: check it too
        raise VeteranInactive()
    return veteran


CONTACT_FIELDS = ("phone", "address")


def update_contact(*, account, **fields):
    """The veteran changes their own contact fields; any other field is ignored, never written."""
    veteran = require_veteran(account)
    cleaned = veterans_service.clean_fields({k: v for k, v in fields.items() if k in CONTACT_FIELDS})
    with transaction():
        # the veteran's own concurrent saves (two taps, two devices) queue on the row instead of failing the version
        # check; a concurrent staff edit still does (request.stale_update)
        veteran = db.session.scalars(
            select(Veteran)
            .where(Veteran.id == veteran.id)
            .with_for_update(of=Veteran)  # the row only: its units come by an outer join
            .execution_options(populate_existing=True)
        ).one()
        changed = veterans_service.apply_fields(veteran, cleaned)
        if changed:
            veterans_service.add_history(veteran, None, "updated", {"fields": changed}, channel="miniprogram")
            audit_service.record(
                actor=account,
                action="veterans.update",
                object_type="veteran",
                object_id=veteran.id,
                org_path=veteran.station.path,
                details={"fields": changed},
            )
    return veteran
