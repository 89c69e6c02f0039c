"""The honors section of the veteran's page (issue 17): veteran_parts(actor, veteran) -> template context."""

from backend.honors import awards, chronicle, invitations, rules


def veteran_parts(actor, veteran):
    """Context for templates/honors/_veteran_panel.html; {} hides the section. The veteran is already in the actor's
    scope (the page found them so): their awards, invitations with the replies, and the chronicle status."""
    if not actor.can("honors.view"):
        return {}
    return {
        "honors_panel": True,
        "honors_awards": awards.of_veteran(veteran.id),
        "honors_invitations": invitations.of_veteran(veteran.id),
        "honors_chronicle": chronicle.of_veteran(veteran.id),
        "honors_labels": {
            "award": rules.AWARD_LEVEL_LABELS,
            "rsvp": rules.RSVP_LABELS,
            "kind": rules.KIND_LABELS,
            "chronicle": rules.CHRONICLE_LABELS,
        },
        "honors_can_manage": actor.can("honors.manage"),
    }
