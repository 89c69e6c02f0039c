"""The account's display preferences (a11y slice, issue 11): the 大字版 toggle in the top bar."""

from urllib.parse import urlsplit

from flask import flash, redirect, request
from flask_login import current_user

from admin_portal.auth.views import _safe_next, bp
from admin_portal.forms import ConfirmForm
from admin_portal.security import requires_staff_login
from backend.staff.preferences import set_large_text


@bp.route("/account/preferences/large-text", methods=["POST"])
def large_text():
    """Set 大字版 on (large_text=1) or off (anything else), then back to the page the toggle was pressed on.

    That page comes from the Referer of this same-site POST, not from a field in the form: a page must not echo its
    own URL (a 404 for a missing id and for one out of scope stay byte-identical)."""
    refusal = requires_staff_login()
    if refusal is not None:
        return refusal
    ConfirmForm().validate_on_submit()  # CSRF is checked by CSRFProtect before we get here
    enabled = request.form.get("large_text") == "1"
    set_large_text(actor=current_user._get_current_object(), enabled=enabled)
    flash("已切换为大字版" if enabled else "已恢复标准字号", "success")
    return redirect(_safe_next(_same_site_referrer()))


def _same_site_referrer():
    parts = urlsplit(request.referrer or "")
    if parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")
