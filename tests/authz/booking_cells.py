"""bookings slice (issue 14): every booking route's cells, gathered from the per-helper cell modules so
test_matrix.py stays under the module size ceiling (it takes `**BOOKING_CELLS`)."""

from tests.authz.booking_api_cells import BOOKING_API_CELLS
from tests.authz.booking_catalog_cells import BOOKING_CATALOG_CELLS
from tests.authz.booking_counter_cells import BOOKING_COUNTER_CELLS
from tests.authz.booking_figures_cells import BOOKING_FIGURES_CELLS

BOOKING_CELLS = {**BOOKING_API_CELLS, **BOOKING_CATALOG_CELLS, **BOOKING_FIGURES_CELLS, **BOOKING_COUNTER_CELLS}
