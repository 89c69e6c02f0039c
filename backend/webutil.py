"""Web plumbing shared by both apps: the request id and client address, bound for logs and audit rows.

The only backend module that touches Flask's request; services never do.
"""

from flask import g, request
from werkzeug.routing import BaseConverter

from backend.logs import new_request_id, reset_request_context, set_request_context


def install_request_context(app):
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
