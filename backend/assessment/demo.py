"""Demo data of assessment (issue 20): the province's weights and targets (the registry's defaults, adding up to
100), and the figures of this year and last year computed at once, so the dashboard shows data from the start."""

from backend.assessment.aggregate import aggregate
from backend.assessment.indicators import INDICATORS
from backend.assessment.models import IndicatorSetting
from backend.extensions import db
from backend.registration.windows import today_cst


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
    province = next(unit for unit in units.values() if unit.parent_id is None)
    for indicator in INDICATORS:
        db.session.add(
            IndicatorSetting(
                unit_id=province.id,
                code=indicator.code,
                weight=indicator.default_weight,
                target_permille=indicator.default_target,
            )
        )
    db.session.flush()
    today = today_cst()
    aggregate(today.year - 1, today=today)
    aggregate(today.year, today=today)
