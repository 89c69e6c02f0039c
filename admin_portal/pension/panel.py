"""The retirement pay section of the veteran's page (issue 18): veteran_parts(actor, veteran) -> context."""

from flask import url_for

from backend.pension import accounts, amounts, profile, rules
from backend.pension.money import fen_to_yuan


def veteran_parts(actor, veteran):
    """Context for templates/pension/_veteran_panel.html (key "pension_panel"); {} hides the section (no
    pension.view). The amount, state and masked account; the pay page has the rest."""
    if not actor.can("pension.view"):
        return {}
    pay = profile.profile_of(veteran.id)
    state = pay.state if pay else "pending"
    return {
        "pension_panel": {
            "state_label": rules.STATE_LABELS[state],
            "since": pay.state_since if pay else None,
            "total": fen_to_yuan(amounts.monthly_fen(veteran.id, profile.this_month())),
            "account": accounts.masked(accounts.account_of(veteran.id)),
            "url": url_for("pension.veteran", veteran_id=veteran.id),
        }
    }
