"""The onboarding section of the veteran's page (issue 17): veteran_parts(actor, veteran) -> template context."""

from backend.onboarding import service as onboarding_service


def veteran_parts(actor, veteran):
    """Context for templates/onboarding/_veteran_panel.html; {} hides the section (no onboarding.view).

    The veteran page has already read `veteran` in the actor's scope; the case shares the veteran's station."""
    if not actor.can("onboarding.view"):
        return {}
    case = onboarding_service.case_of_veteran(veteran.id)
    done = onboarding_service.progress([case.id])[case.id] if case is not None else (0, 0)
    return {
        "onboarding_panel": True,
        "onboarding_case": case,
        "onboarding_progress": done,
        "can_open_onboarding": case is None and actor.can("onboarding.manage") and veteran.status == "active",
    }
