"""The payee bank account: the number sealed (backend/pii, context pay_account.number), the last four digits kept for
display, revealed only with pension.reveal and one audit row per reveal (as backend/veterans reveal_veteran)."""

from sqlalchemy import select

from backend import pii
from backend.audit import service as audit_service
from backend.db import transaction
from backend.extensions import db
from backend.names import clean_name
from backend.pension.models import PayAccount
from backend.pension.rules import BadAccount
from backend.veterans.service import get_veteran

CONTEXT = "pay_account.number"  # backend/keys/columns.py SEALED


def account_of(veteran_id):
    return db.session.scalars(select(PayAccount).where(PayAccount.veteran_id == veteran_id)).first()


def masked(account):
    """{"bank", "branch", "number", "holder"} with the number as **** last4, or None."""
    if account is None:
        return None
    return {
        "bank": account.bank,
        "branch": account.branch,
        "number": f"**** {account.account_last4}",
        "last4": account.account_last4,
        "holder": account.holder_name,
    }


def clean_account(*, bank, branch, number, holder):
    """Validate the account form. :raises BadAccount: with details per field."""
    bank, branch, holder = clean_name(bank or ""), clean_name(branch or ""), clean_name(holder or "")
    digits = "".join(str(number or "").split()).replace("-", "")
    errors = {}
    if not bank or len(bank) > 60:
        errors["bank"] = "请填写开户银行（不超过60个字）"
    if len(branch) > 100:
        errors["branch"] = "开户网点不超过100个字"
    if not (digits.isascii() and digits.isdigit() and 12 <= len(digits) <= 30):
        errors["number"] = "账号应为12至30位数字"
    if not holder or len(holder) > 64:
        errors["holder"] = "请填写户名（不超过64个字）"
    if errors:
        raise BadAccount("；".join(errors.values()), details=errors)
    return {"bank": bank, "branch": branch or None, "number": digits, "holder": holder}


def set_account(*, actor, veteran_id, bank, branch, number, holder):
    """Set or replace the payee account (pension.manage, veteran in scope); audited without the number.

    :raises PermissionDenied, VeteranNotFound, BadAccount
    """
    fields = clean_account(bank=bank, branch=branch, number=number, holder=holder)
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="pension.manage")
        account = account_of(veteran.id)
        replaced = account is not None
        if account is None:
            account = PayAccount(veteran_id=veteran.id)
            db.session.add(account)
        account.bank, account.branch, account.holder_name = fields["bank"], fields["branch"], fields["holder"]
        account.account_enc = pii.encrypt(fields["number"], context=CONTEXT)
        account.account_last4 = fields["number"][-4:]
        account.updated_by_id = actor.id
        audit_service.record(
            actor=actor,
            action="pension.account_set",
            object_type="veteran",
            object_id=veteran.id,
            details={"bank": fields["bank"], "last4": account.account_last4, "replaced": replaced},
        )
    return account


def reveal_account(*, actor, veteran_id):
    """The full account number for staff with pension.reveal in scope; one audit row per reveal. None without one.

    :raises PermissionDenied, VeteranNotFound
    """
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="pension.reveal")
        account = account_of(veteran.id)
        audit_service.record(
            actor=actor,
            action="pension.account_revealed",
            object_type="veteran",
            object_id=veteran.id,
            details={"found": account is not None},
        )
    return pii.decrypt(account.account_enc, context=CONTEXT) if account else None
