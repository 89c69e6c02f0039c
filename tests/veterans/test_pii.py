"""Personal data: no ID number or phone in plaintext in any table, none in the logs of the whole registry flow."""

import logging

from sqlalchemy import select, text

from backend.extensions import db
from backend.veterans import importer
from backend.veterans.models import Veteran
from tests.factories import valid_id_number, valid_mobile
from tests.helpers import portal_as
from tests.veterans.test_import import sheet_bytes


def _dump_database():
    """Every row of every table, as text (the test's own transaction sees the seeded rows)."""
    chunks = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')):
            chunks.append(" ".join(str(v) for v in row))
    return "\n".join(chunks)


def _registry_flow(portal_app, world, monkeypatch):
    """Create on the portal, list, search, open, reveal, edit, move and import: returns the seeded values."""
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    client = portal_as(portal_app, world.staff_x)
    number, phone = valid_id_number(), valid_mobile()
    client.post(
        "/veterans/new",
        data={"name": "李四", "id_number": number, "phone": phone, "station_id": world.x1.id, "status": "active"},
        expect=302,
    )
    veteran = db.session.scalars(select(Veteran).where(Veteran.name == "李四")).one()
    client.get("/veterans/", expect=200)
    found = client.post("/veterans/search", data={"id_number": number}, follow_redirects=True)
    assert "李四" in found.get_data(as_text=True) and number not in found.request.url
    page = client.get(f"/veterans/{veteran.id}", expect=200).get_data(as_text=True)
    assert number not in page and phone not in page
    assert number in client.post(f"/veterans/{veteran.id}/reveal", expect=200).get_data(as_text=True)
    client.post(
        f"/veterans/{veteran.id}/edit",
        data={"name": "李四", "id_number": number, "phone": valid_mobile(), "status": "active"},
        expect=302,
    )
    client.post(
        f"/veterans/{veteran.id}/move", data={"station_id": world.x1.id, "grid_id": world.x1_grid.id}, expect=302
    )
    imported = [valid_id_number() for _ in range(3)]
    rows = [["王五", n, valid_mobile(), None, world.x1.name, None, None, None, None] for n in imported]
    job = importer.start_import(actor=world.staff_x, filename="a.xlsx", content=sheet_bytes(rows))
    importer.run_import(job.id)
    return [number, phone, *imported]


def test_no_plaintext_id_numbers_or_phones_in_the_database(portal_app, world, monkeypatch):
    seeded = _registry_flow(portal_app, world, monkeypatch)
    dump = _dump_database()
    assert "李四" in dump  # the dump does see the rows
    for value in seeded:
        assert value not in dump
    phones = [v.phone for v in db.session.scalars(select(Veteran))]
    for value in phones:
        assert value not in dump
    # ... and lookup by ID number still works through the HMAC index.
    client = portal_as(portal_app, world.staff_x)
    found = client.post("/veterans/search", data={"id_number": seeded[0]}, follow_redirects=True)
    assert "李四" in found.get_data(as_text=True)


def test_no_personal_data_in_logs_of_the_registry_flow(portal_app, world, monkeypatch, caplog, _db):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # SQL and its parameters too
    _db._echo = True  # APIFRAGILE: a Connection decides on echo when it is created; the test's one already exists
    try:
        seeded = _registry_flow(portal_app, world, monkeypatch)
    finally:
        _db._echo = False
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    logged = "\n".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert "SELECT" in logged  # the capture did see the flow
    for value in seeded:
        assert value not in logged
