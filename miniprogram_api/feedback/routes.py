"""GET /feedback/pending, POST /feedback, complaints and suggestions (issue 20). Scaffolding: filled in by the
capability."""

from flask_smorest import Blueprint

bp = Blueprint("feedback", __name__, description="评价与投诉建议")
