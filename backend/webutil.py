"""Web plumbing shared by both apps: the request id and client address, bound for logs and audit rows; the real
client address behind trusted proxies; the response headers every dynamic answer carries.

The only backend module that touches Flask's request; services never do.
"""

from flask import g, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter

from backend.logs import new_request_id, reset_request_context, set_request_context

HSTS = "max-age=31536000; includeSubDomains"
# Set when a response lacks them (the portal's Talisman sets its own, stricter CSP first).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def install_request_context(app):
    """The request id, the client address (through trusted proxies) and the response headers, for one app."""
    install_proxy_fix(app)
    install_response_headers(app)

    @app.before_request
    def _bind_request():
        g.request_id = new_request_id()
        g._request_tokens = set_request_context(g.request_id, request.remote_addr)

    @app.after_request
    def _send_request_id(response):
        if "request_id" in g:
            response.headers["X-Request-Id"] = g.request_id
        return response

    @app.teardown_request
    def _unbind_request(exc):
        tokens = g.pop("_request_tokens", None)
        if tokens:
            reset_request_context(tokens)


def current_request_id():
    return g.get("request_id")


class TrustedProxies:
    """werkzeug's ProxyFix with TRUSTED_PROXY_COUNT (read per request) hops of X-Forwarded-For/-Proto trusted.

    With 0 the headers are ignored and request.remote_addr is the peer; with n the n-th address from the right in
    X-Forwarded-For becomes request.remote_addr, which Flask-Limiter keys on and audit rows record.
    """

    def __init__(self, app, wsgi_app):
        self.app, self.wsgi_app, self._fixed = app, wsgi_app, {}

    def __call__(self, environ, start_response):
        count = self.app.config.get("TRUSTED_PROXY_COUNT", 0)
        if not count:
            return self.wsgi_app(environ, start_response)
        if count not in self._fixed:
            self._fixed[count] = ProxyFix(self.wsgi_app, x_for=count, x_proto=count)
        return self._fixed[count](environ, start_response)


def install_proxy_fix(app):
    if not isinstance(app.wsgi_app, TrustedProxies):
        app.wsgi_app = TrustedProxies(app, app.wsgi_app)


def install_response_headers(app):
    """`Cache-Control: no-store` on every dynamic answer (pages and API answers may carry personal data; static
    assets may be cached), and the security headers; HSTS when the deployment forces HTTPS (production)."""

    @app.after_request
    def _security_headers(response):
        endpoint = request.endpoint or ""
        if endpoint != "static" and not endpoint.endswith(".static"):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("FORCE_HTTPS"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


class IdConverter(BaseConverter):
    """<id:name>: a positive database id of at most 18 digits, so no path can overflow a BIGINT (a longer number
    is simply not a route: 404)."""

    regex = r"[1-9]\d{0,17}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(int(value))


def install_id_converter(app):
    app.url_map.converters["id"] = IdConverter


# url_for() takes these keyword arguments itself; a query string must never reach it under these names.
_URL_FOR_OWN = frozenset({"endpoint", "values", "method"})


def link_args(*drop):
    """The request's non-empty query arguments, minus `drop`, safe to pass back to url_for(**args) for pager links:
    names that url_for reads itself (`endpoint`, `_external`, `_scheme`, `_anchor`, ...) are left out."""
    from flask import request

    return {
        k: v for k, v in request.args.items() if v and k not in drop and k not in _URL_FOR_OWN and not k.startswith("_")
    }


def positive_int(source, name):
    """`source[name]` (form or query args) as a positive BIGINT id, or None: ASCII digits only, so a crafted "²" or
    "١٢" is never read as a number and never reaches int() to fail."""
    value = (source.get(name) or "").strip()
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) < 2**63 else None
