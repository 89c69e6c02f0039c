"""care slice (issue 16, C2): the authorization matrix's cells for 走访慰问 (pages: care.view; writes: care.visits;
objects at station X1, out of staff_y's scope: 404). A campaign of X1 by staff_x, its visit of veteran A and a photo
are made on first use."""

from tests.authz.cells import Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # care.view; lists show one's own scope
VIEWERS_OF_X = ("staff_x", "supervisor_parent")
WRITERS = ("staff_x", "staff_y")  # care.visits
WRITERS_OF_X = ("staff_x",)


def _campaign(w):
    if "visit_campaign" not in w.objects:
        from datetime import timedelta

        from backend.registration.windows import today_cst
        from backend.visits import campaigns

        today = today_cst()
        w.objects["visit_campaign"] = campaigns.create_campaign(
            actor=w.staff_x, unit_id=w.x1.id, name="春节走访", starts_on=today, ends_on=today + timedelta(days=20)
        )
    return w.objects["visit_campaign"]


def _visit(w):
    from sqlalchemy import select

    from backend.extensions import db
    from backend.visits.models import Visit

    campaign = _campaign(w)
    return db.session.scalars(
        select(Visit).where(Visit.campaign_id == campaign.id, Visit.veteran_id == w.veteran.id)
    ).one()


def _photo(w):
    from backend.visits import attachments
    from tests.files.samples import png

    return attachments.add_photo(actor=w.staff_x, visit_id=_visit(w).id, filename="合影.png", data=png())


def _today():
    from backend.registration.windows import today_cst

    return today_cst().isoformat()


def _campaign_form(w):
    return {"name": "八一慰问", "unit": str(w.x1.id), "starts_on": _today(), "ends_on": _today()}


def _record_form(w):
    year = _today()[:4]
    return {"visited_on": _today(), "notes": "矩阵", "amount": "100", "funding_source": "local", "budget_year": year}


def _upload(w):
    import io

    from tests.files.samples import png

    return {"photo": (io.BytesIO(png()), "合影.png")}


CARE_VISITS_CELLS = {
    ("portal", "visits.index", "GET"): Cell("GET", "/visits/", VIEWERS, notes="campaigns of one's scope or above"),
    ("portal", "visits.new", "GET"): Cell("GET", "/visits/new", WRITERS),
    ("portal", "visits.new", "POST"): Cell("POST", "/visits/new", WRITERS_OF_X, data=_campaign_form),
    ("portal", "visits.campaign", "GET"): Cell(
        "GET", lambda w: f"/visits/{_campaign(w).id}?station={w.x1.id}", VIEWERS_OF_X
    ),
    ("portal", "visits.assign", "POST"): Cell(
        "POST",
        lambda w: f"/visits/{_campaign(w).id}/assign",
        WRITERS_OF_X,
        data=lambda w: {"station": str(w.x1.id), "staff": str(w.staff_x.id), "visit": str(_visit(w).id)},
        notes="staff_x is county staff, not of X1: a flash message (past authorization)",
    ),
    ("portal", "visits.visit", "GET"): Cell("GET", lambda w: f"/visits/visit/{_visit(w).id}", VIEWERS_OF_X),
    ("portal", "visits.record", "POST"): Cell(
        "POST", lambda w: f"/visits/visit/{_visit(w).id}/record", WRITERS_OF_X, data=_record_form
    ),
    ("portal", "visits.skip", "POST"): Cell(
        "POST", lambda w: f"/visits/visit/{_visit(w).id}/skip", WRITERS_OF_X, data={"reason": "矩阵"}
    ),
    ("portal", "visits.upload", "POST"): Cell(
        "POST", lambda w: f"/visits/visit/{_visit(w).id}/photos", WRITERS_OF_X, data=_upload, multipart=True
    ),
    ("portal", "visits.photo", "GET"): Cell("GET", lambda w: f"/visits/photos/{_photo(w).id}", VIEWERS_OF_X),
}
