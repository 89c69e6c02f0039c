"""One error hierarchy with stable dotted codes, shared by the API envelope and the portal's error pages.

Every code a client may see is listed in CODES with its status; tests/test_errors.py checks the table against the
classes and docs/error-codes.md. Codes are never renamed.
"""


class AppError(Exception):
    status = 500
    code = "server.internal_error"
    message = "系统繁忙，请稍后再试"

    def __init__(self, message=None, *, code=None, details=None):
        self.message = message or self.message
        self.code = code or self.code
        self.details = details or {}
        if self.code not in CODES:
            raise ValueError(f"unregistered error code {self.code!r}")
        super().__init__(self.code)

    def to_dict(self):
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(AppError):
    status = 422
    code = "request.invalid"
    message = "提交的内容有误，请检查后重试"


class NotAuthenticated(AppError):
    status = 401
    code = "auth.required"
    message = "请先登录"


class PermissionDenied(AppError):
    status = 403
    code = "auth.forbidden"
    message = "您没有执行此操作的权限"


class NotFound(AppError):
    status = 404
    code = "resource.not_found"
    message = "未找到相关记录"


class RuleViolation(AppError):
    status = 409
    code = "request.conflict"
    message = "当前状态不允许此操作"


class StaleUpdate(RuleViolation):
    """Somebody else changed the record between this request's read and its write (the row's version_id moved):
    nothing was written; the person reloads and tries again. Both apps map SQLAlchemy's StaleDataError to this."""

    code = "request.stale_update"
    message = "该信息刚被更新，请刷新后重试"


class MalformedRequest(AppError):
    status = 400
    code = "request.malformed"
    message = "请求格式有误"


class UnsupportedMediaType(AppError):
    status = 415
    code = "request.unsupported_media_type"
    message = "请以 JSON 格式提交"


class RateLimited(AppError):
    status = 429
    code = "request.rate_limited"
    message = "操作过于频繁，请稍后再试"


class UpstreamFailed(AppError):
    status = 502
    code = "wechat.unavailable"
    message = "微信服务暂时不可用，请稍后再试"


class ServerBusy(AppError):
    """Issue 21 (P9): a query ran past DB_STATEMENT_TIMEOUT_MS and PostgreSQL cancelled it; nothing was written (the
    transaction rolls back). Both apps map the cancelled statement to this, never to a 500."""

    status = 503
    code = "server.busy"
    message = "系统繁忙，请稍后再试"


# code -> status. The single list of codes clients may branch on.
CODES = {
    "server.internal_error": 500,
    "server.busy": 503,  # issue 21: a statement ran past DB_STATEMENT_TIMEOUT_MS
    "request.invalid": 422,
    "request.malformed": 400,
    "request.too_large": 413,
    "request.method_not_allowed": 405,
    "request.unsupported_media_type": 415,
    "request.conflict": 409,
    "request.stale_update": 409,
    "request.rate_limited": 429,
    # phone slice (issue 10): Idempotency-Key
    "request.idempotency_mismatch": 422,
    "request.idempotency_in_progress": 409,
    "resource.not_found": 404,
    "auth.required": 401,
    "auth.token_expired": 401,
    "auth.token_invalid": 401,
    "auth.token_revoked": 401,
    "auth.forbidden": 403,
    "auth.invalid_credentials": 401,
    "auth.account_locked": 409,
    "auth.account_disabled": 409,
    "auth.password_policy": 422,
    "auth.password_mismatch": 422,
    # staffsec slice (issue 10): staff second factor
    "auth.totp_invalid": 401,
    "orgs.not_found": 404,
    "orgs.invalid_parent": 409,
    "orgs.name_taken": 409,
    "staff.not_found": 404,
    "staff.username_taken": 409,
    "staff.self_change_forbidden": 409,
    "staff.invalid_role": 422,
    "staff.role_conflict": 422,  # staffsec slice (issue 10): 三员分立 on combinations
    "veterans.not_found": 404,
    "veterans.invalid_id_number": 422,
    "veterans.invalid_mobile": 422,
    "veterans.id_number_taken": 409,
    "veterans.invalid_unit": 422,
    "veterans.import_invalid_file": 422,
    "veterans.import_not_found": 404,
    "veterans.import_rejects_gone": 404,  # import slice (issue 11)
    "wechat.unavailable": 502,
    "wechat.code_invalid": 401,
    "wechat.code_used": 401,
    "wechat.code_blocked": 409,
    "wechat.phone_code_invalid": 422,
    "wechat.no_quota": 409,
    "wechat.invalid_argument": 422,
    "wechat.signature_invalid": 403,
    "accounts.not_bound": 403,
    "accounts.already_bound": 409,
    "accounts.veteran_taken": 409,
    "accounts.bind_mismatch": 422,
    "accounts.bind_locked": 409,
    "accounts.not_found": 404,
    "accounts.veteran_inactive": 403,  # tokens slice: deceased or transferred out
    "inbox.not_found": 404,
    "registration.window_closed": 409,
    "registration.incomplete": 422,
    "registration.not_editable": 409,
    "registration.not_found": 404,
    "registration.changed": 409,
    "registration.talk_not_found": 404,
    "registration.attachment_rejected": 422,
    "registration.attachment_not_found": 404,
    "registration.too_many_attachments": 409,
    "travel.consent_required": 409,
    "travel.not_found": 404,
    "travel.invalid_state": 409,
    # issue 10, files slice: the upload malware scanner could not answer (fail closed)
    "files.scan_unavailable": 503,
    # exports slice (issue 12): someone else's export, out of scope, expired or not finished: one answer
    "exports.not_found": 404,
    "exports.too_many": 409,
    # notifications slice (issue 13): templates
    "notifications.template_not_found": 404,
    # notifications slice (issue 13): compose and send
    "notifications.not_found": 404,
    "notifications.not_editable": 409,
    "notifications.self_approval": 409,
    # notifications slice (issue 13): the call list
    "notifications.call_not_found": 404,
    "notifications.call_closed": 409,
    # bookings slice (issue 14): booking core and the phone (backend/bookings/service.py)
    "booking.slot_full": 409,
    "booking.duplicate": 409,
    "booking.cutoff_passed": 409,
    "booking.blocked": 409,
    "booking.not_found": 404,
    "booking.slot_not_found": 404,
    "booking.service_not_found": 404,
    "booking.slot_unavailable": 409,
    "booking.invalid_state": 409,
    # bookings slice (issue 14): the counter (backend/bookings/counter.py, blocks.py)
    "booking.wrong_day": 409,
    "booking.slot_not_ended": 409,
    "booking.block_not_found": 404,
    # bookings slice (issue 14): the station calendar (backend/bookings/calendar.py)
    "booking.calendar_day_not_found": 404,
    # care slice (issue 16, C4): self-service groups (backend/groups/)
    "groups.not_found": 404,
    # care slice (issue 16, C2): visits and condolences (backend/visits/)
    "visits.campaign_not_found": 404,
    "visits.not_found": 404,
    "visits.already_recorded": 409,
    "visits.photo_rejected": 422,
    "visits.photo_not_found": 404,
    "visits.too_many_photos": 409,
    # care slice (issue 16, C1): regular contact (backend/care/contacts.py)
    "care.contact_not_found": 404,
    # care slice (issue 16, C3): hardship assistance (backend/assistance/)
    "assistance.not_found": 404,
    "assistance.invalid_state": 409,
    "assistance.case_cap_exceeded": 409,
    "assistance.year_cap_exceeded": 409,
    "assistance.second_approver_required": 409,
    "assistance.overpaid": 409,
    "assistance.attachment_rejected": 422,
    "assistance.too_many_attachments": 409,
    "assistance.attachment_not_found": 404,
    # issue 17, Art. 11: honors and ceremonies (backend/honors/)
    "honors.not_found": 404,
    "honors.rsvp_closed": 409,
    "honors.invalid_state": 409,
    "honors.reviewer_is_proposer": 409,
    "honors.chronicle_exists": 409,
    # issue 17, Art. 7: the reception one-stop (backend/onboarding/)
    "onboarding.not_found": 404,
    "onboarding.already_open": 409,
    "onboarding.invalid_state": 409,
    "onboarding.transfer_first": 409,
    "onboarding.steps_open": 409,
    "onboarding.attachment_rejected": 422,
    "onboarding.too_many_attachments": 409,
    "onboarding.attachment_not_found": 404,
    # issue 18, part 1: retirement pay amounts, accounts, pay states and rules (backend/pension/)
    "pension.bad_amount": 422,
    "pension.bad_month": 422,
    "pension.bad_account": 422,
    "pension.bad_reason": 422,
    "pension.invalid_state": 409,
    "pension.not_started": 409,
    "pension.profile_changed": 409,
    "pension.rule_not_found": 404,
    # issue 18, part 2: adjustment batches (backend/pension/adjustments.py)
    "pension.batch_not_found": 404,
    "pension.batch_state": 409,
    "pension.batch_applied": 409,
    "pension.same_person": 409,
    "pension.preview_stale": 409,
    "pension.batch_compensated": 409,
    # issue 18, part 3: payroll runs, bank files, return files (backend/pension/payroll.py, bank_files.py, returns.py)
    "pension.run_not_found": 404,
    "pension.run_exists": 409,
    "pension.run_open": 409,
    "pension.run_invalid_state": 409,
    "pension.checker_is_maker": 409,
    "pension.layout_not_found": 404,
    "pension.export_mismatch": 409,
    "pension.export_too_wide": 409,
    "pension.return_invalid": 422,
    "pension.failure_not_found": 404,
    "pension.failure_not_fixable": 409,
    # issue 19: party members (backend/party/)
    "party.branch_not_found": 404,
    "party.branch_exists": 409,
    "party.not_member": 409,
    "party.transfer_not_found": 404,
    "party.transfer_closed": 409,
    "party.evaluation_exists": 409,
    "party.evaluation_not_found": 404,
    "party.document_rejected": 422,
    # issue 19: staff training (backend/training/)
    "training.session_not_found": 404,
    "training.attendance_not_found": 404,
    "training.already_attending": 409,
    # issue 19: education reminders (backend/education/) and their acknowledgement on the phone
    "inbox.ack_not_required": 409,
    "education.campaign_not_found": 404,
    "education.already_sent": 409,
    "education.not_sent": 409,
    "education.session_not_found": 404,
    # issue 19: employment and entrepreneurship (backend/employment/)
    "employment.support_not_found": 404,
    "employment.role_not_found": 404,
    # issue 20: feedback and ratings (backend/feedback/)
    "feedback.event_not_found": 404,
    "feedback.already_rated": 409,
    "feedback.target_invalid": 422,
    "feedback.complaint_not_found": 404,
    "feedback.case_not_found": 404,
    "feedback.invalid_state": 409,
    "feedback.subject_cannot_handle": 409,
    "feedback.assignee_invalid": 422,
    "feedback.attachment_rejected": 422,
    "feedback.too_many_attachments": 409,
    "feedback.attachment_not_found": 404,
}
