"""A login between its two steps: the password was right, the second factor is still due.

Kept in the (signed) session under one key, bound to the account's session token so that disabling the account,
resetting its password or second factor in between ends it, and valid for five minutes. Nothing here authenticates.
"""

import time

from flask import session

PENDING_KEY = "pending_login"
ENROL_KEY = "totp_enrol"  # the sealed secret being enrolled, until its first code confirms it
MAX_AGE_SECONDS = 300


def begin(staff, *, must_change_password, next_url):
    session.clear()
    session[PENDING_KEY] = {
        "id": staff.id,
        "token": staff.session_token,
        "at": int(time.time()),
        "must_change": bool(must_change_password),
        "next": next_url,
    }


def current():
    """The pending login, or None when there is none or it is older than five minutes."""
    data = session.get(PENDING_KEY)
    if data is None:
        return None
    if not isinstance(data, dict) or int(time.time()) - int(data.get("at", 0)) > MAX_AGE_SECONDS:
        clear()
        return None
    return data


def clear():
    session.pop(PENDING_KEY, None)
    session.pop(ENROL_KEY, None)
