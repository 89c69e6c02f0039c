"""Key rotation on the test database: re-seal under the newest version, lookups half way, resume after a failure
mid-batch (what a kill leaves: the open batch rolled back, the committed ones kept), retirement, startup refusal."""

import pytest
from sqlalchemy import func, select

from backend import pii
from backend.audit.models import AuditLog
from backend.audit.service import SystemActor
from backend.db import transaction
from backend.extensions import db
from backend.keys import keyring, rotation
from backend.keys.columns import SEALED, UNRECOVERABLE
from backend.keys.models import PiiKeyVersion, PiiRotation
from backend.staff.models import StaffRecoveryCode
from backend.veterans.models import ID_CONTEXT, Veteran
from backend.veterans.service import _ensure_unique_id
from tests.factories import add_objects, create_veteran, valid_id_number
from tests.keys.helpers import use_keys

SYSTEM = SystemActor(label="test")


def _values(spec):
    table = db.metadata.tables[spec.table]
    cols = [table.c[spec.column]] + ([table.c[spec.index]] if spec.index else [])
    rows = db.session.execute(select(*cols).where(table.c[spec.column].is_not(None))).all()
    return [(v.decode() if spec.binary else v) for row in rows for v in row if v is not None]


def _seed(world, monkeypatch, app, n=4):
    """The world's objects and `n` veterans, all under key version 1 (AES), then v2 (SM4) is configured."""
    use_keys(monkeypatch, app, 1)
    add_objects(world)
    numbers = [valid_id_number() for _ in range(n)]
    veterans = [create_veteran(station=world.x1, id_number=number) for number in numbers]
    with transaction():
        db.session.add(StaffRecoveryCode(staff_id=world.staff_x.id, code_hash=pii.blind_index("abc", context="rc")))
    use_keys(monkeypatch, app, 1, 2, cipher="sm4-gcm")
    return numbers, veterans


def test_rotation_reseals_every_value_and_index_under_the_newest_version(app, world, monkeypatch):
    numbers, veterans = _seed(world, monkeypatch, app)
    result = rotation.run(batch=3, actor=SYSTEM)
    assert result.finished and result.rows >= len(numbers)
    for spec in SEALED:
        for value in _values(spec):
            assert value.startswith(("S2:", "M2:")), f"{spec.table}.{spec.column}"
    for number, veteran in zip(numbers, veterans, strict=True):
        db.session.expire(veteran)
        assert veteran.id_number == number and veteran.id_number_hmac.startswith("M2:")
    recorded = {(r.table_name, r.column_name): r for r in db.session.scalars(select(PiiRotation))}
    assert set(recorded["veteran", "id_number_enc"].census) == {"S2", "M2"}
    assert recorded["staff_recovery_code", "code_hash"].census == {"H1": 1}  # cannot be recomputed
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.action.like("pii.%"))).all()
    assert "pii.rotation_finished" in actions


def test_lookup_by_id_number_during_a_half_finished_rotation(app, world, monkeypatch):
    numbers, veterans = _seed(world, monkeypatch, app)
    total = db.session.scalar(select(func.count()).select_from(Veteran))
    rotation.run(batch=total - 2, seconds=-1, actor=SYSTEM)  # one batch of the first column, then the time is up
    rotated = [v for v in veterans if (db.session.refresh(v) or v.id_number_hmac.startswith("M2:"))]
    assert 0 < len(rotated) < len(veterans)
    for number, veteran in zip(numbers, veterans, strict=True):
        found = db.session.scalars(
            select(Veteran.id).where(pii.index_in(Veteran.id_number_hmac, number, context=ID_CONTEXT))
        )
        assert found.all() == [veteran.id]
        with pytest.raises(Exception, match="IdNumberTaken|已登记|taken"):
            _ensure_unique_id(number)


def test_portal_search_finds_a_veteran_not_yet_rotated(app, portal_app, world, monkeypatch):
    from tests.helpers import portal_as

    numbers, veterans = _seed(world, monkeypatch, app)
    use_keys(monkeypatch, portal_app, 1, 2, cipher="sm4-gcm")
    client = portal_as(portal_app, world.staff_x)
    page = client.post("/veterans/search", data={"id_number": numbers[-1]}, follow_redirects=True)
    assert veterans[-1].name in page.get_data(as_text=True)


def test_rotation_resumes_after_a_failure_mid_batch(app, world, monkeypatch):
    numbers, veterans = _seed(world, monkeypatch, app, n=6)
    real, calls = rotation._reseal_row, {"n": 0}

    def dying(*args):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt("killed")
        return real(*args)

    monkeypatch.setattr(rotation, "_reseal_row", dying)
    with pytest.raises(KeyboardInterrupt):
        rotation.run(batch=2, actor=SYSTEM)
    progress = db.session.scalars(select(PiiRotation).where(PiiRotation.column_name == "id_number_enc")).one()
    first_ids = sorted(db.session.scalars(select(Veteran.id)))
    assert progress.last_id == first_ids[1] and progress.finished_at is None  # the first batch of 2 kept
    monkeypatch.setattr(rotation, "_reseal_row", real)
    assert rotation.run(batch=2, actor=SYSTEM).finished
    db.session.refresh(progress)
    assert progress.resealed == len(first_ids)  # every row re-sealed exactly once
    assert all(v.startswith(("S2:", "M2:")) for v in _values(SEALED[0]))


def test_retirement_is_refused_while_referenced_and_recorded_after(app, world, monkeypatch):
    _seed(world, monkeypatch, app)
    with pytest.raises(rotation.RotationRefused, match="仍有数据使用版本 1"):
        rotation.retire(1, actor=SYSTEM)
    with pytest.raises(rotation.RotationRefused, match="最新版本"):
        rotation.retire(2, actor=SYSTEM)
    rotation.run(actor=SYSTEM)
    assert rotation.retire(0, actor=SYSTEM) == 0
    assert rotation.retire(1, actor=SYSTEM) == 1  # the recovery code under v1 could not be re-keyed
    assert db.session.scalar(select(func.count()).select_from(StaffRecoveryCode)) == 0
    assert set(db.session.scalars(select(PiiKeyVersion.version))) == {0, 1}
    ring = keyring.current()
    assert rotation.startup_problems(ring) == []
    use_keys(monkeypatch, app, 2, cipher="sm4-gcm", legacy=False)  # the old keys removed from the configuration
    assert rotation.startup_problems(keyring.current()) == []


def test_startup_problems_from_the_recorded_state(app, world, monkeypatch):
    use_keys(monkeypatch, app, 1, 2)
    with transaction():
        db.session.add(PiiKeyVersion(version=1))
        db.session.add(PiiRotation(table_name="trip", column_name="sealed", target="A2", census={"A1": 3}))
    problems = rotation.startup_problems(keyring.current())
    assert problems == ["retired key version 1 is still referenced by trip.sealed"]
    use_keys(monkeypatch, app, 1, legacy=False)
    problems = rotation.startup_problems(keyring.current())
    assert "the newest configured key version 1 is retired" in problems


def test_the_startup_check_refuses_an_app(app, monkeypatch):
    from backend.keys import startup

    monkeypatch.setattr(rotation, "startup_problems", lambda ring, session: ["retired key version 1 is still used"])
    with pytest.raises(startup.KeyStateError, match="refusing to start: retired key version 1"):
        startup.check(app)


def test_every_sealed_column_is_registered():
    names = {(s.table, s.column) for s in SEALED} | {(s.table, s.index) for s in SEALED if s.index}
    names |= {(table, column) for table, column, _ in UNRECOVERABLE}
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if column.name.endswith(("_enc", "_sealed", "_hmac", "code_hash")) or column.name == "sealed":
                assert (table.name, column.name) in names, (
                    f"{table.name}.{column.name} is not in backend/keys/columns.py"
                )
