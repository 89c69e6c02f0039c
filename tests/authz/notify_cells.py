"""notifications slice (issue 13): every notification route's cells, gathered from the per-part cell modules so
test_matrix.py stays under the module size ceiling."""

from tests.authz.notify_compose_cells import NOTIFY_COMPOSE_CELLS
from tests.authz.notify_reports_cells import NOTIFY_REPORTS_CELLS
from tests.authz.notify_templates_cells import NOTIFY_TEMPLATES_CELLS

NOTIFY_CELLS = {**NOTIFY_COMPOSE_CELLS, **NOTIFY_REPORTS_CELLS, **NOTIFY_TEMPLATES_CELLS}
