"""Two database roles: the suite migrates as the owner and runs as an app role that cannot tamper with the audit log."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from backend import dbroles
from backend.audit import service as audit_service
from backend.audit.models import AuditLog
from backend.extensions import db

INSUFFICIENT_PRIVILEGE = "42501"

AUDIT_TAMPERING = [
    "TRUNCATE audit_log",
    "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update",
    "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_log_no_update ON audit_log",
    "DROP TABLE audit_log",
    "DROP TABLE audit_log CASCADE",
    "ALTER TABLE audit_log RENAME TO audit_log_old",
    "ALTER TABLE audit_log OWNER TO CURRENT_USER",
    "UPDATE audit_log SET result = 'success'",
    "DELETE FROM audit_log",
    "SELECT id FROM audit_log FOR UPDATE",
    "LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE",
    "CREATE TABLE sneaky (id int)",
]


def _refused(statement):
    """Run `statement` as the app role in a savepoint; return the PostgreSQL error it raised."""
    nested = db.session.begin_nested()
    with pytest.raises(DBAPIError) as caught:
        db.session.execute(text(statement))
    nested.rollback()
    return caught.value


@pytest.mark.postgres
@pytest.mark.parametrize("statement", AUDIT_TAMPERING)
def test_app_role_cannot_tamper_with_the_audit_log(world, statement):
    audit_service.record_now(actor=world.staff_x, action="staff.login")
    error = _refused(statement)
    assert error.orig.sqlstate == INSUFFICIENT_PRIVILEGE
    assert "append-only" not in str(error.orig)  # refused by privileges, before the trigger is reached
    assert db.session.scalar(select(AuditLog.action)) == "staff.login"


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["staff", "veteran", "org_unit", "alembic_version"])
def test_app_role_cannot_truncate_or_drop_business_tables(table):
    for statement in (f"TRUNCATE {table}", f"DROP TABLE {table} CASCADE", f"ALTER TABLE {table} ADD COLUMN x int"):
        assert _refused(statement).orig.sqlstate == INSUFFICIENT_PRIVILEGE


@pytest.mark.postgres
def test_app_role_owns_nothing_and_holds_only_the_listed_privileges():
    conn = db.session
    user = conn.scalar(text("SELECT current_user"))
    assert user == dbroles.app_role_name({"APP_DATABASE_ROLE": user})
    assert (
        conn.scalar(
            text("SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = :u"), {"u": user}
        )
        is False
    )
    owned = conn.scalar(
        text(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND pg_get_userbyid(c.relowner) = current_user"
        )
    )
    assert owned == 0
    tables = conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).all()
    assert "audit_log" in tables
    kinds = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    for table in tables:
        held = {k for k in kinds if conn.scalar(text("SELECT has_table_privilege(:t, :k)"), {"t": table, "k": k})}
        expected = {p.split(" ")[0] for p in dbroles.privileges_for(table) if "(" not in p}
        assert held == expected, table
    assert conn.scalar(text("SELECT has_schema_privilege(current_schema(), 'CREATE')")) is False


@pytest.mark.postgres
def test_grants_are_idempotent_and_cover_new_tables(owner_engine):
    """A second run changes nothing; a table a later migration creates is granted by default, then narrowed."""
    role = db.session.scalar(text("SELECT current_user"))
    with owner_engine.connect() as conn, conn.begin() as outer:
        dbroles.apply_grants(conn, role)
        dbroles.apply_grants(conn, role)
        conn.execute(text("CREATE TABLE dbroles_probe (id int)"))
        assert conn.scalar(text("SELECT has_table_privilege(:r, 'dbroles_probe', 'INSERT')"), {"r": role})
        assert not conn.scalar(text("SELECT has_table_privilege(:r, 'dbroles_probe', 'TRUNCATE')"), {"r": role})
        assert not conn.scalar(text("SELECT has_table_privilege(:r, 'audit_log', 'UPDATE')"), {"r": role})
        outer.rollback()


@pytest.mark.postgres
def test_grants_refuse_a_missing_or_owner_role(owner_engine):
    with owner_engine.connect() as conn, conn.begin() as outer:
        with pytest.raises(dbroles.RoleSetupError, match="does not exist"):
            dbroles.apply_grants(conn, "no_such_role_anywhere")
        owner = conn.scalar(text("SELECT current_user"))
        with pytest.raises(dbroles.RoleSetupError, match="must not be"):
            dbroles.apply_grants(conn, owner)
        outer.rollback()


@pytest.mark.no_db
def test_app_role_name_from_settings():
    owner = "postgresql+psycopg://owner@db/veterans"
    app = "postgresql+psycopg://web@db/veterans"
    assert dbroles.app_role_name({"SQLALCHEMY_DATABASE_URI": app, "MIGRATION_DATABASE_URL": owner}) == "web"
    assert dbroles.app_role_name({"SQLALCHEMY_DATABASE_URI": owner, "MIGRATION_DATABASE_URL": owner}) is None
    assert dbroles.app_role_name({"SQLALCHEMY_DATABASE_URI": "sqlite:///x.db"}) is None
    assert dbroles.app_role_name({"APP_DATABASE_ROLE": "svc", "SQLALCHEMY_DATABASE_URI": owner}) == "svc"


@pytest.mark.no_db
def test_privileges_list_is_well_formed():
    assert dbroles.privileges_for("audit_log") == ("SELECT", "INSERT")
    for table, privileges in dbroles.TABLE_PRIVILEGES.items():
        assert all(dbroles._PRIVILEGE.match(p) for p in privileges), table
        assert not {"TRUNCATE", "TRIGGER"} & {p.split(" ")[0] for p in privileges}, table


def test_apply_grants_does_nothing_on_sqlite(app):
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite only")
    dbroles.apply_grants(db.session.connection(), "anyone")
