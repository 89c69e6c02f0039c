"""Smoke: migrations from empty match the models, the OpenAPI document builds, wsgi routes to both apps."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from werkzeug.test import Client

from backend.extensions import db

# PostgreSQL-only indexes that migration 0016 creates in SQL (an expression key with INCLUDE columns), which the
# models cannot declare portably; the queue's EXPLAIN tests (tests/registration/test_queue_paths.py) check their use.
PG_ONLY_INDEXES = {"ix_registration_queue", "ix_registration_scope"}


def _compared(obj, name, type_, reflected, compare_to):
    return not (type_ == "index" and name in PG_ONLY_INDEXES)


def test_migrations_match_models(_db):
    context = MigrationContext.configure(_db, opts={"compare_type": True, "include_object": _compared})
    diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_openapi_document_builds(api):
    doc = api.get("/openapi.json", expect=200).get_json()
    assert "/v1/health" in doc["paths"]
    assert "Error" in str(doc["components"]) or "ErrorEnvelope" in str(doc["components"])


def test_wsgi_routes_portal_and_api(portal_app, api_app):
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    client = Client(DispatcherMiddleware(portal_app, {"/api": api_app}))
    assert client.get("/login").status_code == 200
    assert client.get("/api/v1/health").get_json() == {"status": "ok", "database": "ok"}
    assert client.get("/api/openapi.json").status_code == 200
