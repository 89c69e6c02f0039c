"""The employment section of the veteran's page (issue 19): veteran_parts(actor, veteran) -> template context."""

from backend.employment import service as employment


def veteran_parts(actor, veteran):
    """Context for templates/employment/_veteran_panel.html (key "employment_panel"); {} hides the section. The
    veteran was opened within the actor's scope by the page; the liaison's phone is shown masked."""
    if not actor.can("employment.view"):
        return {}
    current = employment.current_record(veteran.id)
    return {
        "employment_panel": {
            "veteran_id": veteran.id,
            "current": current,
            "liaison_phone": employment.masked_liaison_phone(current) if current else None,
            "supports": employment.supports_of(veteran.id, limit=5),
            "roles": employment.roles_of(veteran.id, limit=5),
            "statuses": employment.STATUS_LABELS,
            "support_kinds": employment.SUPPORT_LABELS,
            "outcomes": employment.OUTCOME_LABELS,
            "areas": employment.AREA_LABELS,
        }
    }
