"""`flask bootstrap`: the first start of a real deployment creates the top unit and the three administrators once."""

import logging

from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.staff.models import Staff
from backend.staff.service import authenticate_staff


def test_bootstrap_creates_the_root_and_three_admins_once(app, caplog):
    caplog.set_level(logging.DEBUG)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["bootstrap", "--province", "测试省退役军人事务厅", "--prefix", "hb."])
    assert result.exit_code == 0, result.output
    root = db.session.scalars(select(OrgUnit)).one()
    assert root.parent_id is None and root.name == "测试省退役军人事务厅" and root.path == f"/{root.id}/"
    staff = {s.username: s for s in db.session.scalars(select(Staff))}
    assert {u: s.roles for u, s in staff.items()} == {
        "hb.sysadmin": ["sys_admin"],
        "hb.secadmin": ["security_admin"],
        "hb.auditor": ["auditor"],
    }
    assert all(s.must_change_password and s.org_unit_id == root.id for s in staff.values())
    passwords = {line.split()[0]: line.split()[1] for line in result.output.splitlines() if line.startswith("  hb.")}
    assert len(set(passwords.values())) == 3
    # each printed password logs in (and must then be changed); it was printed, never logged
    login = authenticate_staff(username="hb.secadmin", password=passwords["hb.secadmin"])
    assert login.staff.username == "hb.secadmin" and login.must_change_password
    assert not any(p in record.getMessage() for p in passwords.values() for record in caplog.records)
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "system.bootstrap")).one()
    assert row.actor_type == "system" and row.details == {"accounts": sorted(passwords, key=list(passwords).index)}

    again = runner.invoke(args=["bootstrap", "--province", "另一个省"])
    assert again.exit_code != 0 and "不能再次初始化" in again.output
    assert db.session.scalars(select(OrgUnit)).all() == [root] and len(db.session.scalars(select(Staff)).all()) == 3


def test_bootstrap_refuses_a_database_with_units(app, world):
    result = app.test_cli_runner().invoke(args=["bootstrap", "--province", "测试省"])
    assert result.exit_code != 0 and "不能再次初始化" in result.output
