"""Issue 20, feedback and ratings (好差评, Art. 24): the closed loop's deadlines (env-overridable).

Read through backend.feedback.rules.setting(): the app config when set there, else these defaults (not mixed into
config.settings.Base, which is at its 400-line limit)."""

from config.env import env_int


class FeedbackSettings:
    FEEDBACK_DUE_WORKING_DAYS = env_int("FEEDBACK_DUE_WORKING_DAYS", 5)  # a case's deadline, China's working days
    FEEDBACK_DUE_SOON_WORKING_DAYS = env_int("FEEDBACK_DUE_SOON_WORKING_DAYS", 2)  # the workbench card's horizon
    FEEDBACK_MAX_ATTACHMENTS = env_int("FEEDBACK_MAX_ATTACHMENTS", 5)
    AUDIT_VOLUME_FACTOR = env_int("AUDIT_VOLUME_FACTOR", 3)  # reveals/exports above 3x the peers' median stand out
    AUDIT_VOLUME_THRESHOLD = env_int("AUDIT_VOLUME_THRESHOLD", 200)  # …or above this many in the period
