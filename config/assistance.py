"""care slice (issue 16), hardship assistance: limits of backend/assistance/rules.py, mixed into Base. Money in fen."""

from config.env import env_int


class AssistanceSettings:
    ASSISTANCE_CASE_CAP_FEN = env_int("ASSISTANCE_CASE_CAP_FEN", 2_000_000)  # 20,000 元 at most per case
    ASSISTANCE_YEAR_CAP_FEN = env_int("ASSISTANCE_YEAR_CAP_FEN", 3_000_000)  # 30,000 元 per veteran per CST year
    ASSISTANCE_FOUR_EYES_ABOVE_FEN = env_int("ASSISTANCE_FOUR_EYES_ABOVE_FEN", 500_000)  # above 5,000 元: two approvers
    ASSISTANCE_RECENT_MONTHS = env_int("ASSISTANCE_RECENT_MONTHS", 12)  # warn when helped within this many months
    ASSISTANCE_MAX_ATTACHMENTS = env_int("ASSISTANCE_MAX_ATTACHMENTS", 10)
