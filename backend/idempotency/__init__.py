"""Idempotency keys of the phone's writes: claim, store the first answer, replay, expire."""
