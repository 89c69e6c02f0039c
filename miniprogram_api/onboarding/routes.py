"""GET /onboarding: a newly placed veteran's reception checklist (issue 17, Art. 7). Scaffolding: filled in by the
capability."""

from flask_smorest import Blueprint

bp = Blueprint("onboarding", __name__, description="接收安置")
