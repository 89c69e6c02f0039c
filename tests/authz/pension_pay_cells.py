"""issue 18, part 1: the authorization matrix's cells of a veteran's pay (page, writes, reveal, resume), the landing
page, the rules and GET /v1/pension. Veteran A (station X1) is given pay on first use (started 2024-01-01, an amount,
an account); a second veteran of X1 is suspended for the resume cells and a third has none for the start cell. Only
staff_x holds pension.manage / pension.reveal with X1 in scope; the supervisor views; staff_y gets 404."""

from datetime import date

from tests.authz.cells import VETERANS, Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # pension.view, each within its scope
VIEWERS_OF_X = ("staff_x", "supervisor_parent")
MANAGERS_OF_X = ("staff_x",)
RULE_ADMINS = ("sys_admin", "sys_admin_y")  # pension.rules: rules are system-wide data


def _started(w, key, suspended=False):
    if key not in w.objects:
        from backend.pension import accounts, profile, states
        from tests.factories import create_veteran

        veteran = w.veteran if key == "pay_a" else create_veteran(station=w.x1, placement_date=date(2024, 1, 1))
        states.start(actor=w.staff_x, veteran_id=veteran.id, start_on=date(2024, 1, 1))
        pay = profile.profile_of(veteran.id)
        profile.set_amount(
            actor=w.staff_x,
            veteran_id=veteran.id,
            expected_version=pay.version_id,
            component="base",
            amount="3000",
            funding="central",
            month="2024-01",
        )
        accounts.set_account(
            actor=w.staff_x,
            veteran_id=veteran.id,
            bank="中国农业银行",
            branch=None,
            number="6228480012345678",
            holder="矩阵",
        )
        if suspended:
            states.change(
                actor=w.staff_x,
                veteran_id=veteran.id,
                expected_version=profile.profile_of(veteran.id).version_id,
                action="suspend",
                reason="public_post",
                effective_on=date(2025, 1, 1),
            )
        w.objects[key] = veteran
    return w.objects[key]


def _version(w, key="pay_a", suspended=False):
    from backend.pension import profile

    return str(profile.profile_of(_started(w, key, suspended).id).version_id)


def _url(suffix="", key="pay_a", suspended=False):
    return lambda w: f"/pension/veterans/{_started(w, key, suspended).id}{suffix}"


def _fresh(w):
    if "pay_new" not in w.objects:
        from tests.factories import create_veteran

        w.objects["pay_new"] = create_veteran(station=w.x1, placement_date=date(2024, 1, 1))
    return f"/pension/veterans/{w.objects['pay_new'].id}/start"


def _today():
    from backend.registration.windows import today_cst

    return today_cst().isoformat()


PENSION_PAY_CELLS = {
    ("portal", "pension.index", "GET"): Cell("GET", "/pension/?name=老兵", VIEWERS),
    ("portal", "pension.veteran", "GET"): Cell("GET", _url(), VIEWERS_OF_X, notes="active: suspend and stop offered"),
    ("portal", "pension.reveal_account", "POST"): Cell("POST", _url("/reveal"), MANAGERS_OF_X),
    ("portal", "pension.set_amount", "POST"): Cell(
        "POST",
        _url("/amount"),
        MANAGERS_OF_X,
        data=lambda w: {
            "version": _version(w),
            "component": "base",
            "amount": "3100",
            "funding": "central",
            "month": "2025-01",
        },
    ),
    ("portal", "pension.set_account", "POST"): Cell(
        "POST",
        _url("/account"),
        MANAGERS_OF_X,
        data={"bank": "中国工商银行", "branch": "", "number": "622202000011112222", "holder": "矩阵"},
    ),
    ("portal", "pension.set_category", "POST"): Cell(
        "POST", _url("/category"), MANAGERS_OF_X, data=lambda w: {"version": _version(w), "category": "一类"}
    ),
    ("portal", "pension.start", "POST"): Cell("POST", _fresh, MANAGERS_OF_X, data={"start_on": "2024-01-01"}),
    ("portal", "pension.suspend", "POST"): Cell(
        "POST",
        _url("/suspend"),
        MANAGERS_OF_X,
        data=lambda w: {"version": _version(w), "reason": "public_post", "effective_on": _today()},
    ),
    ("portal", "pension.stop", "POST"): Cell(
        "POST",
        _url("/stop"),
        MANAGERS_OF_X,
        data=lambda w: {"version": _version(w), "reason": "death", "effective_on": _today()},
    ),
    ("portal", "pension.resume_preview", "GET"): Cell(
        "GET", _url("/resume?back_pay=1", "pay_s", True), MANAGERS_OF_X, notes="the confirmed resume form"
    ),
    ("portal", "pension.resume", "POST"): Cell(
        "POST",
        _url("/resume", "pay_s", True),
        MANAGERS_OF_X,
        data=lambda w: {"version": _version(w, "pay_s", True), "back_pay": "1"},
    ),
    ("portal", "pension.rules_page", "GET"): Cell("GET", "/pension/rules", RULE_ADMINS),
    ("portal", "pension.rule_edit", "POST"): Cell(
        "POST",
        "/pension/rules/public_post",
        RULE_ADMINS,
        data={"enabled": "1", "label": "被录用为公职人员", "message": "m"},
    ),
    ("api", "pension.get_pension", "GET"): Cell("GET", "/v1/pension", VETERANS, notes="each sees only their own"),
}
