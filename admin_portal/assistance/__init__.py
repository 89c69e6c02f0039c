"""Hardship assistance pages (issue 16): the case list, a case with its life-cycle actions, opening a case."""

from flask import Blueprint

bp = Blueprint("assistance", __name__)

from admin_portal.assistance import views  # noqa: E402, F401
