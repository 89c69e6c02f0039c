"""The restore drill (docs/deploy.md "Restore drill", quality.md S29) on a small database: dump it with `pg_dump -Fc`,
restore it into a NEW database with `pg_restore`, then the audit chain verifies on the restored copy (the checker
behind `flask audit-verify`, with the key and checkpoints kept outside the backup) and every table's row count and
content checksum, and every sequence, match the source. The restored database is dropped at the end.
"""

import shutil
import subprocess

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests import conftest
from tests.conftest import dispose_engines, is_postgres, make_config, own_database

pytestmark = [
    pytest.mark.no_db,
    pytest.mark.skipif(not is_postgres(), reason="the drill dumps and restores PostgreSQL; set TEST_DATABASE_URL"),
    pytest.mark.skipif(
        not (shutil.which("pg_dump") and shutil.which("pg_restore")), reason="needs pg_dump and pg_restore on PATH"
    ),
]
SOURCE, COPY = "restore_src", "restore_copy"  # `<test db>[_gwN]_restore_src`: per xdist worker (tests/parallel.py)


def _libpq(url):
    """A SQLAlchemy URL as pg_dump/pg_restore take it (--dbname)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# Rows in a stable order, hashed: the restored copy must hold the same values, not just as many rows.
CHECKSUM = "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"


def _snapshot(owner_url):
    """{table: (rows, md5 of the rows)} for every table, and {sequence: last_value}."""
    engine = create_engine(owner_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
            content = {name: tuple(conn.execute(text(CHECKSUM.format(table=name))).one()) for name in sorted(tables)}
            sequences = dict(
                conn.execute(
                    text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
                ).all()
            )
    finally:
        engine.dispose()
    return content, sequences


def _admin(owner_url, *statements):
    engine = create_engine(
        make_url(owner_url).set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        with engine.connect() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()


def _fill(app):
    """Veterans and audit rows written through the services; most rows sealed (with a checkpoint), a few not yet."""
    from backend.audit import chain
    from backend.audit import service as audit_service
    from backend.veterans import service as veterans
    from tests.factories import build_world, valid_id_number, valid_mobile

    with app.app_context():
        world = build_world()
        created = [
            veterans.create_veteran(
                actor=world.staff_x,
                station_id=world.x1.id,
                name=f"恢复演练{i}",
                id_number=valid_id_number(),
                phone=valid_mobile(),
            )
            for i in range(6)
        ]
        veterans.update_veteran(actor=world.staff_x, veteran_id=created[0].id, address="恢复演练路 1 号")
        for i in range(3):
            audit_service.record_now(actor=world.staff_x, action="staff.login", object_id=i)
        sealed = chain.seal_pending()
        audit_service.record_now(actor=world.staff_x, action="staff.logout")  # committed after the seal
    assert sealed.sealed >= 10
    return sealed.sealed


def _verify(app_url, checkpoints, **overrides):
    from backend import create_app
    from backend.audit.verify import verify

    app = create_app(make_config(app_url, AUDIT_CHECKPOINT_FILE=str(checkpoints), **overrides))
    try:
        with app.app_context():
            return verify()
    finally:
        dispose_engines(app)


def _owner_urls():
    """The owner's URLs of the source (own_database's naming) and of the new database restored into."""
    base = make_url(conftest.test_database_url())
    return [
        base.set(database=f"{base.database}_{name}").render_as_string(hide_password=False) for name in (SOURCE, COPY)
    ]


def test_dump_restore_into_a_new_database_verifies_and_matches(tmp_path):
    from backend import create_app

    checkpoints = tmp_path / "audit-checkpoints.log"  # the sink outside the database (and outside its backups)

    def with_sink(config):
        return create_app(type("DrillConfig", (config,), {"AUDIT_CHECKPOINT_FILE": str(checkpoints)}))

    source_app = own_database(SOURCE, with_sink)
    try:
        sealed = _fill(source_app)
    finally:
        dispose_engines(source_app)
    source_owner, copy_owner = _owner_urls()
    copy_db = make_url(copy_owner).database
    dump = tmp_path / "veterans.dump"

    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", f"--dbname={_libpq(source_owner)}"], check=True)
    _admin(source_owner, f'DROP DATABASE IF EXISTS "{copy_db}" WITH (FORCE)', f'CREATE DATABASE "{copy_db}"')
    try:
        subprocess.run(["pg_restore", "--exit-on-error", f"--dbname={_libpq(copy_owner)}", str(dump)], check=True)

        source, restored = _snapshot(source_owner), _snapshot(copy_owner)
        assert len(source[0]) > 50 and source[0]["veteran"][0] == 6 and source[0]["audit_log"][0] > sealed
        assert restored == source
        copy_app_url = conftest.test_app_database_url(copy_owner)  # the restored grants let the app role read it
        report = _verify(copy_app_url, checkpoints)
        assert report.ok, [p.message for p in report.problems]
        assert report.sealed_rows == sealed and report.unsealed_rows == 1 and report.checkpoints_compared >= 1
        # the backup alone is not enough: without AUDIT_CHAIN_KEY (kept out of it) the chain cannot be checked
        assert not _verify(copy_app_url, checkpoints, AUDIT_CHAIN_KEY="another-key-" + "0" * 40).ok
    finally:
        _admin(source_owner, f'DROP DATABASE IF EXISTS "{copy_db}" WITH (FORCE)')
