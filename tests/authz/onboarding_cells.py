"""Authorization matrix cells of the onboarding pages and phone routes (issue 17, Art. 7). A case of veteran A (station
X1) is opened on first use, with one proof file: out of staff_y's scope (404). onboarding.view: station staff, center
reviewers, supervisors (lists are scoped: staff_y sees an empty list); onboarding.manage: station staff and center
reviewers with X1 in scope: only staff_x. The phone's checklist answers every veteran with their own (or null)."""

import io

from tests.authz.cells import VETERANS, Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # onboarding.view: the list answers within each scope
VIEWERS_OF_X = ("staff_x", "supervisor_parent")
MANAGERS = ("staff_x", "staff_y")  # onboarding.manage
MANAGERS_OF_X = ("staff_x",)


def _case(w):
    if "onboarding_case" not in w.objects:
        from backend.onboarding import attachments, service
        from backend.registration.windows import today_cst
        from tests.files import samples

        case = service.open_case(actor=w.staff_x, veteran_id=w.veteran.id, arrived_on=today_cst(), notice_number="矩阵")
        w.objects["onboarding_case"] = case
        w.objects["onboarding_proof"] = attachments.add_attachment(
            actor=w.staff_x, case_id=case.id, step="hukou", filename="回执.png", data=samples.png()
        )
    return w.objects["onboarding_case"]


def _url(suffix=""):
    return lambda w: f"/onboarding/{_case(w).id}{suffix}"


def _png():
    from tests.files import samples

    return samples.png()


ONBOARDING_CELLS = {
    ("portal", "onboarding.index", "GET"): Cell("GET", lambda w: f"/onboarding/?station={w.x1.id}", VIEWERS),
    ("portal", "onboarding.new", "GET"): Cell("GET", "/onboarding/new", MANAGERS),
    ("portal", "onboarding.new", "POST"): Cell(
        "POST",
        "/onboarding/new",
        MANAGERS_OF_X,
        data=lambda w: {"mode": "existing", "veteran": str(w.veteran.id), "arrived_on": "2020-01-01"},
        notes="staff_y: veteran A is out of scope (404)",
    ),
    ("portal", "onboarding.detail", "GET"): Cell("GET", _url(), VIEWERS_OF_X, notes="the supervisor: no forms"),
    ("portal", "onboarding.set_state", "POST"): Cell(
        "POST", _url("/steps/hukou/state"), MANAGERS_OF_X, data={"to_state": "in_progress"}
    ),
    ("portal", "onboarding.coordination", "POST"): Cell(
        "POST",
        _url("/steps/hukou/coordination"),
        MANAGERS_OF_X,
        data={"contact_party": "派出所", "contacted_on": "2020-01-01", "coordination_result": "矩阵"},
    ),
    ("portal", "onboarding.upload", "POST"): Cell(
        "POST",
        _url("/steps/hukou/attachments"),
        MANAGERS_OF_X,
        multipart=True,
        data=lambda w: {"file": (io.BytesIO(_png()), "a.png")},
    ),
    ("portal", "onboarding.download", "GET"): Cell(
        "GET", lambda w: f"/onboarding/{_case(w).id}/attachments/{w.objects['onboarding_proof'].id}", VIEWERS_OF_X
    ),
    ("portal", "onboarding.welcome", "POST"): Cell(
        "POST",
        _url("/welcome"),
        MANAGERS_OF_X,
        data={"held_at": "2020-01-01T10:00", "place": "服务站", "attendees": "站长"},
    ),
    ("portal", "onboarding.close", "POST"): Cell(
        "POST", _url("/close"), MANAGERS_OF_X, data={"summary": "矩阵"}, notes="steps open: a flash message"
    ),
    ("api", "onboarding.checklist", "GET"): Cell("GET", "/v1/onboarding", VETERANS, notes="B: their own (null)"),
}
