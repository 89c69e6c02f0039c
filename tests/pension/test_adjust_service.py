"""Adjustment batches (issue 18, part 2): preview lines by rule and scope, maker ≠ checker, apply appends exactly the
previewed lines once, a stale preview is refused, and a compensating batch restores the old amounts without touching
history."""

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditLog
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.orgs.scope import OrgUnitNotFound
from backend.pension import adjust_preview, adjustments
from backend.pension.amounts import add_months, components_of
from backend.pension.models import AdjustmentBatch, PayAmount
from tests.factories import create_staff, create_unit
from tests.pension.adjust_helpers import checker, lines_of, new_batch, paid_veteran, set_amount, this_month


def _apply(world, batch):
    return adjust_preview.apply(actor=checker(world), batch_id=batch.id)


def _base(veteran, month=None):
    return components_of(veteran.id, month or this_month()).get("base", (None,))[0]


def test_percent_batch_preview_then_apply(world):
    a = paid_veteran(world.x1, fen=333_333)
    b = paid_veteran(world.x1, fen=300, state="suspended")
    stopped = paid_veteran(world.x1, fen=100_000, state="stopped")
    batch = new_batch(world.staff_x, params={"percent": "3.5"})
    assert batch.state == "previewed" and batch.maker_id == world.staff_x.id
    assert lines_of(batch) == {a.id: (333_333, 345_000), b.id: (300, 311)}
    assert batch.line_count == 2 and batch.total_delta_fen == 11_667 + 11
    assert _base(a) == 333_333  # nothing changes before apply

    applied = _apply(world, batch)
    assert applied.state == "applied" and applied.checker_id != applied.maker_id
    assert (_base(a), _base(b), _base(stopped)) == (345_000, 311, 100_000)
    assert _base(a, add_months(this_month(), -1)) == 333_333  # history before the effective month is untouched
    rows = db.session.scalars(select(PayAmount).where(PayAmount.batch_id == batch.id)).all()
    assert {(r.veteran_id, r.amount_fen, r.effective_month, r.funding) for r in rows} == {
        (a.id, 345_000, this_month(), "central"),
        (b.id, 311, this_month(), "central"),
    }
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "pension.batch_applied")).one()
    assert audit.details["line_count"] == 2 and audit.details["total_delta_fen"] == 11_678


def test_back_dated_month_uses_the_amount_then_in_force(world):
    a = paid_veteran(world.x1, fen=200_000, since=add_months(this_month(), -12))
    set_amount(a, 210_000, month=add_months(this_month(), -1))
    batch = new_batch(world.staff_x, params={"percent": "10"}, month=add_months(this_month(), -3))
    assert lines_of(batch) == {a.id: (200_000, 220_000)}


def test_fixed_cut_floors_at_zero_and_creates_the_adjustment_component(world):
    a = paid_veteran(world.x1, fen=5_000, component="adjustment", funding="local")
    b = paid_veteran(world.x1, fen=300_000)  # no adjustment component yet
    cut = new_batch(world.staff_x, rule="fixed", params={"fen": -8_000}, component="adjustment")
    assert lines_of(cut) == {a.id: (5_000, 0)}  # b: 0 - 80 floors at 0, unchanged: no line
    raise_ = new_batch(world.staff_x, rule="fixed", params={"fen": 12_000}, component="adjustment", funding="local")
    assert lines_of(raise_) == {a.id: (5_000, 17_000), b.id: (0, 12_000)}
    _apply(world, raise_)
    assert components_of(b.id, this_month())["adjustment"] == (12_000, "local")
    assert components_of(a.id, this_month())["adjustment"] == (17_000, "local")  # the old row's funding


def test_fixed_on_base_skips_veterans_without_a_base(world):
    a = paid_veteran(world.x1, fen=100_000)
    paid_veteran(world.x1, fen=None)
    batch = new_batch(world.staff_x, rule="fixed", params={"fen": 5_000})
    assert lines_of(batch) == {a.id: (100_000, 105_000)}


def test_table_by_category_delta_and_set(world):
    one = paid_veteran(world.x1, fen=300_000, category="一类")
    two = paid_veteran(world.x1, fen=280_000, category="二类")
    paid_veteran(world.x1, fen=250_000, category="三类")  # not in the table: untouched
    paid_veteran(world.x1, fen=250_000)  # no category
    delta = new_batch(world.staff_x, rule="table", params={"mode": "delta", "rows": {"一类": 10_000, "二类": -300_000}})
    assert lines_of(delta) == {one.id: (300_000, 310_000), two.id: (280_000, 0)}
    same = new_batch(world.staff_x, rule="table", params={"mode": "set", "rows": {"一类": 300_000, "二类": 290_000}})
    assert lines_of(same) == {two.id: (280_000, 290_000)}  # 一类 is already at the table's amount


def test_scope_units_sub_units_and_categories(world):
    x2 = create_unit(parent=world.x, name="青山二站")
    in_x1 = paid_veteran(world.x1, fen=100_000, category="一类")
    in_x2 = paid_veteran(x2, fen=100_000, category="二类")
    in_y = paid_veteran(world.y1, fen=100_000, category="一类")
    whole = new_batch(world.staff_x, params={"percent": "1"})
    assert set(lines_of(whole)) == {in_x1.id, in_x2.id}  # Y's veteran is never touched
    only_x2 = new_batch(world.staff_x, params={"percent": "1"}, unit_ids=[x2])
    assert set(lines_of(only_x2)) == {in_x2.id}
    only_one = new_batch(world.staff_x, params={"percent": "1"}, categories=["一类"])
    assert set(lines_of(only_one)) == {in_x1.id}
    _apply(world, whole)
    assert _base(in_y) == 100_000
    with pytest.raises(OrgUnitNotFound):  # a unit outside the actor's subtree
        new_batch(world.staff_x, unit=world.y)
    with pytest.raises(ValidationFailed):  # a sub-unit outside the batch's unit
        new_batch(world.staff_x, unit=world.x1, unit_ids=[x2])


def test_a_station_user_cannot_create_batches(world):
    station_user = create_staff(unit=world.x1, roles=("station_staff",))
    with pytest.raises(PermissionDenied):
        new_batch(station_user)
    supervisor = world.supervisor_parent
    with pytest.raises(PermissionDenied):
        new_batch(supervisor)


def test_the_maker_cannot_apply_and_a_repreview_makes_a_new_maker(world):
    paid_veteran(world.x1, fen=100_000)
    other = checker(world)
    batch = new_batch(world.staff_x)
    with pytest.raises(adjustments.SamePerson):
        adjust_preview.apply(actor=world.staff_x, batch_id=batch.id)
    adjust_preview.preview(actor=other, batch_id=batch.id)  # the checker re-previews: now the maker
    with pytest.raises(adjustments.SamePerson) as refused:
        adjust_preview.apply(actor=other, batch_id=batch.id)
    assert refused.value.code == "pension.same_person"
    with pytest.raises(adjustments.SamePerson):  # the creator, though no longer the maker, cannot check it either
        adjust_preview.apply(actor=world.staff_x, batch_id=batch.id)
    third = checker(world)
    adjust_preview.apply(actor=third, batch_id=batch.id)
    assert db.session.get(AdjustmentBatch, batch.id).state == "applied"


def test_whoever_previewed_once_cannot_apply(world):
    paid_veteran(world.x1, fen=100_000)
    a, b = checker(world), checker(world)
    batch = new_batch(world.staff_x, preview=False)
    adjust_preview.preview(actor=a, batch_id=batch.id)
    adjust_preview.preview(actor=b, batch_id=batch.id)  # b is now the maker; a previewed before
    fresh = db.session.get(AdjustmentBatch, batch.id)
    assert fresh.created_by_id == world.staff_x.id and set(fresh.previewer_ids) == {a.id, b.id}
    for person in (a, b, world.staff_x):
        with pytest.raises(adjustments.SamePerson):
            adjust_preview.apply(actor=person, batch_id=batch.id)
    adjust_preview.apply(actor=checker(world), batch_id=batch.id)


def test_apply_once_then_already_applied(world):
    a = paid_veteran(world.x1, fen=100_000)
    batch = new_batch(world.staff_x, params={"percent": "10"})
    first, second = checker(world), checker(world)
    adjust_preview.apply(actor=first, batch_id=batch.id)
    with pytest.raises(adjustments.BatchAlreadyApplied) as refused:
        adjust_preview.apply(actor=second, batch_id=batch.id)
    assert refused.value.code == "pension.batch_applied"
    assert db.session.scalar(select(func.count()).where(PayAmount.batch_id == batch.id)) == 1
    assert _base(a) == 110_000
    with pytest.raises(adjustments.BatchState):
        adjust_preview.preview(actor=world.staff_x, batch_id=batch.id)  # history is never recomputed
    with pytest.raises(adjustments.BatchState):
        adjustments.cancel(actor=world.staff_x, batch_id=batch.id)


def test_the_conditional_update_loses_to_a_concurrent_winner(world, monkeypatch):
    """The state check passed, then another checker applied before the UPDATE: this one writes nothing."""
    paid_veteran(world.x1, fen=100_000)
    batch = new_batch(world.staff_x)
    late = checker(world)
    real_set = adjust_preview._set

    def winner_first(batch_id, *conditions, **values):
        if values.get("state") == "applied":
            db.session.execute(
                AdjustmentBatch.__table__.update().where(AdjustmentBatch.id == batch_id).values(state="applied")
            )
        return real_set(batch_id, *conditions, **values)

    monkeypatch.setattr(adjust_preview, "_set", winner_first)
    with pytest.raises(adjustments.BatchAlreadyApplied):
        adjust_preview.apply(actor=late, batch_id=batch.id)
    assert db.session.scalar(select(func.count()).where(PayAmount.batch_id == batch.id)) == 0


def test_an_amount_changed_after_preview_asks_for_a_new_preview(world):
    a = paid_veteran(world.x1, fen=100_000)
    batch = new_batch(world.staff_x, params={"percent": "10"})
    set_amount(a, 150_000, month=add_months(this_month(), -2))  # a correction by hand after the preview
    other = checker(world)
    with pytest.raises(adjustments.PreviewStale) as refused:
        adjust_preview.apply(actor=other, batch_id=batch.id)
    assert refused.value.code == "pension.preview_stale" and refused.value.details == {"changed": 1}
    adjust_preview.preview(actor=world.staff_x, batch_id=batch.id)
    assert lines_of(db.session.get(AdjustmentBatch, batch.id)) == {a.id: (150_000, 165_000)}
    adjust_preview.apply(actor=other, batch_id=batch.id)
    assert _base(a) == 165_000


def test_a_compensating_batch_restores_the_old_amounts_and_keeps_history(world):
    a = paid_veteran(world.x1, fen=333_333)
    b = paid_veteran(world.x1, fen=0, component="adjustment")
    c = paid_veteran(world.x1, fen=None)
    month = add_months(this_month(), -2)
    batch = new_batch(world.staff_x, rule="fixed", params={"fen": 10_000}, component="adjustment", month=month)
    assert lines_of(batch) == {a.id: (0, 10_000), b.id: (0, 10_000), c.id: (0, 10_000)}
    _apply(world, batch)
    first_rows = {r.id for r in db.session.scalars(select(PayAmount).where(PayAmount.batch_id == batch.id))}

    undo = adjustments.compensate(actor=world.staff_x, batch_id=batch.id)
    undo = adjust_preview.preview(actor=world.staff_x, batch_id=undo.id)
    assert undo.compensates_id == batch.id and undo.state == "previewed"
    assert lines_of(undo) == {a.id: (10_000, 0), b.id: (10_000, 0), c.id: (10_000, 0)}
    assert undo.total_delta_fen == -30_000
    with pytest.raises(adjustments.AlreadyCompensated):
        adjustments.compensate(actor=world.staff_x, batch_id=batch.id)
    with pytest.raises(adjustments.SamePerson):
        adjust_preview.apply(actor=world.staff_x, batch_id=undo.id)
    _apply(world, undo)

    assert db.session.get(AdjustmentBatch, batch.id).state == "applied"  # the original stays applied
    still = {r.id for r in db.session.scalars(select(PayAmount).where(PayAmount.batch_id == batch.id))}
    assert still == first_rows and len(still) == 3  # its rows still exist
    for veteran in (a, b, c):
        assert components_of(veteran.id, month)["adjustment"][0] == 0
    assert components_of(a.id, month)["base"][0] == 333_333


def test_compensating_needs_an_applied_batch(world):
    paid_veteran(world.x1, fen=100_000)
    batch = new_batch(world.staff_x)
    with pytest.raises(adjustments.BatchState):
        adjustments.compensate(actor=world.staff_x, batch_id=batch.id)
    adjustments.cancel(actor=world.staff_x, batch_id=batch.id)
    with pytest.raises(adjustments.BatchState):
        adjust_preview.apply(actor=checker(world), batch_id=batch.id)


def test_batches_are_scoped(world):
    paid_veteran(world.x1, fen=100_000)
    batch = new_batch(world.staff_x)
    with pytest.raises(adjustments.BatchNotFound):
        adjust_preview.apply(actor=world.staff_y, batch_id=batch.id)
    rows, _ = adjustments.list_batches(actor=world.staff_y)
    assert batch.id not in {r.id for r in rows}
    rows, _ = adjustments.list_batches(actor=world.supervisor_parent)
    assert batch.id in {r.id for r in rows}
    waiting = db.session.scalars(adjustments.waiting_for_checker(checker(world))).all()
    assert batch.id in waiting and batch.id not in db.session.scalars(adjustments.waiting_for_checker(world.staff_x))


def test_preview_works_in_batches(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "PENSION_RUN_BATCH", 2)
    veterans = [paid_veteran(world.x1, fen=1000 + i) for i in range(5)]
    batch = new_batch(world.staff_x, params={"percent": "50"})
    # half up: 1001 × 1.5 = 1501.5 -> 1502
    assert lines_of(batch) == {v.id: (1000 + i, ((1000 + i) * 3 + 1) // 2) for i, v in enumerate(veterans)}
