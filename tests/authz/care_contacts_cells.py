"""care slice (issue 16, C1): the authorization matrix's cells for 常态化联系 (read: care.view; writes: care.contact;
objects of station X1, out of staff_y's scope: 404). A contact of veteran A with notes is made on first use."""

from tests.authz.cells import Cell

CARE_VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # care.view: pages over their own subtree
CARE_VIEWERS_OF_X = ("staff_x", "supervisor_parent")  # care.view with X1 in the subtree
CARE_CONTACTS_OF_X = ("staff_x",)  # care.contact with X1 in the subtree


def _contact(w):
    if "care_contact" not in w.objects:
        from backend.care import contacts

        w.objects["care_contact"] = contacts.record_contact(
            actor=w.staff_x,
            veteran_id=w.veteran.id,
            contact_on=_today(),
            way="phone",
            notes={"thought": "思想稳定"},
            flags=["concern"],
        )
    return w.objects["care_contact"]


def _today():
    from backend.registration.windows import today_cst

    return today_cst().isoformat()


CARE_CONTACTS_CELLS = {
    ("portal", "care.overdue", "GET"): Cell("GET", lambda w: f"/care/overdue?station={w.x1.id}", CARE_VIEWERS),
    ("portal", "care.coverage", "GET"): Cell("GET", lambda w: f"/care/coverage?unit={w.x.id}", CARE_VIEWERS_OF_X),
    ("portal", "care.policy", "GET"): Cell("GET", lambda w: f"/care/policy?unit={w.x1.id}", CARE_VIEWERS_OF_X),
    ("portal", "care.policy", "POST"): Cell(
        "POST",
        lambda w: f"/care/policy?unit={w.x1.id}",
        CARE_CONTACTS_OF_X,
        data={"interval_days": "90", "attention_interval_days": "30"},
    ),
    ("portal", "care.record_contact", "POST"): Cell(
        "POST",
        lambda w: f"/care/veterans/{w.veteran.id}/contacts",
        CARE_CONTACTS_OF_X,
        data=lambda w: {"contact_on": _today(), "way": "phone", "note_life": "矩阵"},
    ),
    ("portal", "care.update_plan", "POST"): Cell(
        "POST", lambda w: f"/care/veterans/{w.veteran.id}/plan", CARE_CONTACTS_OF_X, data={"attention": "1"}
    ),
    ("portal", "care.notes", "POST"): Cell(
        "POST", lambda w: f"/care/contacts/{_contact(w).id}/notes", CARE_VIEWERS_OF_X, notes="the reading is audited"
    ),
}
