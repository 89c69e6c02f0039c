"""Names and other free text shown to people: bidirectional-override characters are dropped where input is
normalised, so a name cannot render reversed or disguise what follows it ("Trojan Source"-style spoofing).

Dropped: the embeddings and overrides U+202A–U+202E, the isolates U+2066–U+2069, and the invisible marks
U+200E, U+200F and U+061C, none of which a Chinese name or address needs.
"""

import re

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def strip_bidi(value):
    """value without bidi controls; non-strings are returned unchanged."""
    return _BIDI.sub("", value) if isinstance(value, str) else value


def clean_name(value):
    """The normal form of a display name or free-text field: bidi controls dropped, outer whitespace trimmed.
    None and "" become ""."""
    return strip_bidi(value or "").strip()
