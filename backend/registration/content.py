"""The registration form, version 1: sections, validation, prefill, and what changed since last year."""

from datetime import date

from backend.errors import ValidationFailed
from backend.names import clean_name
from backend.veterans.identity import normalize_mobile

FORM_VERSION = 1
SECTIONS = {
    "party_life": "参加党组织生活",
    "social_orgs": "参加社团",
    "trips_abroad": "出入境情况",
    "rewards_punishments": "奖惩情况",
    "employment": "就业情况",
    "contact": "联系方式",
    "declaration": "信息真实性声明",
}
EMPLOYMENT = {
    "employed": "在职",
    "self_employed": "自主创业/灵活就业",
    "unemployed": "待业",
    "retired": "退休",
    "other": "其他",
}
REQUIRED = tuple(SECTIONS)


def _text(value, limit, field):
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise ValidationFailed(details={field: f"应为不超过{limit}字的文本"})
    return clean_name(value)


def _bool(value, field):
    if not isinstance(value, bool):
        raise ValidationFailed(details={field: "请选择是或否"})
    return value


def _date(value, field, missing):
    if not value:
        raise ValidationFailed(details={field: missing})
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(details={field: "日期格式应为“年-月-日”，如2026-05-01"}) from None


def _trip(trip, prefix):
    """One trip abroad: a destination and both dates, the return not before the departure. Every problem of the trip
    at once, keyed `<prefix>.destination|from|to`."""
    if not isinstance(trip, dict):
        raise ValidationFailed(details={prefix: "格式有误"})
    errors, dates = {}, {}
    destination = ""
    try:
        destination = _text(trip.get("destination"), 100, f"{prefix}.destination")
        if not destination:
            errors[f"{prefix}.destination"] = "请选择目的地"
    except ValidationFailed as error:
        errors.update(error.details)
    for key, missing in (("from", "请填写出境日期"), ("to", "请填写入境日期")):
        try:
            dates[key] = _date(trip.get(key), f"{prefix}.{key}", missing)
        except ValidationFailed as error:
            errors.update(error.details)
    if len(dates) == 2 and dates["to"] < dates["from"]:
        errors[f"{prefix}.to"] = "入境日期不能早于出境日期"
    if errors:
        raise ValidationFailed(details=errors)
    return {"destination": destination, "from": dates["from"].isoformat(), "to": dates["to"].isoformat()}


def clean_section(name, data):
    """Validate one section's shape; returns the cleaned dict. :raises ValidationFailed:"""
    if not isinstance(data, dict):
        raise ValidationFailed(details={name: "格式有误"})
    if name == "party_life":
        return {
            "participated": _bool(data.get("participated"), f"{name}.participated"),
            "notes": _text(data.get("notes"), 500, f"{name}.notes"),
        }
    if name == "social_orgs":
        orgs = data.get("organizations") or []
        if not isinstance(orgs, list) or len(orgs) > 20:
            raise ValidationFailed(details={f"{name}.organizations": "最多填写20个社团"})
        return {
            "joined": _bool(data.get("joined"), f"{name}.joined"),
            "organizations": [_text(o, 100, f"{name}.organizations") for o in orgs],
        }
    if name == "trips_abroad":
        trips = data.get("trips") or []
        if not isinstance(trips, list) or len(trips) > 50:
            raise ValidationFailed(details={f"{name}.trips": "格式有误"})
        had_trips = _bool(data.get("had_trips"), f"{name}.had_trips")
        cleaned, errors = [], {}
        for index, trip in enumerate(trips):
            try:
                cleaned.append(_trip(trip, f"{name}.trips.{index}"))
            except ValidationFailed as error:
                errors.update(error.details)
        if errors:
            raise ValidationFailed(details=errors)
        return {"had_trips": had_trips, "trips": cleaned}
    if name == "rewards_punishments":
        return {
            "has_any": _bool(data.get("has_any"), f"{name}.has_any"),
            "details": _text(data.get("details"), 1000, f"{name}.details"),
        }
    if name == "employment":
        if data.get("status") not in EMPLOYMENT:
            raise ValidationFailed(details={f"{name}.status": "请选择就业情况"})
        return {"status": data["status"], "employer": _text(data.get("employer"), 100, f"{name}.employer")}
    if name == "contact":
        phone = data.get("phone")
        try:
            phone = normalize_mobile(phone) if phone else ""
        except ValidationFailed as error:  # keyed by the section like every other field
            raise ValidationFailed(details={f"{name}.phone": error.details["phone"]}) from None
        return {
            "phone": phone,
            "address": _text(data.get("address"), 200, f"{name}.address"),
        }
    if name == "declaration":
        return {"agreed": _bool(data.get("agreed"), f"{name}.agreed")}
    raise ValidationFailed(details={name: "未知的登记项"})


def clean_content(content):
    """Clean every section present (a draft may be partial); which sections may change is the service's rule."""
    if not isinstance(content, dict):
        raise ValidationFailed(details={"content": "格式有误"})
    cleaned, errors = {}, {}
    for name, data in content.items():
        if name not in SECTIONS:
            errors[name] = "未知的登记项"
            continue
        try:
            cleaned[name] = clean_section(name, data)
        except ValidationFailed as error:
            errors.update(error.details)
    if errors:
        raise ValidationFailed(details=errors)
    return cleaned


def missing_sections(content):
    """Sections a submission still lacks (the declaration must be agreed), as {section: message}."""
    missing = {name: f"请填写“{label}”" for name, label in SECTIONS.items() if name not in content}
    if "declaration" in content and not content["declaration"].get("agreed"):
        missing["declaration"] = "请确认信息真实"
    return missing


def prefill(last_year_content, veteran, trips=None):
    """Start from last year's approved answers (not the declaration), the record's contact details, the trips
    abroad reported since the start of last year, and the current employment record (backend/employment)."""
    content = {k: v for k, v in (last_year_content or {}).items() if k in SECTIONS and k != "declaration"}
    content["contact"] = {"phone": veteran.phone or "", "address": veteran.address or ""}
    if trips is not None:
        content["trips_abroad"] = {"had_trips": bool(trips), "trips": trips}
    # issue 19: the employment section starts from the current employment record, else last year's answer
    from backend.employment.registration import prefill_section

    employment = prefill_section(veteran.id)
    if employment is not None:
        content["employment"] = employment
    return content


def changed_sections(current, previous):
    """Names of sections whose answers differ from last year's."""
    return [
        name for name in SECTIONS if name != "declaration" and (current or {}).get(name) != (previous or {}).get(name)
    ]
