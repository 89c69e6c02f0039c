"""Recipients of a staff notification (issue 13): the audience filter within the sender's scope, picks and uploaded
ID numbers, the counts of the preview, and materialize (keyset, idempotent, scope recomputed at send time)."""

import pytest
from sqlalchemy import func, select

from backend.db import transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.notifications import recipients
from backend.notifications.models import Delivery, Notification, VeteranTag
from backend.orgs.scope import OrgUnitNotFound
from backend.registration.models import Registration
from backend.registration.windows import today_cst
from tests.factories import build_world, create_veteran, valid_id_number
from tests.notifications.helpers import bind, grant


@pytest.fixture
def world():
    w = build_world()
    w.objects["a"] = create_veteran(station=w.x1, grid=w.x1_grid, party_member=True)
    w.objects["b"] = create_veteran(station=w.x1)
    w.objects["c"] = create_veteran(station=w.y1)  # another county's station
    return w


def _ids(who, audience, **kw):
    ids = recipients._recipient_ids(recipients.base_path(who), recipients.clean_audience(who, audience), **kw)
    return set(db.session.scalars(select(ids.subquery().c.id)).all()) if ids is not None else set()


def test_default_unit_is_the_senders_and_never_reaches_another_station(world):
    w = world
    assert _ids(w.staff_x, {"unit_id": None}) == {w.a.id, w.b.id}
    assert _ids(w.staff_y, {"unit_id": None}) == {w.c.id}
    assert recipients.count(w.staff_x, {"unit_id": w.x1.id}) == 2


def test_a_crafted_unit_out_of_scope_is_refused_like_a_missing_one(world):
    w = world
    for unit_id in (w.y1.id, w.city.id, 2**62):
        with pytest.raises(OrgUnitNotFound):
            recipients.clean_audience(w.staff_x, {"unit_id": unit_id})
    with pytest.raises(OrgUnitNotFound):
        recipients.clean_audience(w.target, {"unit_id": w.x.id})  # a station cannot widen to its county
    with pytest.raises(OrgUnitNotFound):
        recipients.clean_audience(w.staff_x, {"grid_id": w.x1.id})  # not a grid


@pytest.mark.parametrize(
    "audience",
    [
        {"unit": 1},
        {"unit_id": "abc"},
        {"unit_id": True},
        {"party_member": "yes"},
        {"registration": {"year": 2026}},
        {"registration": {"year": "x", "status": "draft"}},
        {"registration": {"year": 2026, "status": "draft", "extra": 1}},
        {"wechat": "maybe"},
        {"overdue_trip": "1"},
        {"tags": "重点关注"},
        {"tags": ["a"] * 11},
        [1, 2],
    ],
)
def test_malformed_or_unknown_filters_are_refused(world, audience):
    with pytest.raises(ValidationFailed):
        recipients.clean_audience(world.staff_x, audience)


def test_filters_narrow_the_audience(world, fake_wechat):
    w = world
    year = today_cst().year
    with transaction():
        db.session.add(VeteranTag(veteran_id=w.b.id, tag="高龄"))
        db.session.add(
            Registration(veteran_id=w.a.id, unit_id=w.a.unit_id, year=year, status="returned", return_reasons={})
        )
    assert _ids(w.staff_x, {"grid_id": w.x1_grid.id}) == {w.a.id}
    assert _ids(w.staff_x, {"party_member": True}) == {w.a.id}
    assert _ids(w.staff_x, {"party_member": False}) == {w.b.id}
    assert _ids(w.staff_x, {"tags": ["高龄", "困难"]}) == {w.b.id}
    assert _ids(w.staff_x, {"registration": {"year": year, "status": "returned"}}) == {w.a.id}
    assert _ids(w.staff_x, {"registration": {"year": year, "status": "none"}}) == {w.b.id}
    assert _ids(w.staff_x, {"overdue_trip": True}) == set()
    openid = bind(w.a)
    assert _ids(w.staff_x, {"wechat": "bound"}) == {w.a.id}
    assert _ids(w.staff_x, {"wechat": "unbound"}) == {w.b.id}
    # the push count: bound and holding a credit for the care template
    assert recipients.push_count(w.staff_x, {"unit_id": None}, wechat_template_id="TPL_CARE") == 0
    grant(fake_wechat, openid)
    assert recipients.push_count(w.staff_x, {"unit_id": None}, wechat_template_id="TPL_CARE") == 1
    assert recipients.push_count(w.staff_x, {"unit_id": None}, wechat_template_id=None) == 0


def test_uploaded_numbers_outside_the_scope_count_as_not_found(world):
    w = world
    numbers = [w.a.id_number, w.c.id_number, valid_id_number(), "123", w.a.id_number]
    ids, report = recipients.resolve_id_numbers(w.staff_x, numbers)
    assert ids == [w.a.id]
    assert report == {"matched": 1, "not_found": 2, "invalid": 1}  # c (elsewhere) and an unknown one look alike
    assert recipients.scoped_veteran_ids(w.staff_x, [w.a.id, w.c.id, "x", -1]) == [w.a.id]


def _staff_notification(w, audience, picks=()):
    with transaction():
        n = Notification(
            kind="care",
            source="staff",
            title="t",
            body="b",
            sender_unit_id=w.x1.id,
            audience=audience,
            status="sending",
        )
        db.session.add(n)
        db.session.flush()
        recipients.replace_picks(n.id, list(picks))
    return n


def _delivered(n):
    return db.session.scalars(select(Delivery.veteran_id).where(Delivery.notification_id == n.id)).all()


def test_materialize_pages_by_id_is_idempotent_and_rescopes_picks(world):
    w = world
    more = [create_veteran(station=w.x1) for _ in range(3)]
    # a pick outside the sender's subtree (stored by a crafted request) never becomes a delivery
    n = _staff_notification(w, {"unit_id": w.x1.id, "party_member": True}, picks=[w.b.id, w.c.id, more[0].id])
    last, seen = None, []
    while True:
        step = recipients.materialize(n, last, 2)
        if step is None:
            break
        assert last is None or step > last
        last = step
        seen.append(step)
    assert sorted(_delivered(n)) == sorted([w.a.id, w.b.id, more[0].id])
    assert recipients.materialize(n, None, 10) is not None  # again from the start: nothing new is written
    assert db.session.scalar(select(func.count()).where(Delivery.notification_id == n.id)) == 3


def test_materialize_with_an_audience_out_of_the_sender_scope_writes_nobody(world):
    w = world
    n = _staff_notification(w, {"unit_id": w.y1.id})  # crafted straight into the row
    assert recipients.materialize(n, None, 10) is None
    assert _delivered(n) == []
