"""Retirement pay (issue 18): rounding, payroll thresholds and job sizes, mixed into Base. Money in fen."""

from config.env import env, env_int


class PensionSettings:
    # How computed amounts round (half up): "fen" (分, default), "jiao" (角) or "yuan" (元), as the department rules.
    PENSION_ROUNDING = env("PENSION_ROUNDING", "fen")
    # A payroll line whose net changed by more than this share (percent) from last month is listed as an exception.
    PENSION_JUMP_PERCENT = env_int("PENSION_JUMP_PERCENT", 20)
    # Back pay looks at most this many months back (retroactive adjustments, resumed pay, failed payments).
    PENSION_BACK_PAY_MONTHS = env_int("PENSION_BACK_PAY_MONTHS", 36)
    PENSION_RUN_BATCH = env_int("PENSION_RUN_BATCH", 2000)  # veterans per batch of the payroll job
