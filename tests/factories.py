"""Plain create_* helpers with keyword defaults (GOV.UK Notify's tests/app/db.py style)."""

import itertools
from dataclasses import dataclass, field

from backend.db import transaction
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.staff.models import Staff, StaffRole
from backend.staff.service import _hash

PASSWORD = "Test-Passw0rd"
_seq = itertools.count(1)


def unique(prefix):
    return f"{prefix}{next(_seq)}"


def create_unit(*, parent=None, name=None, level=None, code=None):
    with transaction():
        if parent is None:
            unit = OrgUnit(parent_id=None, level=level or "province", name=name or unique("省"), path="", depth=0)
        else:
            unit = OrgUnit(
                parent_id=parent.id,
                level=level or parent.child_level,
                name=name or unique("机构"),
                code=code,
                path="",
                depth=parent.depth + 1,
            )
        db.session.add(unit)
        db.session.flush()
        unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def create_staff(*, unit, roles=("station_staff",), username=None, password=PASSWORD, active=True, must_change=False):
    with transaction():
        staff = Staff(
            username=username or unique("user"),
            full_name=unique("员工"),
            org_unit_id=unit.id,
            password_hash=_hash(password),
            is_active=active,
            must_change_password=must_change,
            role_rows=[StaffRole(role=r) for r in roles],
        )
        db.session.add(staff)
    return staff


@dataclass
class World:
    """province > city > county X, county Y (siblings) > stations > grids, plus one account per test role.

    Objects "of unit X" live at station X1 (a station under X).
    """

    units: dict = field(default_factory=dict)
    staff: dict = field(default_factory=dict)

    def __getattr__(self, name):
        units, staff = self.__dict__.get("units", {}), self.__dict__.get("staff", {})
        if name in units:
            return units[name]
        if name in staff:
            return staff[name]
        raise AttributeError(name)


def build_world():
    w = World()
    u = w.units
    u["province"] = create_unit(name=unique("江宁省"))
    u["city"] = create_unit(parent=u["province"], name="秦川市")
    u["x"] = create_unit(parent=u["city"], name="青山县")
    u["y"] = create_unit(parent=u["city"], name="绿水区")
    u["x1"] = create_unit(parent=u["x"], name="青山镇服务站")
    u["x1_grid"] = create_unit(parent=u["x1"], name="青山镇第一网格")
    u["y1"] = create_unit(parent=u["y"], name="滨河街道服务站")
    s = w.staff
    s["staff_x"] = create_staff(unit=u["x"], roles=("station_staff", "center_reviewer"))
    s["staff_y"] = create_staff(unit=u["y"], roles=("station_staff", "center_reviewer"))
    s["supervisor_parent"] = create_staff(unit=u["city"], roles=("supervisor",))
    s["auditor"] = create_staff(unit=u["province"], roles=("auditor",))
    s["sys_admin"] = create_staff(unit=u["province"], roles=("sys_admin",))
    s["security_admin"] = create_staff(unit=u["province"], roles=("security_admin",))
    s["sys_admin_y"] = create_staff(unit=u["y"], roles=("sys_admin",))
    s["security_admin_y"] = create_staff(unit=u["y"], roles=("security_admin",))
    s["target"] = create_staff(unit=u["x1"], roles=("station_staff",))
    return w
