"""The training section of the veteran's page (issue 19): veteran_parts(actor, veteran) -> template context."""


def veteran_parts(actor, veteran):
    """Context for templates/training/_veteran_panel.html (key "training_panel"); {} hides the section."""
    return {}
