"""Demo data for the embedded default: an org tree and one staff account per role.

Loaded once (skipped when any unit exists). Passwords are random per database and written to
instance/demo-logins.txt (git-ignored), which `flask serve` prints; no account ships with a default password.
Each capability adds its own demo data through _loaders().
"""

from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from backend.db import transaction
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.service import create_root_unit
from backend.staff.models import Staff, StaffRole
from backend.staff.service import _hash, generate_password

TREE = {
    "江宁省": {
        "秦川市": {
            "青山县": {
                "青山镇退役军人服务站": ["青山镇第一网格", "青山镇第二网格"],
                "石桥镇退役军人服务站": ["石桥镇第一网格", "石桥镇第二网格"],
            },
            "绿水区": {
                "滨河街道退役军人服务站": ["滨河街道第一网格", "滨河街道第二网格"],
                "城南街道退役军人服务站": ["城南街道第一网格", "城南街道第二网格"],
            },
        }
    }
}

# username, name, unit name, roles
ACCOUNTS = [
    ("station", "王站员", "青山镇退役军人服务站", ["station_staff"]),
    ("reviewer", "李审核", "青山县", ["center_reviewer"]),
    ("supervisor", "赵主管", "秦川市", ["supervisor"]),
    ("sysadmin", "孙系统", "江宁省", ["sys_admin"]),
    ("secadmin", "周安全", "江宁省", ["security_admin"]),
    ("auditor", "吴审计", "江宁省", ["auditor"]),
]


def _loaders():
    """Each capability's demo loader, called with {unit name: unit} inside the demo transaction."""
    from backend.archives import demo as archives_demo  # issue 17
    from backend.assessment import demo as assessment_demo  # issue 20
    from backend.bookings import demo as bookings_demo  # bookings slice (issue 14)
    from backend.education import demo as education_demo  # issue 19
    from backend.employment import demo as employment_demo  # issue 19
    from backend.feedback import demo as feedback_demo  # issue 20
    from backend.honors import demo as honors_demo  # issue 17
    from backend.notifications import demo as notifications_demo
    from backend.onboarding import demo as onboarding_demo  # issue 17
    from backend.party import demo as party_demo  # issue 19
    from backend.pension import demo as pension_demo  # issue 18
    from backend.registration import demo as registration_demo
    from backend.training import demo as training_demo  # issue 19
    from backend.veterans import demo as veterans_demo

    return [
        veterans_demo.load,
        registration_demo.load,
        notifications_demo.load,
        bookings_demo.load,
        honors_demo.load,
        archives_demo.load,
        onboarding_demo.load,
        pension_demo.load,
        party_demo.load,
        education_demo.load,
        employment_demo.load,
        training_demo.load,
        feedback_demo.load,
        assessment_demo.load,
    ]


def logins_file():
    return Path(current_app.instance_path) / "demo-logins.txt"


def _add_children(parent, children):
    items = children.items() if isinstance(children, dict) else ((name, None) for name in children)
    for name, grandchildren in items:
        unit = OrgUnit(parent_id=parent.id, level=parent.child_level, name=name, path="", depth=parent.depth + 1)
        db.session.add(unit)
        db.session.flush()
        unit.path = f"{parent.path}{unit.id}/"
        if grandchildren:
            _add_children(unit, grandchildren)


def load_demo():
    """Create the demo tree and accounts; return the login lines, or None when data already exists."""
    if db.session.scalar(select(func.count()).select_from(OrgUnit)):
        return None
    ((root_name, children),) = TREE.items()
    root = create_root_unit(name=root_name)
    lines = []
    with transaction():
        _add_children(root, children)
        units = {u.name: u for u in db.session.scalars(select(OrgUnit))}
        for username, full_name, unit_name, roles in ACCOUNTS:
            password = generate_password()
            db.session.add(
                Staff(
                    username=username,
                    full_name=full_name,
                    org_unit_id=units[unit_name].id,
                    password_hash=_hash(password),
                    must_change_password=False,
                    role_rows=[StaffRole(role=r) for r in roles],
                )
            )
            lines.append(f"{username:<12}{password:<18}{'、'.join(roles)} @ {unit_name}")
        # staffsec slice (issue 10): the administrator roles need TOTP; no demo secret ships, they enrol at first login.
        lines.append("sysadmin, secadmin, auditor: after the password, enrol TOTP (scan the QR code) at first login")
        for loader in _loaders():
            loader(units)
    from backend.veterans.models import Veteran

    # a veteran of 青山镇, so the demo's station and reviewer logins reach them (notifications, review)
    station = units["青山镇退役军人服务站"]
    veteran = db.session.scalars(
        select(Veteran).where(Veteran.station_id == station.id).order_by(Veteran.id).limit(1)
    ).first()
    if veteran is not None:
        lines.append(
            f"veteran     {veteran.name} / {veteran.id_number} / {veteran.phone}  (bind a WeChat account with these)"
        )
    from backend.figures.rollup import rollup  # aggregates slice (issue 12): figures show at once after the load

    rollup()
    path = logins_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return lines
