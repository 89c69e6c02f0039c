"""Every sealed column and keyed index of the schema: what rotation re-seals and what the census counts.

A new sealed column joins SEALED (tests/keys/test_columns.py checks every model column named *_enc, *_sealed,
*_hmac or `sealed` is listed here).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sealed:
    table: str
    column: str
    context: object  # str, or callable(row) -> str for per-row contexts
    index: str | None = None  # the keyed index column computed from this column's plaintext
    index_context: str | None = None
    binary: bool = False  # stored as bytes (the token, encoded)
    where: str | None = None  # only rows where this SQL holds are sealed (e.g. an import job's finished content)
    label: str = ""

    def context_for(self, row):
        return self.context(row) if callable(self.context) else self.context


def _staff_totp(row):
    return f"staff.totp_secret:{row.id}"


SEALED = (
    Sealed("veteran", "id_number_enc", "veteran.id_number", "id_number_hmac", "veteran.id_number", label="身份证号"),
    Sealed("veteran", "phone_enc", "veteran.phone", "phone_hmac", "veteran.phone", label="手机号"),
    Sealed("registration", "content_sealed", "registration.content", label="年度确认内容"),
    Sealed("trip", "sealed", "travel.trip", label="出行报备"),
    Sealed("trip", "staff_note_sealed", "travel.trip.note", label="出行跟进记录"),
    Sealed("wechat_account", "session_key_enc", "wechat.session_key", label="微信会话密钥"),
    Sealed("staff", "totp_secret_sealed", _staff_totp, label="二次验证密钥"),
    Sealed("idempotency_key", "response_sealed", "idempotency.response", label="重放应答"),
    # care slice (issue 16)
    Sealed("care_contact", "notes_sealed", "care.contact_notes", label="联系记录"),
    Sealed("visit", "notes_sealed", "visit.notes", label="走访记录"),
    Sealed("assistance_case", "description_sealed", "assistance_case.description", label="帮扶申请说明"),
    Sealed("assistance_case", "notes_sealed", "assistance_case.notes", label="帮扶初审意见"),
    Sealed("assistance_case", "follow_up_sealed", "assistance_case.follow_up", label="帮扶回访记录"),
    # pension (issue 18): the payee's bank account, and its copy in each payroll line
    Sealed("pay_account", "account_enc", "pay_account.number", label="退役金收款账号"),
    Sealed("payroll_line", "account_enc", "payroll_line.account", where="account_enc IS NOT NULL", label="名册账号"),
    Sealed(
        "employment_record", "liaison_phone_enc", "employment.liaison_phone", label="用人单位联络人电话"
    ),  # issue 19
    # feedback (issue 20): what veterans write
    Sealed("rating", "comment_sealed", "rating.comment", label="评价留言"),
    Sealed("complaint", "text_sealed", "complaint.text", label="投诉建议内容"),
    Sealed("feedback_case", "handling_sealed", "feedback_case.handling", label="投诉处理记录"),
    Sealed(
        "veteran_import_job",
        "content",
        "veteran_import_job.rejected_rows",
        binary=True,
        where="status IN ('done', 'failed')",
        label="导入未通过行",
    ),
)
# Keyed hashes whose plaintext is gone (single-use recovery codes): rotation cannot recompute them. They keep
# matching while their version is configured; retiring that version deletes the unused ones (the staff member
# generates new codes; TOTP still works).
UNRECOVERABLE = (("staff_recovery_code", "code_hash", "used_at IS NULL"),)
