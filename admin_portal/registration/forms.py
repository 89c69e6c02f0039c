"""Turning the portal's registration forms into the backend's section dicts (shape only; rules are the service's)."""

from datetime import datetime

from backend.registration.content import SECTIONS
from backend.registration.windows import CST


def _lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def onsite_content(form, existing=None, only=None):
    """The on-site entry form -> registration content (every section, or those in `only`: a returned registration's
    reopened ones). A blank phone keeps the existing one."""
    trips = []
    for line in _lines(form.get("trips")):
        parts = [p.strip() for p in line.replace("，", ",").split(",")]
        trips.append(
            {
                "destination": parts[0],
                "from": parts[1] if len(parts) > 1 else "",
                "to": parts[2] if len(parts) > 2 else "",
            }
        )
    content = {
        "party_life": {"participated": form.get("party_participated") == "1", "notes": form.get("party_notes", "")},
        "social_orgs": {
            "joined": bool(_lines(form.get("organizations"))),
            "organizations": _lines(form.get("organizations")),
        },
        "trips_abroad": {"had_trips": bool(trips), "trips": trips},
        "rewards_punishments": {
            "has_any": bool((form.get("rewards") or "").strip()),
            "details": form.get("rewards", ""),
        },
        "employment": {"status": form.get("employment_status", ""), "employer": form.get("employer", "")},
        "contact": {
            "phone": form.get("phone") or ((existing or {}).get("contact") or {}).get("phone", ""),
            "address": form.get("address", ""),
        },
    }
    if form.get("declaration") == "1":
        content["declaration"] = {"agreed": True}
    return content if only is None else {name: value for name, value in content.items() if name in only}


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
