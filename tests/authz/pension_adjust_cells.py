"""Issue 18, part 2: the authorization matrix's cells for adjustment batches. A batch over county X (a paid veteran
at X1) is made and previewed on first use by another center reviewer of X, so staff_x may check it; staff_y's scope
misses X (404). pension.view reads (staff_x, the supervisor), pension.batch makes, pension.approve applies."""

from tests.authz.cells import Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # pension.view: the list answers within each scope
VIEWERS_OF_X = ("staff_x", "supervisor_parent")  # pension.view with X in the subtree
MAKERS = ("staff_x", "staff_y")  # pension.batch
HANDLERS_OF_X = ("staff_x",)  # pension.batch / pension.approve with X in the subtree


def _batch(w, applied=False):
    key = "pension_batch_applied" if applied else "pension_batch"
    if key not in w.objects:
        from backend.pension import adjust_preview
        from tests.factories import create_staff
        from tests.pension.adjust_helpers import new_batch, paid_veteran

        maker = create_staff(unit=w.x, roles=("center_reviewer",))
        paid_veteran(w.x1, fen=300_000, category="一类")
        batch = new_batch(maker, unit=w.x, title="矩阵批次")
        if applied:
            adjust_preview.apply(actor=create_staff(unit=w.x, roles=("center_reviewer",)), batch_id=batch.id)
        w.objects[key] = batch
    return w.objects[key]


def _url(suffix="", applied=False):
    return lambda w: f"/pension/adjustments/{_batch(w, applied).id}{suffix}"


def _new_batch(w):
    from tests.pension.adjust_helpers import month_text

    return {
        "title": "矩阵调整",
        "doc_ref": "矩阵〔2026〕1号",
        "rule": "percent",
        "percent": "2",
        "component": "base",
        "effective_month": month_text(),
        "unit_id": str(w.x.id),
        "funding": "central",
    }


PENSION_ADJUST_CELLS = {
    ("portal", "pension.adjustments_index", "GET"): Cell("GET", "/pension/adjustments", VIEWERS),
    ("portal", "pension.adjustment_new", "GET"): Cell("GET", "/pension/adjustments/new", MAKERS),
    ("portal", "pension.adjustment_new", "POST"): Cell(
        "POST",
        "/pension/adjustments/new",
        HANDLERS_OF_X,
        data=_new_batch,
        notes="staff_y names county X, outside its subtree: refused like a missing unit",
    ),
    ("portal", "pension.adjustment", "GET"): Cell(
        "GET", _url(applied=True), VIEWERS_OF_X, notes="an applied batch: the compensate form is on offer"
    ),
    ("portal", "pension.adjustment_preview", "POST"): Cell("POST", _url("/preview"), HANDLERS_OF_X),
    ("portal", "pension.adjustment_apply", "GET"): Cell(
        "GET", _url("/apply"), HANDLERS_OF_X, notes="the checker's confirmation page (apply and cancel forms)"
    ),
    ("portal", "pension.adjustment_apply", "POST"): Cell("POST", _url("/apply"), HANDLERS_OF_X),
    ("portal", "pension.adjustment_cancel", "POST"): Cell("POST", _url("/cancel"), HANDLERS_OF_X),
    ("portal", "pension.adjustment_compensate", "POST"): Cell(
        "POST", _url("/compensate", applied=True), HANDLERS_OF_X, data={"doc_ref": "矩阵冲正"}
    ),
    ("portal", "pension.adjustment_export", "POST"): Cell("POST", _url("/export"), VIEWERS_OF_X),
}
