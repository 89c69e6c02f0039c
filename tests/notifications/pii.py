"""S36: what must never reach WeChat. ID numbers and mobiles (backend.logs patterns) and trip destinations."""

import json

from backend.logs import ID_NUMBER_RE, MOBILE_RE
from backend.travel.countries import DESTINATIONS

# Destinations abroad (and Hong Kong, Macao, Taiwan): a card naming one tells where a veteran is.
PLACES = tuple(name for code, name in DESTINATIONS.items() if code != "CN")


def leaks(payloads):
    """[(kind, match)] for each payload value that looks like an ID number, a mobile or a destination."""
    found = []
    for payload in payloads:
        text = json.dumps(payload, ensure_ascii=False)
        found += [("id_number", m) for m in ID_NUMBER_RE.findall(text)]
        found += [("mobile", m) for m in MOBILE_RE.findall(text)]
        found += [("destination", place) for place in PLACES if place in text]
    return found
