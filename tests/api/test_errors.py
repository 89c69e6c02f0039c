"""The API's envelope covers Werkzeug's errors and unexpected exceptions; nothing internal leaks."""

import pytest


def _assert_envelope(response, status, code):
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == {"error", "request_id"}
    assert body["error"]["code"] == code
    assert body["request_id"] == response.headers["X-Request-Id"]
    return body


def test_unknown_path_is_404_envelope(api):
    _assert_envelope(api.get("/v1/nope"), 404, "resource.not_found")


def test_wrong_method_is_405_envelope(api):
    _assert_envelope(api.post("/v1/health"), 405, "request.method_not_allowed")


def test_oversize_body_is_413(api):
    response = api.post("/v1/health", data=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"})
    assert response.status_code in (405, 413)
    response = api.post("/v1/nope", data=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"})
    assert response.status_code in (404, 413)


@pytest.fixture(scope="module")
def boom_api(config):
    """A separate API app with a route that raises (the shared app's routes are fixed after its first request)."""
    from miniprogram_api import create_app

    app = create_app(config)
    app.add_url_rule("/v1/_boom", "boom", lambda: 1 / 0)
    return app.test_client()


def test_unexpected_exception_is_500_without_internals(boom_api, caplog):
    response = boom_api.get("/v1/_boom")
    body = _assert_envelope(response, 500, "server.internal_error")
    text = response.get_data(as_text=True)
    for leak in ("Traceback", "ZeroDivision", ".py", "SELECT"):
        assert leak not in text
    assert body["error"]["message"] == "系统繁忙，请稍后再试"
    assert any("unhandled exception" in r.getMessage() for r in caplog.records)


def test_request_ids_are_unique(api):
    ids = {api.get("/v1/health").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


def test_ids_too_large_for_the_database_are_404_not_500(api, portal_app, world):
    """Found by schemathesis: a 20-digit id in a path overflowed the database integer."""
    assert api.post("/v1/inbox/99999999999999999999/read").status_code in (401, 404)
    from tests.helpers import portal_as

    client = portal_as(portal_app, world.staff_x)
    assert client.get("/veterans/99999999999999999999").status_code == 404
    assert client.get("/veterans/999999999999999999").status_code == 404


def test_a_lost_version_race_is_a_409_never_a_500(api_app, fake_wechat, world, monkeypatch):
    """Two writers of one veteran: the loser's version check fails (StaleDataError) and gets request.stale_update."""
    from sqlalchemy.orm.exc import StaleDataError

    from tests.api.helpers import bound_client
    from tests.factories import create_veteran

    client = bound_client(api_app, fake_wechat, create_veteran(station=world.x1))

    def lost(**kwargs):
        raise StaleDataError("UPDATE statement on table 'veteran' expected to update 1 row(s); 0 were matched.")

    monkeypatch.setattr("backend.accounts.service.update_contact", lost)
    body = client.call("PATCH", "/v1/me", json={"address": "青山路2号"}, expect=409).get_json()
    assert body["error"]["code"] == "request.stale_update"
    assert body["error"]["message"] == "该信息刚被更新，请刷新后重试"


def test_the_portal_answers_a_lost_version_race_with_a_409_page(portal_app):
    from sqlalchemy.orm.exc import StaleDataError

    from admin_portal.errors import handle_stale

    with portal_app.test_request_context("/veterans/1/edit", method="POST"):
        body, status = handle_stale(StaleDataError("0 were matched"))[:2]
    assert status == 409 and "该信息刚被更新，请刷新后重试" in body
