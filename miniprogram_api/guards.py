"""The API's body-type check: a body whose content type the operation does not read answers 415, not a misleading
422 about missing fields. The operation's declared argument locations (flask-smorest's @bp.arguments) say which."""

from flask import current_app, request

from backend.errors import UnsupportedMediaType

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _body_locations(endpoint):
    view = current_app.view_functions.get(endpoint)
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return {p.get("in") for p in parameters} & {"json", "form", "files"}


def require_declared_body_type():
    """before_request: a non-empty body must be JSON for JSON operations and a form for upload operations."""
    if request.url_rule is None or not (request.content_length or request.headers.get("Transfer-Encoding")):
        return
    locations = _body_locations(request.endpoint)
    if "json" in locations and not request.is_json:
        raise UnsupportedMediaType()
    if locations and "json" not in locations and request.mimetype not in FORM_TYPES:
        raise UnsupportedMediaType("请以 multipart/form-data 格式上传")
