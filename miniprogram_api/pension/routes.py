"""GET /pension: the veteran's current retirement pay, the last 12 payments, the reason if suspended (issue 18).
Scaffolding: filled in by the capability."""

from flask_smorest import Blueprint

bp = Blueprint("pension", __name__, description="退役金")
