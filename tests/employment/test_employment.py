"""Employment and entrepreneurship (Art. 13, 18): status history (the previous record closed), the liaison's phone
sealed and masked, support with exact amounts and outcomes, civic roles with hours in tenths, figures hand-computed,
the registration's prefill from the record and the update on approval, scope, panel and card."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select, text

from backend.audit.models import AuditLog
from backend.employment import figures
from backend.employment import service as employment
from backend.employment.models import CivicActivity, EmploymentRecord
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.registration.windows import today_cst
from tests.api.helpers import bound_client
from tests.employment.helpers import employed, role, support
from tests.factories import create_unit, create_veteran
from tests.helpers import portal_as


def test_status_history_and_sealed_liaison(world, portal_app):
    w = world
    vet = create_veteran(station=w.x1)
    first = employed(w, vet)
    raw = db.session.execute(
        text("SELECT liaison_phone_enc FROM employment_record WHERE id = :id"), {"id": first.id}
    ).scalar()
    assert raw and "13812345678" not in raw and "5678" not in raw
    assert employment.liaison_phone(first) == "13812345678"
    assert employment.masked_liaison_phone(first) == "138****5678"
    second = employment.set_status(
        actor=w.staff_x, veteran_id=vet.id, status="unemployed", since=date(2024, 2, 1), wishes="保安、司机"
    )
    db.session.refresh(first)
    assert first.until == date(2024, 2, 1) and second.until is None
    assert employment.current_record(vet.id).id == second.id
    assert [r.id for r in employment.history(vet.id)] == [second.id, first.id]
    with pytest.raises(ValidationFailed):
        employment.set_status(actor=w.staff_x, veteran_id=vet.id, status="employed", since="2024-01-01")  # employer
    with pytest.raises(ValidationFailed):
        employment.set_status(
            actor=w.staff_x, veteran_id=vet.id, status="employed", employer="厂", since="2024-01-01", liaison_phone="12"
        )
    with pytest.raises(NotFound):
        employment.set_status(actor=w.staff_y, veteran_id=vet.id, status="retired")
    page = portal_as(portal_app, w.staff_x).get(f"/employment/veterans/{vet.id}", expect=200).text
    assert "138****5678" in page and "13812345678" not in page
    assert "employment.status_set" in db.session.scalars(select(AuditLog.action)).all()


def test_support_amounts_outcomes_and_roles(world):
    w = world
    loan = support(w)
    assert loan.amount_fen == 5000050 and loan.outcome == "pending"
    assert employment.parse_fen("0.1") == 10 and employment.parse_fen("1,234.56") == 123456
    for bad in ("1.234", "-1", "abc", "NaN"):
        with pytest.raises(ValidationFailed):
            employment.parse_fen(bad)
    referral = employment.record_support(
        actor=w.staff_x, veteran_id=w.veteran.id, kind="referral", given_on="2024-03-01", detail="物业", amount="99"
    )
    assert referral.amount_fen is None  # amounts only for loans and subsidies
    employment.set_outcome(actor=w.staff_x, support_id=loan.id, outcome="succeeded", note="已放款")
    assert (loan.outcome, loan.outcome_note) == ("succeeded", "已放款")
    with pytest.raises(NotFound):
        employment.set_outcome(actor=w.staff_y, support_id=loan.id, outcome="failed")
    r = role(w)
    activity = db.session.scalars(select(CivicActivity).where(CivicActivity.role_id == r.id)).one()
    assert activity.hours_tenths == 15
    with pytest.raises(ValidationFailed):
        employment.parse_tenths("1.25")
    with pytest.raises(NotFound):
        employment.record_activity(actor=w.staff_y, role_id=r.id, held_on="2024-01-01", title="x")


def test_figures_hand_computed(world):
    w = world
    x2 = create_unit(parent=w.x, name="青山二站")
    on = date(today_cst().year, 1, 15)
    statuses = [(w.x1, "employed"), (w.x1, "self_employed"), (w.x1, "unemployed"), (w.x1, "retired"), (x2, "employed")]
    vets = []
    for station, status in statuses:
        vet = create_veteran(station=station)
        vets.append(vet)
        employment.set_status(
            actor=w.staff_x, veteran_id=vet.id, status=status, employer="单位", since=date(2020, 1, 1)
        )
    employment.set_status(actor=w.staff_x, veteran_id=vets[0].id, status="employed", employer="新单位", since=on)
    s1 = employment.record_support(actor=w.staff_x, veteran_id=vets[2].id, kind="training", given_on=on, detail="x")
    employment.set_outcome(actor=w.staff_x, support_id=s1.id, outcome="succeeded")
    employment.record_support(actor=w.staff_x, veteran_id=vets[2].id, kind="loan", given_on=on, detail="y", amount="1")
    employment.record_support(
        actor=w.staff_x, veteran_id=vets[4].id, kind="referral", given_on=date(2000, 1, 1), detail="old year"
    )
    unit, rows, total = figures.unit_figures(actor=w.staff_x, unit_id=w.x.id, year=on.year)
    by_unit = {r.unit.id: r for r in rows}
    x1 = by_unit[w.x1.id]
    assert x1.with_record == 4 and x1.working == 2 and x1.labour_force == 3 and x1.rate == 66.7
    assert x1.supports["training"] == 1 and x1.supports["loan"] == 1 and x1.succeeded == 1
    assert by_unit[x2.id].rate == 100.0 and by_unit[x2.id].support_total == 0
    assert total.with_record == 5 and total.rate == 75.0
    with pytest.raises(NotFound):
        figures.unit_figures(actor=w.staff_y, unit_id=w.x.id, year=on.year)
    # the card: unemployed (vets[2]) got support this year; an unsupported one counts
    today = today_cst()
    assert figures.count_unemployed_without_support(actor=w.staff_x, today=on).value == 0
    lonely = create_veteran(station=w.x1)
    employment.set_status(actor=w.staff_x, veteran_id=lonely.id, status="unemployed", since=today - timedelta(days=9))
    assert figures.count_unemployed_without_support(actor=w.staff_x, today=today).value >= 1
    assert figures.count_unemployed_without_support(actor=w.staff_y, today=today).value == 0


def test_registration_prefills_from_the_record_and_approval_updates_it(world, api_app, portal_app, fake_wechat):
    w = world
    vet = create_veteran(station=w.x1)
    employed(w, vet)
    client = bound_client(api_app, fake_wechat, vet)
    current = client.get("/v1/registrations/current", expect=200).get_json()
    assert current["content"]["employment"] == {"status": "employed", "employer": "青山机械厂"}
    # the veteran answers differently and submits; the approval updates the record
    from backend.registration import review
    from backend.registration.models import Registration
    from tests.registration.helpers import FULL

    content = {**FULL, "employment": {"status": "self_employed", "employer": "老兵便利店"}}
    from backend.db import transaction

    with transaction():
        reg = Registration(
            veteran_id=vet.id, unit_id=vet.unit_id, year=today_cst().year, status="submitted", return_reasons={}
        )
        reg.content = content
        db.session.add(reg)
    review.approve(actor=w.staff_x, registration_id=reg.id, expected_version=reg.version_id)
    record = employment.current_record(vet.id)
    assert (record.status, record.employer, record.source) == ("self_employed", "老兵便利店", "registration")
    assert (
        db.session.scalar(
            select(EmploymentRecord.until).where(
                EmploymentRecord.veteran_id == vet.id, EmploymentRecord.source == "staff"
            )
        )
        == today_cst()
    )
    assert "employment.status_from_registration" in db.session.scalars(select(AuditLog.action)).all()


def test_approval_with_the_same_answer_changes_nothing(world):
    w = world
    vet = create_veteran(station=w.x1)
    first = employed(w, vet)
    from backend.db import transaction
    from backend.registration import review
    from backend.registration.models import Registration
    from tests.registration.helpers import FULL

    with transaction():
        reg = Registration(
            veteran_id=vet.id, unit_id=vet.unit_id, year=today_cst().year, status="submitted", return_reasons={}
        )
        reg.content = {**FULL, "employment": {"status": "employed", "employer": "青山机械厂"}}
        db.session.add(reg)
    review.approve(actor=w.staff_x, registration_id=reg.id, expected_version=reg.version_id)
    assert employment.current_record(vet.id).id == first.id


def test_panel_and_card(world, portal_app):
    w = world
    employed(w)
    support(w)
    role(w)
    client = portal_as(portal_app, w.staff_x)
    page = client.get(f"/veterans/{w.veteran.id}", expect=200).text
    assert "青山机械厂" in page and "王主任" in page and "138****5678" in page and "志愿者" in page
    lonely = create_veteran(station=w.x1)
    employment.set_status(actor=w.staff_x, veteran_id=lonely.id, status="unemployed", since=date(2024, 1, 1))
    assert "待业且近半年未获扶持" in client.get("/", expect=200).text
    assert lonely.name in client.get("/employment/unemployed", expect=200).text


def test_failed_outcome_and_activity_go_back_to_the_veteran(world, portal_app):
    w = world
    s, r = support(w), role(w)
    page = f"/employment/veterans/{w.veteran.id}"
    client = portal_as(portal_app, w.staff_x)
    bad = client.post(f"/employment/supports/{s.id}/outcome", data={"outcome": "nope"}, expect=302)
    assert bad.headers["Location"].endswith(page)
    bad = client.post(f"/employment/roles/{r.id}/activities", data={"held_on": "x", "title": ""}, expect=302)
    assert bad.headers["Location"].endswith(page)
    other = portal_as(portal_app, w.staff_y)  # out of scope: not found, not a redirect to someone else's page
    other.post(f"/employment/supports/{s.id}/outcome", data={"outcome": "nope"}, expect=404)
    other.post(f"/employment/roles/{r.id}/activities", data={"held_on": "x"}, expect=404)
