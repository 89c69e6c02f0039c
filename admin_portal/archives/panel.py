"""The archives section of the veteran's page (issue 17): veteran_parts(actor, veteran) -> template context."""

from backend.archives.common import STATE_LABELS
from backend.archives.custody import archive_of_veteran
from backend.archives.models import ArchiveLocation
from backend.extensions import db


def veteran_parts(actor, veteran):
    """Context for templates/archives/_veteran_panel.html; {} hides the section."""
    if not actor.can("archives.view"):
        return {}
    archive = archive_of_veteran(veteran.id)  # the veteran page itself is scoped; the archive follows the veteran
    location = db.session.get(ArchiveLocation, archive.location_id) if archive and archive.location_id else None
    return {
        "archives_panel": True,
        "archive_row": archive,
        "archive_state_label": STATE_LABELS.get(archive.state) if archive else None,
        "archive_location_name": location.name if location else None,
        "archive_can_intake": actor.can("archives.manage"),
    }
