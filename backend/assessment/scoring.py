"""Weights and targets → a score per unit, and its rank among its siblings.

Per indicator: achievement = min(value / target, 1), or for lower-is-better indicators (overdue contacts, review and
payment times, no-shows) 1 when value ≤ target else target / value. A figure with nothing to measure (no veterans,
no ratings…) achieves 0. points = weight × achievement; score = Σ points (out of Σ weights, 100 when the weights add
up to 100). Settings: per indicator, the nearest strict ancestor's IndicatorSetting row applies (a unit's own rows
never score the unit itself, only its subtree; siblings thus share one set, their parent's); with none anywhere
above, the registry's defaults. Ranks are competition ranks (1, 2, 2, 4) by score, highest first.
"""

from dataclasses import dataclass

from sqlalchemy import select

from backend.assessment.indicators import BY_CODE, INDICATORS
from backend.assessment.models import IndicatorSetting
from backend.extensions import db


@dataclass(frozen=True)
class Setting:
    code: str
    weight: int
    target: int  # ×1000
    enabled: bool = True
    unit_id: int | None = None  # the unit whose row applies (None: the registry's default)


def ancestor_ids(path):
    """The unit ids on an org_unit path ("/1/7/42/" → [1, 7, 42]), root first."""
    return [int(part) for part in path.strip("/").split("/") if part]


def scoring_chain(unit):
    """The units whose settings may score `unit`: its strict ancestors, root first (never the unit itself)."""
    return ancestor_ids(unit.path)[:-1]


def settings_for(unit, *, own=False):
    """{code: Setting} applying to `unit`: per code the deepest row among its strict ancestors; with own=True the
    unit's own rows too (what the unit configures for its subtree, shown on its settings page)."""
    chain = ancestor_ids(unit.path) if own else scoring_chain(unit)
    depth = {unit_id: i for i, unit_id in enumerate(chain)}
    found = {}
    for row in db.session.scalars(select(IndicatorSetting).where(IndicatorSetting.unit_id.in_(chain))):
        current = found.get(row.code)
        if current is None or depth[row.unit_id] > depth[current.unit_id]:
            found[row.code] = row
    settings = {}
    for indicator in INDICATORS:
        row = found.get(indicator.code)
        if row is None:
            settings[indicator.code] = Setting(indicator.code, indicator.default_weight, indicator.default_target)
        else:
            settings[indicator.code] = Setting(row.code, row.weight, row.target_permille, row.enabled, row.unit_id)
    return settings


def achievement(code, value, target):
    """The share of the target reached, 0..1 (value and target ×1000), or 0 when there is no value."""
    if value is None:
        return 0.0
    if BY_CODE[code].lower_is_better:
        return 1.0 if value <= target else (target / value if value else 1.0)
    if target <= 0:
        return 1.0
    return min(value / target, 1.0)


@dataclass
class Line:
    code: str
    value: int | None
    weight: int
    target: int
    achievement: float
    points: float


def score(values, settings):
    """(total points, [Line]) of one unit from {code: value ×1000 or None} under {code: Setting}."""
    lines = []
    for indicator in INDICATORS:
        setting = settings[indicator.code]
        weight = setting.weight if setting.enabled else 0
        value = values.get(indicator.code)
        reached = achievement(indicator.code, value, setting.target)
        lines.append(Line(indicator.code, value, weight, setting.target, reached, weight * reached))
    return round(sum(line.points for line in lines), 2), lines


def rank(scores):
    """{key: rank} of {key: score} by score, highest first; ties share a rank (1, 2, 2, 4)."""
    ordered = sorted(scores.values(), reverse=True)
    return {key: ordered.index(value) + 1 for key, value in scores.items()}
