"""Issue 17, Art. 7: the reception one-stop (backend/onboarding), mixed into Base."""

from config.env import env_int


class OnboardingSettings:
    # Days after the arrival date by which each step is due; the workbench lists steps past their due date.
    ONBOARDING_STEP_DUE_DAYS = {
        "party_transfer": 7,
        "check_in": 15,
        "hukou": 30,
        "social_insurance": 30,
        "housing_fund": 30,
        "reserve": 30,
        "bank_account": 15,
        "archive_intake": 30,
        "welcome_ceremony": 30,
    }
    ONBOARDING_MAX_ATTACHMENTS = env_int("ONBOARDING_MAX_ATTACHMENTS", 10)  # proof files per step
