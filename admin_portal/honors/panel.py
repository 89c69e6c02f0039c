"""The honors section of the veteran's page (issue 17): veteran_parts(actor, veteran) -> template context."""


def veteran_parts(actor, veteran):
    """Context for templates/honors/_veteran_panel.html; {} hides the section."""
    return {}
