"""Key rotation with real commits on a PostgreSQL database of its own: a `pg_dump` after rotating from the legacy
key to version 1 (SM4) and retiring version 0 holds no value sealed under version 0 and no plaintext; the job killed
with SIGKILL mid-batch resumes; a recorded reference to a retired version stops the app from starting.

Slower than 0.5 s: migrates a database of its own and runs a subprocess."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import make_url

from backend import create_app as create_backend
from backend.audit.service import SystemActor
from backend.db import transaction
from backend.extensions import db
from backend.keys import keyring, rotation, startup
from backend.keys.columns import SEALED
from backend.keys.models import PiiKeyVersion, PiiRotation
from backend.veterans.models import Veteran
from config import settings
from tests import conftest
from tests.conftest import dispose_engines, make_config, own_database
from tests.factories import create_trip, create_unit, create_veteran, unique, valid_id_number, valid_mobile
from tests.keys.helpers import key, pii_keys, use_keys

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
SYSTEM = SystemActor(label="test")
NOTE = "探亲：首尔江南区"


@pytest.fixture(scope="module")
def own():
    app = own_database("pii", create_backend)
    yield app
    dispose_engines(app)


def _seed(n=5):
    county = create_unit(parent=create_unit(parent=create_unit(name=unique("省")), name="市"), name="县")
    station = create_unit(parent=county, name=unique("站"))
    numbers, phones = [valid_id_number() for _ in range(n)], [valid_mobile() for _ in range(n)]
    veterans = [create_veteran(station=station, id_number=i, phone=p) for i, p in zip(numbers, phones, strict=True)]
    create_trip(veterans[0], purpose_note=NOTE)
    return numbers + phones + [NOTE], veterans


def _stored_values():
    out = []
    for spec in SEALED:
        table = db.metadata.tables[spec.table]
        cols = [table.c[spec.column]] + ([table.c[spec.index]] if spec.index else [])
        for row in db.session.execute(select(*cols)):
            out += [v.decode() if isinstance(v, bytes) else v for v in row if v is not None]
    return out


def _pg_dump(app):
    owner = make_url(conftest.test_database_url()).set(
        database=make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    )
    url = owner.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run(["pg_dump", "--data-only", url], check=True, capture_output=True, text=True).stdout


def test_pg_dump_after_rotation_holds_no_retired_version_and_no_plaintext(own, monkeypatch):
    with own.app_context():
        plaintexts, veterans = _seed()
        before = _stored_values()  # legacy (version 0) values, header-less or "A0:"/"H0:"
        assert before and keyring.current().newest.version == 0
        use_keys(monkeypatch, own, 1, cipher="sm4-gcm")
        assert rotation.run(batch=2, actor=SYSTEM).finished
        rotation.retire(0, actor=SYSTEM)
        use_keys(monkeypatch, own, 1, cipher="sm4-gcm", legacy=False)  # version 0's keys removed
        assert rotation.startup_problems(keyring.current()) == []
        db.session.expire_all()
        assert [
            v.id_number for v in db.session.scalars(select(Veteran).where(Veteran.id.in_([v.id for v in veterans])))
        ]
        dump = _pg_dump(own)
    assert veterans[0].name in dump  # the dump does see the rows
    for value in plaintexts:
        assert value not in dump
    for value in before:
        assert value not in dump, "a value sealed under the retired version survived"
    for header in ("A0:", "H0:", "S0:", "M0:"):
        assert f"\t{header}" not in dump and f"|{header}" not in dump
    for material in (settings.TEST_PII_ENCRYPTION_KEY, settings.TEST_PII_HMAC_KEY, key("seal", 1), key("index", 1)):
        assert material.rstrip("=") not in dump


KILLER = """
import os, signal, sys
from backend import create_app
from backend.keys import rotation
from tests.conftest import make_config

app = create_app(make_config(sys.argv[1], PII_KEYS=sys.argv[2], PII_CIPHER="sm4-gcm"))
real, calls = rotation._reseal_row, [0]

def dying(*args):
    calls[0] += 1
    if calls[0] == 4:  # the second batch of two is open: killed without a chance to clean up
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args)

rotation._reseal_row = dying
with app.app_context():
    rotation.run(batch=2)
"""


def test_rotation_killed_with_sigkill_resumes(own, monkeypatch):
    with own.app_context():
        _, veterans = _seed(6)
        use_keys(monkeypatch, own, 1, 7, 8, cipher="sm4-gcm")
        with transaction():  # all earlier rows done under 7: start this test's rotation to 8 from zero
            db.session.execute(delete(PiiRotation))
        ids = sorted(db.session.scalars(select(Veteran.id)))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        url = own.config["SQLALCHEMY_DATABASE_URI"]
        child = subprocess.run([sys.executable, "-c", KILLER, url, pii_keys(1, 7, 8)], cwd=ROOT, env=env, check=False)
        assert child.returncode == -signal.SIGKILL
        progress = db.session.scalars(select(PiiRotation).where(PiiRotation.column_name == "id_number_enc")).one()
        assert progress.last_id == ids[1] and progress.finished_at is None and progress.target == "S8"
        assert rotation.run(batch=2, actor=SYSTEM).finished
        db.session.refresh(progress)
        assert progress.last_id == ids[-1]
        assert all(v.id_number_enc.startswith("S8:") for v in db.session.scalars(select(Veteran)))


def test_app_refuses_to_start_when_a_retired_version_is_still_referenced(own, monkeypatch):
    config = make_config(own.config["SQLALCHEMY_DATABASE_URI"], PII_KEYS=pii_keys(8, 9))
    with own.app_context():
        with transaction():
            db.session.merge(PiiKeyVersion(version=5))
            db.session.add(PiiRotation(table_name="x", column_name="y", target="A9", census={"A5": 1}))
    try:
        with pytest.raises(startup.KeyStateError, match="retired key version 5 is still referenced by x.y"):
            create_backend(config)
    finally:
        with own.app_context():
            with transaction():
                db.session.execute(delete(PiiRotation).where(PiiRotation.table_name == "x"))
                db.session.execute(delete(PiiKeyVersion).where(PiiKeyVersion.version == 5))
