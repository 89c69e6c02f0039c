"""The party section of the veteran's page (issue 19): veteran_parts(actor, veteran) -> template context."""

from sqlalchemy import func, select

from backend.extensions import db
from backend.party import evaluations
from backend.party import service as party
from backend.party.models import PartyTransfer


def veteran_parts(actor, veteran):
    """Context for templates/party/_veteran_panel.html (key "party_panel"); {} hides the section. The veteran was
    opened within the actor's scope by the page."""
    if not actor.can("party.view"):
        return {}
    membership = party.membership_of(veteran.id)
    evals = evaluations.evaluations_of(veteran.id)
    open_transfers = db.session.scalar(
        select(func.count()).where(PartyTransfer.veteran_id == veteran.id, PartyTransfer.state == "open")
    )
    names = party.branch_names([membership.branch_id] if membership else [])
    return {
        "party_panel": {
            "veteran_id": veteran.id,
            "membership": membership,
            "branch_name": names.get(membership.branch_id) if membership else None,
            "open_transfers": open_transfers,
            "latest": evals[0] if evals else None,
            "evaluations": evals,
            "statuses": party.STATUS_LABELS,
            "ratings": evaluations.RATING_LABELS,
            "overall_labels": evaluations.OVERALL_LABELS,
        }
    }
