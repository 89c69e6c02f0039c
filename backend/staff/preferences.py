"""A staff member's own display preferences (a11y slice, issue 11): the larger-text mode (大字版)."""

from backend.db import transaction
from backend.extensions import db
from backend.staff.models import Staff


def set_large_text(*, actor, enabled):
    """Turn the larger-text mode on or off for the actor's own account; kept across sessions and devices.

    Only the actor's own row is touched, so no permission beyond a live session is needed.
    """
    with transaction():
        db.session.refresh(actor, with_for_update={"of": Staff})
        actor.large_text = bool(enabled)
    return actor
