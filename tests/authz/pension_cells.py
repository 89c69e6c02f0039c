"""Authorization matrix cells of the retirement pay pages and GET /pension (issue 18)."""

PENSION_CELLS = {}

from tests.authz.pension_pay_cells import PENSION_PAY_CELLS  # noqa: E402  (part 1: pay, accounts, states, rules)

PENSION_CELLS |= PENSION_PAY_CELLS

from tests.authz.pension_adjust_cells import PENSION_ADJUST_CELLS  # noqa: E402  (part 2: adjustment batches)

PENSION_CELLS |= PENSION_ADJUST_CELLS

from tests.authz.pension_payroll_cells import PENSION_PAYROLL_CELLS  # noqa: E402  (part 3: payroll, layouts, funding)

PENSION_CELLS |= PENSION_PAYROLL_CELLS
