"""Authorization matrix cells of the assessment pages (issue 20). assessment.view: the center reviewers (staff_x,
staff_y) and the supervisor; assessment.configure: the supervisor only. Pages of unit X: staff_y is out of scope
(404). The world has no figures computed: every page renders its 「尚未生成」 state."""

from tests.authz.cells import Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # assessment.view, each on its own unit
VIEWERS_OF_X = ("staff_x", "supervisor_parent")
CONFIGURERS = ("supervisor_parent",)
RECOMPUTERS = ()  # a nationwide run: a province department's supervisor only (none in the matrix world)


def _year():
    from backend.registration.windows import today_cst

    return today_cst().year


def _settings_form():
    from backend.assessment.indicators import INDICATORS

    form = {}
    for indicator in INDICATORS:
        form[f"weight_{indicator.code}"] = str(indicator.default_weight)
        form[f"target_{indicator.code}"] = "1"
        form[f"enabled_{indicator.code}"] = "1"
    return form


ASSESSMENT_CELLS = {
    ("portal", "assessment.index", "GET"): Cell("GET", lambda w: f"/assessment/?unit={w.x.id}", VIEWERS_OF_X),
    ("portal", "assessment.charts", "GET"): Cell(
        "GET", lambda w: f"/assessment/charts.json?unit={w.x.id}&year={_year()}", VIEWERS_OF_X
    ),
    ("portal", "assessment.report_pdf", "GET"): Cell(
        "GET", lambda w: f"/assessment/report.pdf?unit={w.x.id}&year={_year()}", VIEWERS_OF_X
    ),
    ("portal", "assessment.export", "POST"): Cell(
        "POST", "/assessment/export", VIEWERS_OF_X, data=lambda w: {"unit": str(w.x.id), "year": str(_year())}
    ),
    ("portal", "assessment.settings", "GET"): Cell("GET", "/assessment/settings", CONFIGURERS),
    ("portal", "assessment.settings", "POST"): Cell(
        "POST", "/assessment/settings", CONFIGURERS, data=lambda w: _settings_form(), notes="the defaults, saved"
    ),
    ("portal", "assessment.recompute", "POST"): Cell(
        "POST",
        "/assessment/recompute",
        RECOMPUTERS,
        data={"year": "1999"},
        notes="the city's supervisor is refused (403): recomputing is the province's; tests/assessment covers it",
    ),
}
