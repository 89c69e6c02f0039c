"""Principals, the Cell type and small helpers of the authorization matrix (tests/authz/test_matrix.py)."""

import hashlib
from dataclasses import dataclass

PRINCIPALS = (
    "anonymous",
    "staff_x",
    "staff_y",
    "supervisor_parent",
    "auditor",
    "sys_admin",
    "security_admin",
    "sys_admin_y",
    "security_admin_y",
    "veteran_a",
    "veteran_b",
)
VETERANS = ("veteran_a", "veteran_b")
STAFF = tuple(p for p in PRINCIPALS if p != "anonymous" and p not in VETERANS)
EVERYONE = PRINCIPALS
ORG_VIEWERS_OF_X = ("staff_x", "supervisor_parent", "auditor", "sys_admin", "security_admin")
VETERAN_VIEWERS_OF_X = ("staff_x", "supervisor_parent")
REG_VIEWERS_OF_X = ("staff_x", "supervisor_parent")
TRAVEL_VIEWERS_OF_X = ("staff_x", "supervisor_parent")


def _in_days(n):
    from datetime import timedelta

    from backend.registration.windows import today_cst

    return (today_cst() + timedelta(days=n)).isoformat()


def _year():
    from backend.registration.windows import today_cst

    return today_cst().year


@dataclass
class Cell:
    """How to call one route, and who may."""

    method: str
    url: object  # str or callable(world) -> str
    allowed: tuple
    data: object = None  # dict or callable(world) -> dict
    public: bool = False  # any answer but 401/403/404/5xx counts as allow (login, logout, static files)
    notes: str = ""
    token: str = "access"  # API: which of the principal's tokens to send
    multipart: bool = False


def _x1(w):
    return w.x1.id


def _signed(token="demo-push-token", timestamp="1714036504", nonce="1514711492"):
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()
    return f"signature={signature}&timestamp={timestamp}&nonce={nonce}"
