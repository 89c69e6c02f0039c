"""Party members (Art. 6): membership kept in step with Veteran.party_member, transfers (inbound completion sets the
branch and the onboarding step), yearly evaluations (unique per year, document checks, audited download), figures
hand-computed, scope everywhere, the workbench card."""

from datetime import date

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.party import evaluations, figures
from backend.party import service as party
from backend.party.models import PartyMembership
from backend.veterans.models import Veteran
from tests.factories import create_veteran
from tests.files import samples
from tests.helpers import portal_as
from tests.party.helpers import branch, evaluation, member, open_transfer, veteran_a


def _actions(object_type=None):
    query = select(AuditLog.action).order_by(AuditLog.id)
    if object_type:
        query = query.where(AuditLog.object_type == object_type)
    return db.session.scalars(query).all()


def _evaluate(w, veteran_id, year, **kw):
    fields = dict(life="good", dues="good", conduct="good", overall="qualified", opinion="合格")
    fields.update(kw)
    return evaluations.record_evaluation(actor=w.staff_x, veteran_id=veteran_id, year=year, **fields)


def test_membership_keeps_the_veteran_flag_in_step(world):
    w = world
    veteran = create_veteran(station=w.x1)
    member(w, veteran, status="probationary")
    db.session.expire_all()
    assert db.session.get(Veteran, veteran.id).party_member is True
    assert db.session.get(PartyMembership, veteran.id).status == "probationary"
    party.remove_membership(actor=w.staff_x, veteran_id=veteran.id)
    db.session.expire_all()
    assert db.session.get(Veteran, veteran.id).party_member is False
    assert db.session.get(PartyMembership, veteran.id) is None
    assert {"party.membership_set", "party.membership_removed"} <= set(_actions("veteran"))


def test_scope_hides_other_units_veterans_and_branches(world):
    w = world
    veteran = create_veteran(station=w.x1)
    with pytest.raises(NotFound):
        party.set_membership(actor=w.staff_y, veteran_id=veteran.id, status="full")
    with pytest.raises(NotFound):
        party.create_branch(actor=w.staff_y, unit_id=w.x1.id, name="越权支部")
    b = branch(w)
    with pytest.raises(NotFound):
        party.deactivate_branch(actor=w.staff_y, branch_id=b.id)
    rows, _ = party.list_branches(actor=w.staff_y)
    assert b.id not in [r.id for r in rows]
    member(w, veteran)
    rows, _ = figures.list_members(actor=w.staff_y)
    assert rows == []
    rows, _ = figures.list_members(actor=w.supervisor_parent)
    assert [m.veteran_id for m, _ in rows] == [veteran.id]


def test_branch_must_be_of_the_veterans_station_or_above(world):
    w = world
    other_station = create_veteran(station=w.y1)
    b = branch(w)  # at X1
    from tests.factories import create_staff

    city_manager = create_staff(unit=w.city, roles=("center_reviewer",))
    with pytest.raises(ValidationFailed):
        party.set_membership(actor=city_manager, veteran_id=other_station.id, status="full", branch_id=b.id)


def test_inbound_transfer_completion_sets_the_branch_and_the_onboarding_step(world):
    w = world
    veteran_a(w)
    from backend.db import transaction
    from backend.onboarding.models import OnboardingCase, OnboardingStep

    old = branch(w, name="旧支部")
    transfer = open_transfer(w)  # member of the default branch; transfer into it
    new = branch(w, name="新支部")
    with transaction():
        transfer.branch_id = new.id
        case = OnboardingCase(
            veteran_id=w.veteran.id, station_id=w.x1.id, arrived_on=date(2024, 1, 1), opened_by_id=w.staff_x.id
        )
        db.session.add(case)
        db.session.flush()
        db.session.add(OnboardingStep(case_id=case.id, station_id=w.x1.id, step="party_transfer"))
    assert old.id != new.id
    party.complete_transfer(actor=w.staff_x, transfer_id=transfer.id, completed_on=date(2024, 2, 1))
    db.session.expire_all()
    assert db.session.get(PartyMembership, w.veteran.id).branch_id == new.id
    step = db.session.scalars(select(OnboardingStep).where(OnboardingStep.case_id == case.id)).one()
    assert (step.state, step.done_on) == ("done", date(2024, 2, 1))
    with pytest.raises(party.TransferClosed):
        party.cancel_transfer(actor=w.staff_x, transfer_id=transfer.id)
    assert "party.transfer_completed" in _actions("party_transfer")


def test_outbound_transfer_cancel_and_scope(world):
    w = world
    veteran_a(w)
    member(w)
    t = party.record_transfer(
        actor=w.staff_x, veteran_id=w.veteran.id, direction="out", counterpart="外省", started_on=date(2024, 3, 1)
    )
    with pytest.raises(NotFound):
        party.cancel_transfer(actor=w.staff_y, transfer_id=t.id)
    party.cancel_transfer(actor=w.staff_x, transfer_id=t.id)
    assert [x.state for x in party.transfers_of(w.veteran.id)] == ["cancelled"]


def test_one_evaluation_per_year_and_latest(world):
    w = world
    veteran_a(w)
    member(w)
    _evaluate(w, w.veteran.id, 2023, overall="excellent")
    with pytest.raises(evaluations.EvaluationExists):
        _evaluate(w, w.veteran.id, 2023)
    _evaluate(w, w.veteran.id, 2024, overall="qualified")
    latest = party.latest_evaluation(w.veteran.id)
    assert (latest.year, latest.overall) == (2024, "qualified")


def test_evaluation_needs_a_member_and_a_good_file(world, tmp_path):
    w = world
    veteran_a(w)
    with pytest.raises(party.NotAMember):
        _evaluate(w, w.veteran.id, 2024)
    member(w)
    for bad in (b"MZ\x90\x00 not a document", samples.pdf_with_js()):
        with pytest.raises(evaluations.DocumentRejected):
            _evaluate(w, w.veteran.id, 2024, filename="x.pdf", data=bad)
    assert evaluations.evaluations_of(w.veteran.id) == []
    e = _evaluate(w, w.veteran.id, 2024, filename="评定.png", data=samples.png())
    assert e.document_type == "image/png" and e.document_display.endswith(".png")


def test_document_download_is_scoped_and_audited(world, portal_app):
    w = world
    e = evaluation(w)
    client = portal_as(portal_app, w.staff_x)
    response = client.get(f"/party/evaluations/{e.id}/document", expect=200)
    assert response.data.startswith(b"%PDF")
    assert "party.evaluation_download" in _actions("party_evaluation")
    portal_as(portal_app, w.staff_y).get(f"/party/evaluations/{e.id}/document", expect=404)


def test_figures_per_unit_hand_computed(world):
    w = world
    x1_full = [create_veteran(station=w.x1) for _ in range(3)]
    x1_prob = create_veteran(station=w.x1, grid=w.x1_grid)
    y1_full = create_veteran(station=w.y1)
    for v in x1_full:
        member(w, v)
    member(w, x1_prob, status="probationary")
    from tests.factories import create_staff

    city_manager = create_staff(unit=w.city, roles=("center_reviewer",))
    party.set_membership(actor=city_manager, veteran_id=y1_full.id, status="full")
    year = 2024
    _evaluate(w, x1_full[0].id, year)
    _evaluate(w, x1_full[1].id, year - 1)  # another year: not counted
    unit, rows, total = figures.unit_figures(actor=w.supervisor_parent, unit_id=w.city.id, year=year)
    by_unit = {r.unit.id: r for r in rows}
    assert (by_unit[w.x.id].members, by_unit[w.x.id].evaluated) == ({"full": 3, "probationary": 1}, 1)
    assert (by_unit[w.y.id].members, by_unit[w.y.id].evaluated) == ({"full": 1, "probationary": 0}, 0)
    assert (total.total, total.evaluated, total.missing) == (5, 1, 4)
    _, rows, total = figures.unit_figures(actor=w.staff_x, unit_id=w.x1.id, year=year)
    assert [r.unit.id for r in rows] == [w.x1.id] and total.total == 4
    with pytest.raises(NotFound):
        figures.unit_figures(actor=w.staff_y, unit_id=w.x.id, year=year)
    assert figures.count_missing_evaluations(actor=w.staff_x, year=year).value == 3
    rows, _ = figures.list_members(actor=w.staff_x, missing_year=year)
    assert x1_full[0].id not in [m.veteran_id for m, _ in rows] and len(rows) == 3


def test_members_list_pages_by_keyset(world):
    w = world
    vets = [create_veteran(station=w.x1) for _ in range(3)]
    for v in vets:
        member(w, v)
    first, after = figures.list_members(actor=w.staff_x, limit=2)
    second, more = figures.list_members(actor=w.staff_x, limit=2, after=after)
    assert [m.veteran_id for m, _ in first + second] == sorted(v.id for v in vets) and more is None


def test_portal_pages_and_writes(world, portal_app):
    w = world
    veteran_a(w)
    b = branch(w)
    client = portal_as(portal_app, w.staff_x)
    client.post(
        f"/party/veterans/{w.veteran.id}/membership",
        data={"status": "full", "branch": str(b.id), "joined_on": "2011-07-01"},
        expect=302,
    )
    page = client.get(f"/party/veterans/{w.veteran.id}", expect=200).get_data(as_text=True)
    assert "正式党员" in page and b.name in page
    client.post(
        f"/party/veterans/{w.veteran.id}/evaluations",
        data={
            "year": "2024",
            "life": "good",
            "dues": "fair",
            "conduct": "good",
            "overall": "qualified",
            "opinion": "良好",
            "document": (__import__("io").BytesIO(samples.pdf()), "评定.pdf"),
        },
        content_type="multipart/form-data",
        expect=302,
    )
    detail = client.get(f"/veterans/{w.veteran.id}", expect=200).get_data(as_text=True)
    assert 'data-testid="party-panel"' in detail and 'data-testid="evaluation-2024"' in detail
    again = client.post(
        f"/party/veterans/{w.veteran.id}/evaluations",
        data={
            "year": "2024",
            "life": "good",
            "dues": "good",
            "conduct": "good",
            "overall": "qualified",
            "opinion": "x",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "每人每年一份" in again
    for url in ("/party/", "/party/members?status=full", "/party/branches"):
        client.get(url, expect=200)
    portal_as(portal_app, w.staff_y).post(f"/party/veterans/{w.veteran.id}/membership/remove", expect=404)
    db.session.expire_all()
    assert db.session.get(Veteran, w.veteran.id).party_member is True


def test_workbench_card_from_october(world, monkeypatch, portal_app):
    w = world
    veteran_a(w)
    member(w)
    from admin_portal.party import cards

    with portal_app.test_request_context("/"):
        monkeypatch.setattr(cards, "today_cst", lambda: date(2024, 9, 30))
        assert cards.party_evaluations_missing(w.staff_x) is None
        monkeypatch.setattr(cards, "today_cst", lambda: date(2024, 10, 1))
        card = cards.party_evaluations_missing(w.staff_x)
        assert card.items[0].value == "1"
        assert cards.party_evaluations_missing(w.supervisor_parent) is None  # no party.manage
