"""Accessibility (a11y slice, issue 11): axe-core on every portal page reachable by each role, at 1366 px, and the
main content visible at 1024 px and at 200 % zoom (683 CSS px: the sidebar collapses).

The pages are not a hand list: every GET route of the portal's url_map, its path filled from the authorization
matrix (tests/authz, which every new route must join), visited by each role the matrix allows; plus every link of
the top bar and the sidebar; plus the login steps and an error page. Non-HTML answers (downloads, JSON) are skipped.
axe-core is vendored (admin_portal/static/vendor/axe-core) and injected by Playwright; the context bypasses the CSP
for that injected script only (the portal's own pages keep theirs)."""

from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.browser.conftest import CHROMIUM  # noqa: F401  (the same browser as the other journeys)
from tests.browser.test_portal_journeys import _totp_code
from tests.factories import PASSWORD, add_objects, build_world

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "admin_portal/static/vendor/axe-core/axe-4.14.1.min.js"
# One demo account per role of the test world (tests/factories.py); "anonymous" sees the public pages.
ROLES = ("anonymous", "staff_x", "supervisor_parent", "auditor", "sys_admin", "security_admin")
BLOCKING = ("serious", "critical")
WIDE, NARROW, ZOOMED = 1366, 1024, 683  # 683 = 1366 px at 200 % zoom
SKIP_ENDPOINTS = {"static", "bootstrap.static"}
NAV_LINKS = "#app-topbar a[href], #app-sidebar a[href]"


def _matrix():
    from tests.authz.test_matrix import MATRIX

    return MATRIX


@pytest.fixture(scope="module")
def pages(live, portal_app):
    """{role: [url, ...]} from the portal's url_map, and the routes that could not be filled."""
    _, app = live
    matrix = _matrix()
    plan = {role: [] for role in ROLES}
    unfilled = []
    with app.app_context():
        world = add_objects(build_world())
        for rule in sorted(portal_app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS:
                continue
            cell = matrix.get(("portal", rule.endpoint, "GET"))
            if cell is None and rule.arguments:  # its ids cannot be filled (test_matrix fails on it too)
                unfilled.append(rule.endpoint)
                continue
            if cell is None:  # not in the matrix yet: every role tries it (a refusal page is a page too)
                url, allowed, public = rule.rule, ROLES, False
            else:
                url = cell.url(world) if callable(cell.url) else cell.url
                allowed, public = cell.allowed, cell.public
            for role in ROLES:
                if role in allowed and (role == "anonymous" or not public):
                    plan[role].append(url)
        usernames = {role: getattr(world, role).username for role in ROLES if role != "anonymous"}
    return plan, usernames, unfilled


TIMES = {}


def _new_context(browser, width=WIDE):
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 768}, bypass_csp=True)
    foreign = []

    def guard(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return context, foreign


def _axe(page):
    """The serious and critical violations on the current page, one line each."""
    import time
    t0 = time.monotonic()
    page.add_script_tag(path=str(AXE))
    TIMES.setdefault("inject", []).append(time.monotonic() - t0)
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for v in result["violations"]:
        if v["impact"] in BLOCKING:
            targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:3]]
            lines.append(f"{v['impact']} {v['id']} ({len(v['nodes'])}x): {targets}")
    return lines


_LAYOUT = """() => {
  const main = document.querySelector('main');
  if (!main) return 'no <main> element';
  const box = main.getBoundingClientRect();
  if (box.width < 200 || box.height <= 0) return `main is ${box.width}x${box.height} px`;
  if (box.top >= window.innerHeight) return `main starts below the first screen (top ${box.top})`;
  const overflow = document.documentElement.scrollWidth - window.innerWidth;
  if (overflow > 1) return `the page scrolls sideways by ${overflow} px`;
  const aside = document.getElementById('app-sidebar');
  if (aside && window.innerWidth < 992 && aside.getBoundingClientRect().width > 0
      && getComputedStyle(aside).visibility !== 'hidden') return 'the sidebar does not collapse';
  return '';
}"""


def _layout(page):
    """Problems of the page at 1024 px and at 200 % zoom; the viewport goes back to 1366 px."""
    problems = []
    for width in (NARROW, ZOOMED):
        page.set_viewport_size({"width": width, "height": 768 if width == NARROW else 384})
        problem = page.evaluate(_LAYOUT)
        if problem:
            problems.append(f"at {width} px: {problem}")
    page.set_viewport_size({"width": WIDE, "height": 768})
    return problems


def _check(page, role, label, report):
    import time  # DEBUG-A11Y
    t0 = time.monotonic()  # DEBUG-A11Y
    for line in _axe(page):
        report["axe"].append(f"[{role}] {label}: {line}")
    TIMES.setdefault("axe", []).append(time.monotonic() - t0)
    for line in _layout(page):
        report["layout"].append(f"[{role}] {label}: {line}")
    report["checked"].append((role, label, round(time.monotonic() - t0, 2)))  # DEBUG-A11Y


def _login(page, base, username, role, report):
    """Log in like a person, checking the login page and (administrators) the TOTP step on the way."""
    page.goto(f"{base}/login")
    _check(page, role, "/login (form)", report)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    if page.url.endswith("/login/verify"):
        _check(page, role, "/login/verify (TOTP step)", report)
        page.get_by_label("动态口令").fill(_totp_code(username))
        page.get_by_role("button", name="验证").click()
    assert not page.url.endswith(("/login", "/login/verify")), f"{role} could not log in"


def _visit_all(page, base, role, start, report):
    """Every planned page of the role, and every link of the top bar and sidebar found on the way."""
    queue, seen = deque(start), set()
    while queue:
        path = queue.popleft()
        parts = urlsplit(urljoin(base + "/", path))
        key = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.netloc != urlsplit(base).netloc or key in seen:
            continue
        seen.add(key)
        import time
        t0 = time.monotonic()
        try:
            response = page.goto(base + key)
            TIMES.setdefault("goto", []).append(time.monotonic() - t0)
        except PlaywrightError as error:  # a download (spreadsheet, attachment) is not a page
            if "Download is starting" not in str(error):
                raise
            report["skipped"].append((role, key))
            continue
        if response is None or response.status >= 500:
            report["errors"].append(f"[{role}] {key}: server error")
            continue
        if not response.headers.get("content-type", "").startswith("text/html"):  # JSON for the charts
            report["skipped"].append((role, key))
            continue
        _check(page, role, key, report)
        queue.extend(page.eval_on_selector_all(NAV_LINKS, "els => els.map(e => e.getAttribute('href'))"))


def test_every_page_of_every_role_passes_axe(live, browser, pages):
    base, _ = live
    plan, usernames, unfilled = pages
    assert AXE.is_file(), "vendored axe-core is missing (see admin_portal/static/vendor/VENDORED.md)"
    report = {"axe": [], "layout": [], "checked": [], "skipped": [], "errors": []}
    foreign_all = []
    for role in ROLES:
        context, foreign = _new_context(browser)
        page = context.new_page()
        try:
            if role != "anonymous":
                _login(page, base, usernames[role], role, report)
            _visit_all(page, base, role, [*plan[role], "/no-such-page"], report)
        finally:
            context.close()
        foreign_all += foreign
    roles_seen = {c[0] for c in report["checked"]}
    print({k: (len(v), round(sum(v), 1)) for k, v in TIMES.items()})
    import json, os  # DEBUG-A11Y
    if os.environ.get("A11Y_REPORT"):  # DEBUG-A11Y
        Path(os.environ["A11Y_REPORT"]).write_text(json.dumps(report, ensure_ascii=False, indent=1))  # DEBUG-A11Y
    print(
        f"axe-core: {len(report['checked'])} page visits by {len(roles_seen)} roles "
        f"({len({c[1] for c in report['checked']})} distinct pages), {len(report['skipped'])} non-HTML skipped; "
        f"{len(report['axe'])} serious/critical, {len(report['layout'])} layout problems"
    )
    assert not unfilled, f"GET routes missing from the authorization matrix (tests/authz): {unfilled}"
    assert not foreign_all, f"pages requested non-local hosts: {foreign_all}"
    assert roles_seen == set(ROLES)
    assert not report["errors"], "pages that failed:\n" + "\n".join(report["errors"])
    assert not report["axe"], "axe-core serious/critical violations:\n" + "\n".join(report["axe"])
    assert not report["layout"], "pages that do not work at 1024 px or 200 % zoom:\n" + "\n".join(report["layout"])
