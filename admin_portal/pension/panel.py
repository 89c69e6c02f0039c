"""The retirement pay section of the veteran's page (issue 18): veteran_parts(actor, veteran) -> context."""


def veteran_parts(actor, veteran):
    """Context for templates/pension/_veteran_panel.html (key "pension_panel"); {} hides the section."""
    return {}
