"""Invitations to ceremonies and celebrations with the veteran's reply (issue 17, Art. 11). Scaffolding: filled in
by the capability."""

from flask_smorest import Blueprint

bp = Blueprint("honors", __name__, description="荣誉与仪式")
