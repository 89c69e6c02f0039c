"""Background jobs of regular contact (explicit names, idempotent)."""

from celery import shared_task


@shared_task(name="care.weekly_digest")
def weekly_digest():
    """Plans for new veterans, moved veterans resynced, then each station's 本周联系提醒 (once per station and week)."""
    from backend.care import digest

    return digest.run_weekly()


@shared_task(name="care.recompute_plans")
def recompute_plans(unit_id):
    """After a unit's policy changed: recompute the due dates of the plans below it."""
    from backend.care import plans
    from backend.extensions import db
    from backend.orgs.models import OrgUnit

    unit = db.session.get(OrgUnit, unit_id)
    return plans.recompute_under(unit.path) if unit else 0
