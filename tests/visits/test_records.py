"""Recording a visit (issue 16): money in fen with its funding source and budget year, gifts, sealed notes, once
only, the veteran told; marking not visited; scope by id."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text

from backend.audit.models import AuditLog
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.visits import records
from backend.visits.models import Visit
from tests.visits.helpers import campaign_of, populate

NOW = datetime(2027, 2, 1, 2, 0, tzinfo=UTC)  # 10:00 CST


@pytest.fixture
def visit(world):
    veterans = populate(world)
    campaign = campaign_of(world)
    return db.session.scalars(
        select(Visit).where(Visit.campaign_id == campaign.id, Visit.veteran_id == veterans["x1_a"].id)
    ).one()


def _record(world, visit, **kwargs):
    args = {"visited_on": date(2027, 1, 28), "tell": False, "now": NOW, **kwargs}
    return records.record_visit(actor=world.target, visit_id=visit.id, **args)


def test_recording_money_and_a_gift_with_source_and_year(world, visit, fake_wechat):
    notes = "身体状况良好，子女在外地工作，希望了解就业政策"
    done = _record(
        world,
        visit,
        notes=notes,
        gift="米、油各一份",
        amount_fen=records.parse_yuan("500.5"),
        funding_source="local",
        budget_year=2027,
        tell=True,
    )
    assert (done.status, done.amount_fen, done.funding_source, done.budget_year) == ("done", 50050, "local", 2027)
    assert done.gift == "米、油各一份" and done.recorded_by_id == world.target.id
    assert records.read_notes(done) == notes
    raw = db.session.execute(text("SELECT notes_sealed FROM visit WHERE id = :id"), {"id": visit.id}).scalar()
    assert notes not in raw
    inbox = db.session.scalars(select(InboxMessage).where(InboxMessage.veteran_id == visit.veteran_id)).one()
    assert inbox.kind == "care" and "走访看望您" in inbox.body and "500" not in inbox.body
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "visits.recorded")).one()
    assert audit.details == {"amount_fen": 50050, "funding_source": "local"}


@pytest.mark.parametrize("text,fen", [("", 0), ("500", 50000), ("500.5", 50050), ("1,000.05", 100005), ("0.01", 1)])
def test_yuan_text_becomes_fen_without_floats(text, fen):
    assert records.parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["-1", "1e3", "1.234", "abc", "12345678", "NaN", "１００"])
def test_malformed_amounts_are_refused(text):
    with pytest.raises(ValidationFailed):
        records.parse_yuan(text)


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"amount_fen": 20000}, "funding_source"),
        ({"gift": "慰问品", "funding_source": "local"}, "budget_year"),
        ({"amount_fen": 100, "funding_source": "provincial", "budget_year": 2027}, "funding_source"),
        ({"amount_fen": 100, "funding_source": "central", "budget_year": 2020}, "budget_year"),
        ({"amount_fen": -1}, "amount"),
        ({"amount_fen": 1.5}, "amount"),
        ({"visited_on": date(2027, 2, 2)}, "visited_on"),  # tomorrow in CST
        ({"visited_on": None}, "visited_on"),
    ],
)
def test_invalid_records_are_refused_and_change_nothing(world, visit, kwargs, field):
    with pytest.raises(ValidationFailed) as refused:
        _record(world, visit, **kwargs)
    assert field in refused.value.details
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "planned"


def test_no_money_and_no_gift_keeps_no_source(world, visit):
    done = _record(world, visit, funding_source="central", budget_year=2027)
    assert (done.amount_fen, done.funding_source, done.budget_year) == (0, None, None)


def test_a_visit_is_recorded_once(world, visit):
    _record(world, visit)
    with pytest.raises(records.VisitAlreadyRecorded):
        _record(world, visit, amount_fen=100, funding_source="local", budget_year=2027)
    with pytest.raises(records.VisitAlreadyRecorded):
        records.skip_visit(actor=world.target, visit_id=visit.id, reason="重复")
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).amount_fen == 0


def test_skipping_needs_a_reason_and_is_final(world, visit):
    with pytest.raises(ValidationFailed):
        records.skip_visit(actor=world.target, visit_id=visit.id, reason=" ")
    skipped = records.skip_visit(actor=world.target, visit_id=visit.id, reason="住院治疗，家属代为接待")
    assert skipped.status == "skipped" and records.read_notes(skipped) == "住院治疗，家属代为接待"
    with pytest.raises(records.VisitAlreadyRecorded):
        _record(world, visit)


def test_another_county_cannot_reach_a_visit_by_id(world, visit):
    for action in (
        lambda: records.get_visit(actor=world.staff_y, visit_id=visit.id),
        lambda: records.record_visit(actor=world.staff_y, visit_id=visit.id, visited_on=date(2027, 1, 28), now=NOW),
        lambda: records.skip_visit(actor=world.staff_y, visit_id=visit.id, reason="x"),
    ):
        with pytest.raises(records.VisitNotFound):
            action()
