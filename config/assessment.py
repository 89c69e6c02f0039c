"""Issue 20, assessment figures: limits of the on-demand work (env-overridable).

Read through backend.assessment.tasks.setting(): the app config when set there, else these defaults (not mixed into
config.settings.Base, which is at its 400-line limit)."""

from config.env import env, env_int


class AssessmentSettings:
    ASSESSMENT_REPORT_RATE_LIMIT = env("ASSESSMENT_REPORT_RATE_LIMIT", "10 per minute")  # per staff member
    ASSESSMENT_RECOMPUTE_RATE_LIMIT = env("ASSESSMENT_RECOMPUTE_RATE_LIMIT", "3 per hour")  # per staff member
    ASSESSMENT_RECOMPUTE_LOCK_SECONDS = env_int("ASSESSMENT_RECOMPUTE_LOCK_SECONDS", 3600)  # a stuck run's lock expires
    ASSESSMENT_REPORT_CACHE_ITEMS = env_int("ASSESSMENT_REPORT_CACHE_ITEMS", 16)  # PDFs kept per process
