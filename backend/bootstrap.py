"""First start of a real deployment: the top unit and the three administrators (三员), once.

`flask --app backend bootstrap --province 某省退役军人事务厅 --prefix xx` creates the root of the org tree and one
account each for the system administrator (builds the tree), the security administrator (creates every other
account) and the auditor. Each gets a one-time password, printed once to the terminal and never logged, that must
be changed at first login; the administrator roles enrol their second factor (TOTP) at first login. It refuses to
run on a database that already has a unit or an account, so it can never add a back door to a running system.
Audited as `system.bootstrap`.
"""

from sqlalchemy import func, select

from backend.audit import service as audit_service
from backend.db import transaction
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.service import create_root_unit
from backend.staff.models import Staff, StaffRole
from backend.staff.passwords import _hash, generate_password

ADMINS = (
    ("sysadmin", "系统管理员", "sys_admin"),
    ("secadmin", "安全管理员", "security_admin"),
    ("auditor", "审计员", "auditor"),
)


class AlreadyBootstrapped(Exception):
    """The database already holds a unit or an account (CLI only; never reaches a client)."""


def bootstrap(*, province, prefix=""):
    """Create the root unit and the three administrator accounts; return [(username, password, role)].

    :raises AlreadyBootstrapped: when any unit or account exists.
    """
    if db.session.scalar(select(func.count()).select_from(OrgUnit)) or db.session.scalar(
        select(func.count()).select_from(Staff)
    ):
        raise AlreadyBootstrapped()
    root = create_root_unit(name=province)
    created = []
    with transaction():
        for suffix, full_name, role in ADMINS:
            username = f"{prefix}{suffix}"
            password = generate_password()
            staff = Staff(
                username=username,
                full_name=full_name,
                org_unit_id=root.id,
                password_hash=_hash(password),
                must_change_password=True,
                role_rows=[StaffRole(role=role)],
            )
            db.session.add(staff)
            db.session.flush()
            created.append((username, password, role))
        audit_service.record(
            actor=audit_service.SystemActor(),
            action="system.bootstrap",
            object_type="org_unit",
            object_id=root.id,
            org_path=root.path,
            details={"accounts": [u for u, _, _ in created]},
        )
    return created
