"""The test client of every Flask app in the suite (issue 21: the suite's run time).

Werkzeug's client matches its cookies to each request by rebuilding the request's whole URL as an IRI, query string
included, twice per request (before and after). For the hostile-input probes' 1.7 MB query strings
(tests/test_hostile_inputs.py) that pure-Python unquoting cost more than the app's own handling of the request.
Cookies only look at the host and the path, so this client rebuilds the URL without the query string: the same
cookies go out and come back, the app receives exactly the same request.
"""

from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import run_wsgi_app
from werkzeug.wsgi import get_current_url


def _host_and_path(environ):
    url = urlsplit(get_current_url(environ, strip_querystring=True))
    return url.hostname or "localhost", url.path


class TestClient(FlaskClient):
    __test__ = False  # not a test class for pytest

    def _add_cookies_to_wsgi(self, environ):
        if self._cookies is None:
            return
        server_name, path = _host_and_path(environ)
        value = "; ".join(
            c._to_request_header() for c in self._cookies.values() if c._matches_request(server_name, path)
        )
        if value:
            environ["HTTP_COOKIE"] = value
        else:
            environ.pop("HTTP_COOKIE", None)

    def run_wsgi_app(self, environ, buffered=False):
        self._add_cookies_to_wsgi(environ)
        rv = run_wsgi_app(self.application, environ, buffered=buffered)
        self._update_cookies_from_response(*_host_and_path(environ), rv[2].getlist("Set-Cookie"))
        return rv


def install():
    """Every app's test_client() (the suite's apps and the ones tests build themselves) returns a TestClient."""
    Flask.test_client_class = TestClient
