"""care slice (issue 16), regular contact (常态化联系): the defaults when no unit up the tree has a policy.

Read by backend/care/plans.py through current_app.config when set there, else from here (env-overridable)."""

from config.env import env_int


class CareContactSettings:
    CARE_CONTACT_INTERVAL_DAYS = env_int("CARE_CONTACT_INTERVAL_DAYS", 90)  # quarterly by default
    CARE_ATTENTION_INTERVAL_DAYS = env_int("CARE_ATTENTION_INTERVAL_DAYS", 30)  # veterans flagged for attention
    CARE_DUE_SOON_DAYS = env_int("CARE_DUE_SOON_DAYS", 7)  # "due this week" in the weekly digest
