"""Turning the portal's registration forms into the backend's section dicts (shape only; rules are the service's)."""

import re
from datetime import datetime
from itertools import zip_longest

from backend.registration.content import SECTIONS
from backend.registration.windows import CST
from backend.travel.countries import DESTINATIONS

TRIP_ROWS = 3  # rows offered at least: the form works as a fixed set of rows without JavaScript
TRIP_FIELDS = ("destination", "from", "to")
LOCKED_STATUSES = ("submitted", "approved")  # never offered as an editable form
_CHOICE = {"1": True, "0": False}
# Error keys of the service (section or section.field) -> the id of the form control the message is shown beside.
FIELD_OF = {
    "party_life": "party_participated",
    "party_life.participated": "party_participated",
    "party_life.notes": "party_notes",
    "social_orgs": "organizations",
    "social_orgs.joined": "organizations",
    "social_orgs.organizations": "organizations",
    "trips_abroad": "trips",
    "trips_abroad.had_trips": "trips",
    "trips_abroad.trips": "trips",
    "rewards_punishments": "rewards",
    "rewards_punishments.has_any": "rewards",
    "rewards_punishments.details": "rewards",
    "employment": "employment_status",
    "employment.status": "employment_status",
    "employment.employer": "employer",
    "contact": "address",
    "contact.phone": "phone",
    "contact.address": "address",
    "declaration": "declaration",
    "declaration.agreed": "declaration",
}
SECTION_OF = {
    "party_participated": "party_life",
    "party_notes": "party_life",
    "organizations": "social_orgs",
    "trips": "trips_abroad",
    "rewards": "rewards_punishments",
    "employment_status": "employment",
    "employer": "employment",
    "phone": "contact",
    "address": "contact",
    "declaration": "declaration",
}
_TRIP_KEY = re.compile(r"^trips_abroad\.trips\.(\d+)(?:\.(destination|from|to))?$")


def _lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _pad(rows):
    blank = {key: "" for key in TRIP_FIELDS}
    return rows + [dict(blank) for _ in range(max(TRIP_ROWS - len(rows), 1 if len(rows) >= TRIP_ROWS else 0))]


def destination_choices(rows):
    """The country list, plus any destination already on file that is not in it (an older answer is shown as it is,
    never silently replaced)."""
    names = list(DESTINATIONS.values())
    return names + sorted(
        {row["destination"] for row in rows if row["destination"] and row["destination"] not in names}
    )


def values_from_content(content):
    """The on-site form's values from the saved (or prefilled) answers. A choice never answered stays unpicked."""
    party = content.get("party_life") or {}
    rewards = content.get("rewards_punishments") or {}
    employment = content.get("employment") or {}
    trips = (content.get("trips_abroad") or {}).get("trips") or []
    return {
        "party_participated": {True: "1", False: "0"}.get(party.get("participated"), ""),
        "party_notes": party.get("notes", ""),
        "organizations": "\n".join((content.get("social_orgs") or {}).get("organizations") or []),
        "trips": _pad([{key: str(trip.get(key) or "") for key in TRIP_FIELDS} for trip in trips]),
        "rewards": rewards.get("details", "") if rewards.get("has_any") else "",
        "employment_status": employment.get("status", ""),
        "employer": employment.get("employer", ""),
        "phone": "",
        "address": (content.get("contact") or {}).get("address", ""),
        "declaration": False,
    }


def values_from_form(form):
    """The on-site form's values exactly as posted, to show them again beside the errors."""
    columns = [form.getlist(f"trip_{key}") for key in TRIP_FIELDS]
    rows = [dict(zip(TRIP_FIELDS, cells, strict=True)) for cells in zip_longest(*columns, fillvalue="")]
    values = {name: form.get(name, "") for name in FIELD_OF.values() if name not in ("trips", "declaration")}
    return {**values, "trips": _pad(rows), "declaration": form.get("declaration") == "1"}


def kept_values(form, content, only=None):
    """The values to show again after an error: as posted, except the sections a return did not reopen (their
    controls are disabled, so not posted), shown from the saved answers."""
    posted = values_from_form(form)
    if only is None:
        return posted
    saved = values_from_content(content)
    return {name: posted[name] if SECTION_OF[name] in only else saved[name] for name in saved}


def onsite_content(form, *, existing, phone_on_file, submitting, only=None):
    """The on-site entry form -> (registration content, {trip index: form row}). Every section, or those in `only` (a
    returned registration's reopened ones). A destination is one of the list or one already in `existing`. An unpicked
    choice is no answer: left out of a draft, sent as None on a submission so the service names it. A blank phone
    keeps `phone_on_file`; an all-blank trip row is no trip."""
    values, organizations = values_from_form(form), _lines(form.get("organizations"))
    allowed = set(destination_choices(values_from_content(existing)["trips"]))
    trips, row_of = [], {}
    for row, cells in enumerate(values["trips"]):
        if any(cells[key].strip() for key in TRIP_FIELDS):
            row_of[len(trips)] = row
            destination = cells["destination"].strip()
            trips.append({**cells, "destination": destination if destination in allowed else ""})
    content = {
        "social_orgs": {"joined": bool(organizations), "organizations": organizations},
        "trips_abroad": {"had_trips": bool(trips), "trips": trips},
        "rewards_punishments": {"has_any": bool(values["rewards"].strip()), "details": values["rewards"]},
        "contact": {"phone": values["phone"].strip() or phone_on_file or "", "address": values["address"]},
        "declaration": {"agreed": values["declaration"]},
    }
    participated = _CHOICE.get(values["party_participated"])
    if participated is not None or values["party_notes"].strip() or submitting:
        content["party_life"] = {"participated": participated, "notes": values["party_notes"]}
    if values["employment_status"] or values["employer"].strip() or submitting:
        content["employment"] = {"status": values["employment_status"], "employer": values["employer"]}
    content = content if only is None else {name: value for name, value in content.items() if name in only}
    return content, row_of


def place_errors(details, row_of):
    """A service error's details -> ({control id: message}, whether some could not be placed beside a control)."""
    placed, stray = {}, False
    for key, message in (details or {}).items():
        match = _TRIP_KEY.match(str(key))
        if match:
            row = row_of.get(int(match.group(1)), 0)
            field = f"trip-{row}-{match.group(2) or 'destination'}"
        else:
            field = FIELD_OF.get(str(key))
        if field is None or not isinstance(message, str):
            stray = True
        else:
            placed.setdefault(field, message)
    return placed, stray


def return_reasons(form):
    return {name: form.get(f"reason_{name}", "") for name in SECTIONS}


def parse_local_datetime(value):
    """<input type=datetime-local> in China Standard Time -> aware datetime, or None."""
    try:
        return datetime.strptime(value or "", "%Y-%m-%dT%H:%M").replace(tzinfo=CST)
    except ValueError:
        return None


def bulk_items(values):
    items = []
    for value in values:
        try:
            reg_id, version = value.split(":")
            items.append((int(reg_id), int(version)))
        except ValueError:
            continue
    return items
