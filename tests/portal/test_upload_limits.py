"""Portal uploads carry up to their own limit even with CSRF on (production): CSRFProtect parses the form in an app
hook, so each upload view declares its limit with accepts_upload() and the app's first hook raises it before that."""

import io

import pytest

from backend.archives import files
from backend.pension import returns
from backend.veterans import importer

UPLOADS = {  # endpoint -> the file size the service accepts
    "archives.upload": files.MAX_BYTES,
    "onboarding.upload": files.MAX_BYTES,
    "visits.upload": files.MAX_BYTES,
    "party.record_evaluation": files.MAX_BYTES,
    "pension.payroll_return": returns.MAX_BYTES,
    "veterans.import_sheet": importer.MAX_BYTES,
}


@pytest.fixture(scope="module")
def csrf_portal(config):
    from admin_portal import create_app

    return create_app(type("CsrfConfig", (config,), {"WTF_CSRF_ENABLED": True}))


def _url(app, endpoint):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return rule.rule.replace("<id:", "<").split("<")[0] + "".join(
        "1" + part.split(">", 1)[1] for part in rule.rule.split("<")[1:]
    )


def test_every_upload_view_declares_its_limit(csrf_portal):
    declared = {e for e, view in csrf_portal.view_functions.items() if getattr(view, "upload_limit", None)}
    assert declared == set(UPLOADS)


@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
def test_a_file_over_1mb_reaches_the_csrf_check_and_one_over_the_limit_is_413(csrf_portal, endpoint):
    client = csrf_portal.test_client()
    url = _url(csrf_portal, endpoint)
    limit = UPLOADS[endpoint]
    big = client.post(url, data={"file": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "a.pdf")})
    assert big.status_code == 400 and "页面已过期" in big.get_data(as_text=True)  # parsed; refused only for CSRF
    huge = client.post(url, data={"file": (io.BytesIO(b"x" * (limit + 128 * 1024)), "a.pdf")})
    assert huge.status_code == 413
    other = client.post("/login", data={"f": (io.BytesIO(b"x" * (2 * 1024 * 1024)), "a.pdf")})
    assert other.status_code == 413  # every other request keeps the 1 MB limit
