"""The education section of the veteran's page (issue 19): veteran_parts(actor, veteran) -> template context."""

from backend.education import followup
from backend.education.campaigns import KIND_LABELS


def veteran_parts(actor, veteran):
    """Context for templates/education/_veteran_panel.html (key "education_panel"); {} hides the section. The
    veteran was opened within the actor's scope by the page."""
    if not actor.can("education.view"):
        return {}
    found = followup.of_veteran(actor=actor, veteran=veteran)
    return {
        "education_panel": {
            "acknowledgements": found.acknowledgements,
            "sessions": found.sessions,
            "kinds": KIND_LABELS,
        }
    }
