"""Short check-in codes: 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B)."""

import secrets

ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"  # 25 symbols a clerk can read aloud and type without confusion
LENGTH = 8  # 25**8 ≈ 1.5e11 codes: a collision is rare, and retried
ATTEMPTS = 10


class CodeSpaceExhausted(RuntimeError):
    """Ten random codes in a row were taken (service._insert): something is wrong with the random source or table."""


def random_code():
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(text):
    """A code as typed or scanned: trimmed, upper case, spaces and dashes dropped."""
    return "".join(ch for ch in (text or "").upper() if ch not in " -\t\r\n")
