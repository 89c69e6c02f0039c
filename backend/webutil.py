"""Web plumbing shared by both apps: the request id and client address, bound for logs and audit rows.

The only backend module that touches Flask's request; services never do.
"""

from flask import g, request

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
