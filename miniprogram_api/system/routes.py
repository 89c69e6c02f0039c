"""GET /v1/health."""

import marshmallow as ma
from flask_smorest import Blueprint

from backend.system import check_health

bp = Blueprint("system", __name__, description="服务状态")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "ok"})
    database = ma.fields.String(required=True, metadata={"example": "ok"})


@bp.route("/health")
@bp.doc(security=[])  # no token
@bp.response(200, HealthSchema)
def health():
    """Service status (no authentication)."""
    return check_health()
