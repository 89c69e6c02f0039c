"""Request helpers that assert the status (Notify's admin_request, Flask tutorial's AuthActions)."""

from tests.factories import PASSWORD


class PortalClient:
    def __init__(self, app):
        self.app = app
        self.client = app.test_client()

    def login(self, staff_or_username, password=PASSWORD, expect=302):
        username = getattr(staff_or_username, "username", staff_or_username)
        response = self.client.post("/login", data={"username": username, "password": password})
        assert response.status_code == expect, response.text[:500]
        return response

    def get(self, url, expect=None, **kwargs):
        response = self.client.get(url, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text[:500])
        return response

    def post(self, url, expect=None, **kwargs):
        response = self.client.post(url, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text[:500])
        return response


def portal_as(app, staff):
    client = PortalClient(app)
    client.login(staff)
    return client


class ApiClient:
    def __init__(self, app, token=None):
        self.client = app.test_client()
        self.token = token

    def _headers(self, headers):
        headers = dict(headers or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        return headers

    def call(self, method, url, expect=None, headers=None, **kwargs):
        response = self.client.open(url, method=method, headers=self._headers(headers), **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text[:500])
        return response

    def get(self, url, **kwargs):
        return self.call("GET", url, **kwargs)

    def post(self, url, **kwargs):
        return self.call("POST", url, **kwargs)
