"""Request helpers that assert the status (Notify's admin_request, Flask tutorial's AuthActions)."""

from contextlib import contextmanager

from tests.factories import PASSWORD, TOTP_SECRET


def totp_code(staff_id, secret=TOTP_SECRET):
    """staffsec slice (issue 10): a TOTP code the server will accept now for `staff_id`.

    Codes are single-use per 30-second step, within one step either side: pick the current step, else the next one,
    newer than the last one used (never the previous step: a step boundary between here and the server's check would
    put it out of the window). A test logging one account in more often within 30 s gets its replay marker reset.
    """
    import pyotp
    from sqlalchemy import select, update

    from backend.db import transaction, utcnow
    from backend.extensions import db
    from backend.staff.models import Staff
    from backend.staff.totp import _step

    last = db.session.execute(select(Staff.totp_last_step).where(Staff.id == staff_id)).scalar()
    current = _step(utcnow())
    candidates = [step for step in (current, current + 1) if last is None or step > last]
    if not candidates:
        with transaction():
            db.session.execute(update(Staff).where(Staff.id == staff_id).values(totp_last_step=None))
        candidates = [current]
    return pyotp.TOTP(secret).generate_otp(candidates[0])


class PortalClient:
    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def login(self, staff_or_username, password=PASSWORD, expect=302):
        """Log in; when the server asks for the second factor (administrators), answer it with a TOTP code."""
        username = getattr(staff_or_username, "username", staff_or_username)
        response = self.client.post("/login", data={"username": username, "password": password})
        assert response.status_code == expect, response.text[:500]
        if response.status_code == 302 and response.headers["Location"] == "/login/verify":
            response = self.verify(_staff_id(staff_or_username, username))
        return response

    def verify(self, staff_id, expect=302):
        response = self.client.post("/login/verify", data={"code": totp_code(staff_id)})
        assert response.status_code == expect, response.text[:500]
        return response

    def get(self, url, expect=None, **kwargs):
        response = self.client.get(url, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text[:500])
        return response

    def post(self, url, expect=None, **kwargs):
        response = self.client.post(url, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text[:500])
        return response


def _staff_id(staff_or_username, username):
    staff_id = getattr(staff_or_username, "id", None)
    if staff_id is None:
        from sqlalchemy import func, select

        from backend.extensions import db
        from backend.staff.models import Staff

        staff_id = db.session.scalar(select(Staff.id).where(func.lower(Staff.username) == username.lower()))
    return staff_id


def portal_as(app, staff):
    client = PortalClient(app)
    client.login(staff)
    return client


class ApiClient:
    def __init__(self, app, token=None):
        self.client = app.test_client()
        self.token = token

    def _headers(self, headers):
        headers = dict(headers or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def call(self, method, url, expect=None, headers=None, **kwargs):
        response = self.client.open(url, method=method, headers=self._headers(headers), **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text[:500])
        return response

    def get(self, url, **kwargs):
        return self.call("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.call("POST", url, **kwargs)


def refresh_figures(years=None):
    """aggregates slice (issue 12): roll the figures up now, as the scheduled job would (pages read unit_stat)."""
    from backend.figures.rollup import rollup

    return rollup(years=years)


# --- SQL seen by the database (issue 12: statement budgets and EXPLAIN checks, never timings)

HARNESS_SQL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")  # the test harness's own, not the app's


@contextmanager
def sql_statements(target=None, keep=None, with_parameters=False):
    """The statements sent on `target` (an engine or connection; default the app's engine) inside the block, minus
    the harness's savepoints; `keep(statement)` filters further. Items are strings, or (statement, parameters)."""
    from sqlalchemy import event

    from backend.extensions import db

    target = db.engine if target is None else target
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith(HARNESS_SQL) and (keep is None or keep(statement)):
            seen.append((statement, parameters) if with_parameters else statement)

    event.listen(target, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(target, "before_cursor_execute", record)


def explain_plans(connection, call, keep):
    """EXPLAIN of each statement `call()` sends on `connection` that `keep(statement)` selects (PostgreSQL)."""
    with sql_statements(connection, keep=keep, with_parameters=True) as statements:
        call()
    return ["\n".join(r[0] for r in connection.exec_driver_sql("EXPLAIN " + sql, params)) for sql, params in statements]
