"""Accessibility (a11y slice, issue 11): axe-core on every portal page reachable by each role, at 1366 px, and the
main content visible at 1024 px and at 200 % zoom (683 CSS px: the sidebar collapses).

The pages are not a hand list: every GET route of the portal's url_map, its path filled from the authorization
matrix (tests/authz, which every new route must join), visited by each role the matrix allows; plus every link of
the top bar and the sidebar; plus the login steps and an error page. Non-HTML answers (downloads, JSON) are skipped.
axe-core is vendored (admin_portal/static/vendor/axe-core) and injected by Playwright as an init script of the
context (one copy sent to the browser per role, evaluated outside the page's Content-Security-Policy), so the pages
are checked under their real CSP with no bypass. One browser context per role.

Also here: the 大字版 toggle persists per account, keyboard focus is visible, and the collapsed sidebar opens."""

from collections import deque
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.test_portal_journeys import _totp_code, login
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
                try:
                    url = cell.url(world) if callable(cell.url) else cell.url
                except AttributeError:  # the cell names an object this world lacks
                    unfilled.append(rule.endpoint)
                    continue
                allowed, public = cell.allowed, cell.public
            for role in ROLES:
                if role in allowed and (role == "anonymous" or not public):
                    plan[role].append(url)
        usernames = {role: getattr(world, role).username for role in ROLES if role != "anonymous"}
    return plan, usernames, unfilled


def _new_context(browser, width=WIDE):
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 768})
    context.add_init_script(path=str(AXE))
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
    for line in _axe(page):
        report["axe"].append(f"[{role}] {label}: {line}")
    for line in _layout(page):
        report["layout"].append(f"[{role}] {label}: {line}")
    report["checked"].append((role, label))


def _login(page, base, username, role, report):
    """Log in like a person, checking the login page and (administrators) the TOTP step on the way."""
    page.goto(f"{base}/login")
    _check(page, role, "/login (form)", report)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    with page.expect_navigation():  # the POST always navigates; axe must not run on a page being replaced
        page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    if page.url.endswith("/login/verify"):
        _check(page, role, "/login/verify (TOTP step)", report)
        page.get_by_label("动态口令").fill(_totp_code(username))
        with page.expect_navigation():
            page.get_by_role("button", name="验证").click()
        page.wait_for_load_state()
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
        try:
            response = page.goto(base + key)
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


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_every_role_passes_axe(live, browser, pages, role):
    """One role (issue 21: the roles are separate tests, so parallel workers share them; tests/parallel.py SPLIT)."""
    base, _ = live
    plan, usernames, unfilled = pages
    assert AXE.is_file(), "vendored axe-core is missing (see admin_portal/static/vendor/VENDORED.md)"
    report = {"axe": [], "layout": [], "checked": [], "skipped": [], "errors": []}
    context, foreign = _new_context(browser)
    page = context.new_page()
    try:
        if role != "anonymous":
            _login(page, base, usernames[role], role, report)
        _visit_all(page, base, role, [*plan[role], "/no-such-page"], report)
    finally:
        context.close()
    roles_seen = {seen for seen, _ in report["checked"]}
    print(
        f"axe-core [{role}]: {len(report['checked'])} page visits "
        f"({len({page for _, page in report['checked']})} distinct pages), {len(report['skipped'])} non-HTML skipped; "
        f"{len(report['axe'])} serious/critical, {len(report['layout'])} layout problems"
    )
    assert not unfilled, f"GET routes missing from the authorization matrix (tests/authz): {unfilled}"
    assert not foreign, f"pages requested non-local hosts: {foreign}"
    assert roles_seen == {role}
    assert not report["errors"], "pages that failed:\n" + "\n".join(report["errors"])
    assert not report["axe"], "axe-core serious/critical violations:\n" + "\n".join(report["axe"])
    assert not report["layout"], "pages that do not work at 1024 px or 200 % zoom:\n" + "\n".join(report["layout"])


@pytest.fixture(scope="module")
def clerk(live):
    from tests.factories import create_staff, create_unit, unique

    _, app = live
    with app.app_context():
        return create_staff(unit=create_unit(name=unique("大字县")), roles=("station_staff",)).username


def _root_font_px(page):
    page.wait_for_load_state("load")  # the stylesheet that sizes the root, under CI load, may still be loading
    return page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")


def test_large_text_mode_persists_per_account(live, clerk, page):
    base, _ = live
    login(page, base, clerk)
    page.goto(f"{base}/account/totp")
    assert _root_font_px(page) == 16
    toggle = page.get_by_role("button", name="大字版")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    expect(page.get_by_text("已切换为大字版")).to_be_visible()
    assert page.url == f"{base}/account/totp"  # back on the page where it was pressed
    expect(page.locator("html")).to_have_class("large-text")
    assert _root_font_px(page) == 20
    assert page.get_by_role("button", name="大字版").get_attribute("aria-pressed") == "true"
    page.get_by_role("button", name="退出").click()  # a new session on the same account keeps it
    login(page, base, clerk)
    expect(page.get_by_test_id("whoami")).to_be_visible()
    assert _root_font_px(page) == 20
    page.get_by_role("button", name="大字版").click()
    expect(page.get_by_text("已恢复标准字号")).to_be_visible()
    assert _root_font_px(page) == 16


_FOCUS = """() => {
  const el = document.activeElement, style = getComputedStyle(el), box = el.getBoundingClientRect();
  return {tag: el.tagName, text: (el.innerText || el.value || '').trim().slice(0, 20), outline: style.outlineStyle,
          width: parseFloat(style.outlineWidth), visible: box.width > 0 && box.height > 0};
}"""


def test_keyboard_focus_is_visible_and_the_menu_opens_when_zoomed(live, clerk, page):
    base, _ = live
    login(page, base, clerk)
    page.keyboard.press("Tab")
    first = page.evaluate(_FOCUS)
    assert first["text"] == "跳到主要内容" and first["visible"]
    for _ in range(8):  # the skip link, then each control of the top bar and the menu: a clear outline on each
        focus = page.evaluate(_FOCUS)
        assert focus["visible"] and focus["outline"] == "solid" and focus["width"] >= 2, focus
        page.keyboard.press("Tab")
    page.set_viewport_size({"width": 683, "height": 384})  # 200 % zoom on a 1366 × 768 screen
    menu = page.locator("#app-sidebar")
    assert not menu.get_by_role("link", name="工作台").is_visible()
    page.get_by_role("button", name="菜单").click()
    expect(menu.get_by_role("link", name="工作台")).to_be_visible()
    expect(menu).to_be_focused()  # focus moves into the opened menu, so Escape closes it
    page.keyboard.press("Escape")
    expect(menu.get_by_role("link", name="工作台")).to_be_hidden()
