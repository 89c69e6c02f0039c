"""Two database roles on PostgreSQL: an owner that runs migrations and an app role for the web and the workers.

The owner (MIGRATION_DATABASE_URL) creates and alters the tables. The app role (DATABASE_URL; its name is
APP_DATABASE_ROLE, or the user in DATABASE_URL) owns nothing and holds only the privileges below, so it cannot
TRUNCATE, ALTER, DISABLE TRIGGER on or DROP any table, nor UPDATE or DELETE an audit row.

apply_grants() runs at the end of every `flask db upgrade` (migrations/env.py), inside the migration's transaction.
It is idempotent: it revokes what the app role holds on every table of the schema and grants exactly this list.
SQLite has no roles; nothing here runs there.

This is the ONE place that says what the app role may do. To give it more on a table (e.g. the audit sealer's
UPDATE of the chain columns), add an entry to TABLE_PRIVILEGES; column lists are allowed: "UPDATE (prev_hash)".
"""

import logging
import re

from sqlalchemy import text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

# Tables not listed get DEFAULT_PRIVILEGES.
DEFAULT_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
TABLE_PRIVILEGES = {
    "audit_log": ("SELECT", "INSERT"),  # append-only for the app; the owner alone may do more
    "audit_seal": ("SELECT", "INSERT"),  # auditchain slice: the sealer (worker/CLI) appends chain positions
    "archive_access_log": ("SELECT", "INSERT"),  # issue 17: the archives' permanent lookup log
    "alembic_version": ("SELECT",),
}
# Sequences back the BIGINT/serial ids: nextval() needs USAGE; SELECT lets currval() work. Never UPDATE (setval).
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")

_PRIVILEGE = re.compile(r"^(SELECT|INSERT|UPDATE|DELETE|REFERENCES)( \([a-z_][a-z0-9_]*(, [a-z_][a-z0-9_]*)*\))?$")
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleSetupError(RuntimeError):
    """The app role is missing or would hold owner rights; the migration stops rather than run the app as owner."""


def app_role_name(config):
    """The app role to grant to, or None (SQLite, or one role for everything as in development).

    APP_DATABASE_ROLE wins; otherwise, when MIGRATION_DATABASE_URL names another user than DATABASE_URL, the
    user in DATABASE_URL.
    """
    explicit = config.get("APP_DATABASE_ROLE")
    if explicit:
        return explicit
    migration_url, app_url = config.get("MIGRATION_DATABASE_URL"), config.get("SQLALCHEMY_DATABASE_URI")
    if not migration_url or not app_url:
        return None
    owner, app = make_url(migration_url).username, make_url(app_url).username
    return app if app and app != owner else None


def privileges_for(table):
    return TABLE_PRIVILEGES.get(table, DEFAULT_PRIVILEGES)


def _quote(name):
    if not _ROLE.match(name):
        raise RoleSetupError(f"unsupported role or table name {name!r}")
    return f'"{name}"'


def apply_grants(connection, role):
    """Give `role` exactly the app's privileges on every table and sequence of the current schema (PostgreSQL)."""
    if connection.dialect.name != "postgresql":
        return
    quoted = _quote(role)
    row = connection.execute(
        text(
            "SELECT current_user AS owner, current_schema() AS schema, "
            "(SELECT rolsuper FROM pg_roles WHERE rolname = :r) AS superuser, "
            "EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :r) AS present"
        ),
        {"r": role},
    ).one()
    if not row.present:
        raise RoleSetupError(f"APP_DATABASE_ROLE {role!r} does not exist; create it (LOGIN, no other rights) first")
    if role == row.owner or row.superuser:
        raise RoleSetupError(f"the app role {role!r} must not be the migration owner or a superuser")
    if connection.execute(text("SELECT pg_has_role(:r, current_user, 'MEMBER')"), {"r": role}).scalar():
        raise RoleSetupError(f"the app role {role!r} is a member of the owner role and would inherit ownership")
    schema = _quote(row.schema)
    tables = connection.execute(
        text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    ).scalars()
    connection.execute(text(f"GRANT USAGE ON SCHEMA {schema} TO {quoted}"))
    connection.execute(text(f"REVOKE CREATE ON SCHEMA {schema} FROM {quoted}"))
    for table in tables:
        privileges = privileges_for(table)
        bad = [p for p in privileges if not _PRIVILEGE.match(p)]
        if bad:
            raise RoleSetupError(f"unsupported privilege {bad!r} for {table}")
        # Revoking a table privilege also revokes the column privileges of that kind, so this resets everything.
        connection.execute(text(f"REVOKE ALL ON TABLE {schema}.{_quote(table)} FROM {quoted}"))
        connection.execute(text(f"GRANT {', '.join(privileges)} ON TABLE {schema}.{_quote(table)} TO {quoted}"))
    connection.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {quoted}"))
    sequences = ", ".join(SEQUENCE_PRIVILEGES)
    connection.execute(text(f"GRANT {sequences} ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}"))
    # Tables a later migration creates are covered until the final step of that run narrows them to the list above.
    default = f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
    connection.execute(text(f"{default} GRANT {', '.join(DEFAULT_PRIVILEGES)} ON TABLES TO {quoted}"))
    connection.execute(text(f"{default} GRANT {sequences} ON SEQUENCES TO {quoted}"))
    log.info("database grants applied to role %s", role)
