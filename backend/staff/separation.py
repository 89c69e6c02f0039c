"""三员分立 at start-up: production refuses to run while an active account holds a forbidden combination of roles.

The service refuses such combinations (backend.staff.service.RoleConflict); this catches accounts made before that
rule, or edited in the database by hand. The error names usernames only, never personal data.
"""

from sqlalchemy import select

from backend.extensions import db
from backend.staff.models import Staff
from backend.staff.roles import separation_conflict


def conflicting_usernames():
    """Usernames of active accounts whose roles break 三员分立, sorted."""
    staff = db.session.scalars(select(Staff).where(Staff.is_active.is_(True)).order_by(Staff.username))
    return [s.username for s in staff if separation_conflict(s.roles)]


def enforce_role_separation(app):
    """Called by the portal and API factories when APP_ENV is production. Raises RuntimeError naming the accounts."""
    with app.app_context():
        try:
            names = conflicting_usernames()
        finally:
            db.session.remove()
    if names:
        raise RuntimeError(
            "三员分立检查未通过：以下账号兼任了互斥角色（系统管理员、安全管理员、审计员至多其一，审计员不兼业务角色），"
            f"请先调整其角色或停用后再启动：{', '.join(names)}"
        )
