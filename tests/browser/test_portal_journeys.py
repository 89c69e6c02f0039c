"""Portal journeys in a real browser: log in, browse the unit tree, create a staff account in scope and be refused
one outside it; five wrong passwords lock the account. Administrators answer the TOTP step."""

import re

import pytest

from tests.factories import PASSWORD, TOTP_SECRET, build_world, unique

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def data(live):
    _, app = live
    with app.app_context():
        world = build_world()
        return {
            "secadmin": world.security_admin.username,
            "secadmin_y": world.security_admin_y.username,
            "clerk": world.staff_x.username,
            "x1_id": world.x1.id,
            "x1_name": world.x1.name,
            "city_name": world.city.name,
        }


_LAST_STEP = {}  # username -> the last TOTP step this process used (codes are single-use per step)


def _totp_code(username):
    """staffsec slice (issue 10): the oldest code in the server's ±1 step window not yet used by this account."""
    import time

    import pyotp

    current = int(time.time()) // 30
    step = max(current - 1, _LAST_STEP.get(username, current - 2) + 1)
    assert step <= current + 1, f"{username} logged in more than three times within 30 s"
    _LAST_STEP[username] = step
    return pyotp.TOTP(TOTP_SECRET).generate_otp(step)


def login(page, base, username, password=PASSWORD):
    page.goto(f"{base}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():  # read the answer only once it has loaded (flaky under load otherwise)
        page.get_by_role("button", name="登录").click()
    if page.url.endswith("/login/verify"):  # administrators: the second factor
        page.get_by_label("动态口令").fill(_totp_code(username))
        with page.expect_navigation():
            page.get_by_role("button", name="验证").click()


def test_create_staff_in_scope_and_refused_outside(live, data, page):
    base, _ = live
    login(page, base, data["secadmin"])
    page.get_by_role("link", name="组织机构").first.click()
    page.locator(".unit-tree").get_by_role("link", name=data["city_name"]).click()
    page.get_by_role("link", name="青山县").first.click()
    assert page.get_by_test_id("unit-name").inner_text() == "青山县"
    page.get_by_role("link", name="青山镇服务站").first.click()
    assert page.get_by_test_id("unit-name").inner_text() == "青山镇服务站"

    page.goto(f"{base}/staff/new?unit={data['x1_id']}")
    username = unique("clerk")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("姓名").fill("浏览器测试员")
    page.get_by_label("服务站工作人员").check()
    page.get_by_role("button", name="创建账号").click()
    assert "账号已创建" in page.content()
    temp = page.get_by_test_id("temp-password").inner_text().strip()
    assert len(temp) == 14

    # The new account must change its temporary password at first login.
    page.get_by_role("button", name="退出").click()
    login(page, base, username, temp)
    assert page.url.endswith("/account/password")

    # A security administrator of the sibling county forges the unit id of X1: refused like a missing unit.
    page.get_by_role("button", name="退出").click()
    login(page, base, data["secadmin_y"])
    page.goto(f"{base}/staff/new")
    options = page.locator("select#org_unit_id option").all_inner_texts()
    assert data["x1_name"] not in "".join(options)
    page.evaluate(
        "id => { const o = document.createElement('option'); o.value = id; o.text = 'forged';"
        " document.querySelector('select#org_unit_id').appendChild(o); o.selected = true; }",
        str(data["x1_id"]),
    )
    page.get_by_label("用户名").fill(unique("intruder"))
    page.get_by_label("姓名").fill("越权")
    page.get_by_label("服务站工作人员").check()
    page.get_by_role("button", name="创建账号").click()
    assert "页面不存在" in page.content()
    page.screenshot(path="/tmp/portal-refused.png")


def test_five_wrong_passwords_lock_the_account(live, data, page):
    base, _ = live
    for attempt in range(1, 5):
        login(page, base, data["clerk"], "Wrong-Passw0rd")
        assert "用户名或密码错误" in page.content(), attempt
    login(page, base, data["clerk"], "Wrong-Passw0rd")
    assert "用户名或密码错误" in page.content()  # locked, but answered like a wrong password (no enumeration)
    login(page, base, data["clerk"], PASSWORD)
    assert "用户名或密码错误" in page.content()
    assert re.search(r"/login", page.url)
