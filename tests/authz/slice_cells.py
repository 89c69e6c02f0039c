"""The cells of the later slices, one dict per capability, gathered here so test_matrix.py stays under the module size
ceiling: each new capability adds its own `<capability>_cells.py` and one line below."""

from tests.authz.booking_cells import BOOKING_CELLS  # bookings slice (issue 14)
from tests.authz.notify_cells import NOTIFY_CELLS  # notifications slice (issue 13)
from tests.authz.pii_cells import PII_CELLS  # personal data keys (issue 15)

SLICE_CELLS = {**NOTIFY_CELLS, **BOOKING_CELLS, **PII_CELLS}
