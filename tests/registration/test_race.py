"""S20: two reviewers act on one submission at once, 100 trials: exactly one wins, the other gets 409, nothing lost.

Needs real commits on separate connections, so it runs against a database of its own on PostgreSQL (SQLite has no
row locks). Slow (~10-20 s): 100 trials x 2 threads.
"""

import threading
from types import SimpleNamespace

import pytest
from freezegun import freeze_time

from tests.conftest import dispose_engines, make_config, own_database

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def race_app():
    from backend import create_app

    app = own_database("race", create_app, pool_size=5)
    yield app
    dispose_engines(app)


@freeze_time("2027-02-01 02:00:00")
def test_two_reviewers_at_once_exactly_one_wins(race_app):
    from backend.extensions import db
    from backend.registration import review, service
    from backend.registration.models import Registration
    from backend.staff.models import Staff
    from tests.factories import build_world, create_staff, create_veteran
    from tests.registration.helpers import FULL, account_for

    with race_app.app_context():
        world = build_world()
        reviewers = [create_staff(unit=world.x, roles=("center_reviewer",)).id for _ in range(2)]
        cases = []
        for _ in range(100):
            veteran = create_veteran(station=world.x1)
            account = account_for(veteran)
            service.save_draft(account=account, content=FULL)
            reg = service.submit(account=account)
            cases.append((reg.id, reg.version_id))
        db.session.remove()

    outcomes = []
    for reg_id, version in cases:
        barrier, results = threading.Barrier(2), []

        def act(reviewer_id, kind, barrier=barrier, results=results, reg_id=reg_id, version=version):
            with race_app.app_context():
                actor = db.session.get(Staff, reviewer_id)
                barrier.wait()
                try:
                    if kind == "approve":
                        review.approve(actor=actor, registration_id=reg_id, expected_version=version)
                    else:
                        review.return_for_correction(
                            actor=actor,
                            registration_id=reg_id,
                            expected_version=version,
                            reasons={"contact": "电话不通"},
                        )
                    results.append(kind)
                except review.RegistrationChanged:
                    results.append("409")
                finally:
                    db.session.remove()

        threads = [
            threading.Thread(target=act, args=(reviewers[0], "approve")),
            threading.Thread(target=act, args=(reviewers[1], "return")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes.append(sorted(results))

    assert all(len(r) == 2 and r.count("409") == 1 for r in outcomes), outcomes
    with race_app.app_context():
        final = {
            r.id: r.status for r in db.session.query(Registration).filter(Registration.id.in_([c[0] for c in cases]))
        }
        winners = {
            reg_id: next(k for k in outcome if k != "409") for (reg_id, _), outcome in zip(cases, outcomes, strict=True)
        }
        expected = {"approve": "approved", "return": "returned"}
        assert all(final[reg_id] == expected[kind] for reg_id, kind in winners.items())  # no lost update


@freeze_time("2027-02-01 02:00:00")
def test_bulk_and_single_approve_at_once(race_app):
    """The bulk path's version predicate holds against a concurrent single approval (and vice versa)."""
    from backend.extensions import db
    from backend.registration import review, service
    from backend.staff.models import Staff
    from tests.factories import build_world, create_staff, create_veteran
    from tests.registration.helpers import FULL, account_for

    with race_app.app_context():
        world = build_world()
        a, b = (create_staff(unit=world.x, roles=("center_reviewer",)).id for _ in range(2))
        items = []
        for _ in range(20):
            veteran = create_veteran(station=world.x1)
            account = account_for(veteran)
            service.save_draft(account=account, content=FULL)
            reg = service.submit(account=account)
            items.append((reg.id, reg.version_id))
        db.session.remove()

    results = {}
    barrier = threading.Barrier(2)

    def bulk():
        with race_app.app_context():
            actor = db.session.get(Staff, a)
            barrier.wait()
            results["bulk"] = review.bulk_approve(actor=actor, items=items)
            db.session.remove()

    def singles():
        with race_app.app_context():
            actor = db.session.get(Staff, b)
            barrier.wait()
            won = 0
            for reg_id, version in items:
                try:
                    review.return_for_correction(
                        actor=actor, registration_id=reg_id, expected_version=version, reasons={"contact": "x"}
                    )
                    won += 1
                except review.RegistrationChanged:
                    pass
            results["singles"] = won
            db.session.remove()

    threads = [threading.Thread(target=bulk), threading.Thread(target=singles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    approved, changed = results["bulk"]
    assert len(approved) + results["singles"] == 20 and len(approved) + len(changed) == 20


# --- overdue slice (issue 10): concurrent first writes of this year's registration make one row, never a 5xx ---


@pytest.fixture(scope="module")
def race_api(race_app, fake_wechat_server):
    from miniprogram_api import create_app as create_api

    url = race_app.config["SQLALCHEMY_DATABASE_URI"]
    app = create_api(
        make_config(
            url,
            WECHAT_API_BASE=fake_wechat_server.base,
            SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 25, "max_overflow": 5, "hide_parameters": True},
        )
    )
    yield app
    dispose_engines(app)


def _png():
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@freeze_time("2027-02-01 02:00:00")
def test_concurrent_first_saves_and_uploads_over_http_make_one_row(race_app, race_api, fake_wechat_server):
    """20 phone requests at once for a veteran with nothing saved: 10 first saves, 10 first uploads. Every one
    succeeds, and the database keeps one registration, created once, with all 10 attachments."""
    import io

    from sqlalchemy import func, select

    from backend.extensions import db
    from backend.registration.models import Registration, RegistrationAttachment, RegistrationEvent
    from tests.api.helpers import bound_client
    from tests.factories import build_world, create_veteran
    from tests.helpers import ApiClient
    from tests.registration.helpers import FULL

    with race_app.app_context():
        world = build_world()
        veterans = [
            SimpleNamespace(id=v.id, name=v.name, id_number=v.id_number, phone=v.phone)
            for v in (create_veteran(station=world.x1) for _ in range(3))
        ]
        db.session.remove()
    image = _png()
    for veteran in veterans:
        with race_api.app_context():
            token = bound_client(race_api, fake_wechat_server.fake, veteran).token
            db.session.remove()
        barrier, statuses = threading.Barrier(20), []

        def act(kind, barrier=barrier, statuses=statuses, token=token):
            client = ApiClient(race_api, token)
            barrier.wait()
            if kind == "save":
                response = client.call("PUT", "/v1/registrations/current", json={"content": FULL})
            else:
                response = client.post(
                    "/v1/registrations/current/attachments",
                    data={"section": "employment", "file": (io.BytesIO(image), "a.png")},
                    content_type="multipart/form-data",
                )
            statuses.append((kind, response.status_code))

        threads = [threading.Thread(target=act, args=("save" if i % 2 else "upload",)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses) == sorted([("save", 200)] * 10 + [("upload", 201)] * 10), statuses
        with race_app.app_context():
            regs = db.session.scalars(select(Registration).where(Registration.veteran_id == veteran.id)).all()
            assert len(regs) == 1 and regs[0].status == "draft"
            created = db.session.scalar(
                select(func.count())
                .select_from(RegistrationEvent)
                .where(RegistrationEvent.registration_id == regs[0].id, RegistrationEvent.action == "draft_created")
            )
            files = db.session.scalar(select(func.count()).where(RegistrationAttachment.registration_id == regs[0].id))
            assert (created, files) == (1, 10)
            db.session.remove()


@pytest.fixture(scope="module")
def race_wide(race_app):
    """The race database with a pool for 25 threads at once."""
    from backend import create_app

    app = create_app(
        make_config(race_app.config["SQLALCHEMY_DATABASE_URI"], SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 25})
    )
    yield app
    dispose_engines(app)


@freeze_time("2027-04-02 02:00:00")
def test_concurrent_first_writes_from_phone_onsite_and_the_overdue_job(race_wide):
    """After the close, with county X extended: 10 phone saves and 10 on-site entries at once for an X veteran with
    nothing saved; 10 on-site entries and 2 overdue job runs at once for a Y veteran (not extended). No unique
    violation, no lost save: one row each, holding what was saved."""
    from datetime import date

    from sqlalchemy import select

    from backend.accounts.models import WechatAccount
    from backend.extensions import db
    from backend.registration import jobs, service, windows
    from backend.registration.models import Registration
    from backend.staff.models import Staff
    from tests.factories import build_world, create_staff, create_veteran
    from tests.registration.helpers import FULL, account_for

    with race_wide.app_context():
        world = build_world()
        windows.set_window(actor=world.sys_admin, year=2027, closes_on=date(2027, 4, 30), unit_id=world.x.id)
        clerks = {unit: create_staff(unit=world.units[unit], roles=("station_staff",)).id for unit in ("x1", "y1")}
        cases = []
        for _ in range(3):
            for unit, kinds in (("x1", ["phone"] * 10 + ["onsite"] * 10), ("y1", ["onsite"] * 10 + ["job"] * 2)):
                veteran = create_veteran(station=world.units[unit])
                cases.append((veteran.id, account_for(veteran).id, clerks[unit], kinds))
        db.session.remove()

    for veteran_id, account_id, clerk_id, kinds in cases:
        barrier, outcomes = threading.Barrier(len(kinds)), []

        def act(
            kind, barrier=barrier, outcomes=outcomes, veteran_id=veteran_id, account_id=account_id, clerk_id=clerk_id
        ):
            with race_wide.app_context():
                try:
                    account = db.session.get(WechatAccount, account_id)
                    actor = db.session.get(Staff, clerk_id)
                    barrier.wait()
                    if kind == "phone":
                        service.save_draft(account=account, content=FULL)
                    elif kind == "onsite":
                        service.enter_onsite(actor=actor, veteran_id=veteran_id, content=FULL)
                    else:
                        jobs.mark_overdue()
                    outcomes.append("ok")
                except Exception as error:  # noqa: BLE001 - the test reports whatever escaped
                    outcomes.append(repr(error))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=act, args=(kind,)) for kind in kinds]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes == ["ok"] * len(kinds), outcomes
        with race_wide.app_context():
            regs = db.session.scalars(select(Registration).where(Registration.veteran_id == veteran_id)).all()
            assert len(regs) == 1 and regs[0].content == FULL, [r.status for r in regs]
            assert regs[0].status in (("draft",) if "phone" in kinds else ("draft", "overdue"))
            db.session.remove()
