"""Audited writes do not serialise: an open transaction holding a long audited batch blocks neither another audited
write nor the sealer; the batch's rows, committed last with lower ids, are chained after the others.

Needs real commits on separate connections, so it runs against a database of its own on PostgreSQL.
"""

import threading

import pytest

from tests.conftest import dispose_engines, own_database

pytestmark = pytest.mark.postgres
WAIT = 10  # seconds: the bound on every wait; a blocked writer fails the test instead of hanging it


@pytest.fixture(scope="module")
def audit_app():
    from backend import create_app

    app = own_database("auditrace", create_app, pool_size=5)
    yield app
    dispose_engines(app)


def _in_thread(app, fn, results):
    def run():
        from backend.extensions import db

        with app.app_context():
            try:
                results.append(fn())
            except Exception as exc:  # reported by the asserting thread
                results.append(exc)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_an_audited_write_is_not_blocked_by_a_long_audited_batch(audit_app):
    from backend.audit import chain, service
    from backend.audit.verify import verify
    from backend.db import transaction
    from backend.extensions import db

    holding, release = threading.Event(), threading.Event()

    def long_batch():
        with transaction():
            rows = [service.record(actor=service.SystemActor(), action="registration.overdue") for _ in range(300)]
            holding.set()
            assert release.wait(WAIT)
        return [r.id for r in rows]

    batch_out, login_out, seal_out = [], [], []
    batch = _in_thread(audit_app, long_batch, batch_out)
    try:
        assert holding.wait(WAIT)
        login = _in_thread(
            audit_app, lambda: service.record_now(actor=None, action="staff.login", result="failure").id, login_out
        )
        login.join(WAIT)
        login_blocked = login.is_alive()
        sealer = _in_thread(audit_app, lambda: chain.seal_pending(checkpoint=False).sealed, seal_out)
        sealer.join(WAIT)
        sealer_blocked = sealer.is_alive()
    finally:
        release.set()
        batch.join(WAIT)
    assert not login_blocked and not sealer_blocked, "an audited write waited for another transaction"
    assert seal_out == [1]  # only the committed login row; the open batch is not visible, and not waited for
    login_id, batch_ids = login_out[0], batch_out[0]
    assert max(batch_ids) < login_id  # the batch took its ids first and committed last

    with audit_app.app_context():
        assert chain.seal_pending(checkpoint=False).sealed == 300
        report = verify()
        assert report.ok and report.sealed_rows == 301 and report.unsealed_rows == 0
        db.session.remove()


def test_a_second_sealer_does_not_wait_for_the_first(audit_app):
    from sqlalchemy import text

    from backend.audit import chain, service
    from backend.extensions import db

    with audit_app.app_context():
        service.record_now(actor=None, action="staff.login", result="failure")
        holder = db.engine.connect()
        try:
            holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": chain._SEAL_LOCK})
            outcome = []
            thread = _in_thread(audit_app, lambda: chain.seal_pending(checkpoint=False), outcome)
            thread.join(WAIT)
            assert not thread.is_alive() and outcome[0].busy and outcome[0].sealed == 0
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": chain._SEAL_LOCK})
            holder.close()
        assert chain.seal_pending(checkpoint=False).sealed == 1
        db.session.remove()
