"""GET /v1/_bench/*: the baselines bench/run.py divides by (issue 12, quality.md part 2).

A plain Flask blueprint, registered on the app (not through flask-smorest) only when BENCHMARK_ENDPOINTS is on, so
it is absent from the OpenAPI document, the authz matrix and schemathesis. Every baseline passes the same app
plumbing as a phone route (request id, input guards, response headers, session teardown):

- json: ~100 bytes of JSON, no auth, no database.
- db1: one primary-key SELECT of a small model through db.session.get (OrgUnit, its joined parent left unloaded so
  the SQL is one single-table SELECT).
- raw1: the same SELECT on the raw psycopg connection, checked out of the app's own engine pool through
  engine.raw_connection() and returned to it, so the pool cost is the same as db1's; only the ORM differs.
- noop_auth: an authenticated no-op: the token check of every phone route (requires_account).
- celery: publishes one no-op Celery task to the "bench" queue (no worker consumes it; bench/run.py empties it).
"""

from flask import Blueprint, jsonify, request
from sqlalchemy.orm import lazyload

from backend import tasks as task_queue
from backend.benchmark import noop
from backend.errors import NotFound
from backend.extensions import db
from backend.orgs.models import OrgUnit
from miniprogram_api.security import requires_account

bp = Blueprint("bench", __name__)

PAYLOAD = {"status": "ok", "service": "veterans", "baseline": "json", "padding": "x" * 33}  # 100 bytes as JSON
RAW_SQL = "SELECT id, parent_id, level, name, code, path, depth, created_at FROM org_unit WHERE id = {}"


def _unit_id():
    value = request.args.get("id", "1")
    return int(value) if value.isdigit() and len(value) < 18 else 1


def _unit_body(row):
    if row is None:
        raise NotFound()  # the one error envelope
    return jsonify({"id": row[0], "name": row[1], "path": row[2]})


@bp.get("/json")
def bare_json():
    return jsonify(PAYLOAD)


@bp.get("/db1")
def orm_select():
    unit = db.session.get(OrgUnit, _unit_id(), options=[lazyload(OrgUnit.parent)])
    return _unit_body(None if unit is None else (unit.id, unit.name, unit.path))


@bp.get("/raw1")
def raw_select():
    engine = db.engine
    placeholder = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    connection = engine.raw_connection()  # from the app's pool, returned by close()
    try:
        cursor = connection.cursor()
        cursor.execute(RAW_SQL.format(placeholder), (_unit_id(),))
        row = cursor.fetchone()
        cursor.close()
        connection.rollback()  # end the read transaction, as the session's teardown does for db1
    finally:
        connection.close()
    return _unit_body(None if row is None else (row[0], row[3], row[5]))


@bp.get("/noop-auth")
def noop_auth():
    requires_account()
    return jsonify({"status": "ok"})


@bp.get("/celery")
def celery_publish():
    task_queue.enqueue(noop, queue="bench")
    return jsonify({"status": "queued"})


def register(app):
    """Register the baselines on `app` when BENCHMARK_ENDPOINTS is on (bench servers and tests only)."""
    if app.config.get("BENCHMARK_ENDPOINTS"):
        app.register_blueprint(bp, url_prefix="/v1/_bench")
