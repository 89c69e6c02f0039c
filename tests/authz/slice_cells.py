"""The cells of the later slices, one dict per capability, gathered here so test_matrix.py stays under the module size
ceiling: each new capability adds its own `<capability>_cells.py` and one line below."""

from tests.authz.archives_cells import ARCHIVES_CELLS  # issue 17, Art. 8
from tests.authz.assessment_cells import ASSESSMENT_CELLS  # issue 20
from tests.authz.booking_cells import BOOKING_CELLS  # bookings slice (issue 14)
from tests.authz.care_assistance_cells import CARE_ASSISTANCE_CELLS  # care slice (issue 16, C3)
from tests.authz.care_contacts_cells import CARE_CONTACTS_CELLS  # care slice (issue 16, C1)
from tests.authz.care_groups_cells import CARE_GROUPS_CELLS  # care slice (issue 16, C4)
from tests.authz.care_visits_cells import CARE_VISITS_CELLS  # care slice (issue 16, C2)
from tests.authz.education_cells import EDUCATION_CELLS  # issue 19
from tests.authz.employment_cells import EMPLOYMENT_CELLS  # issue 19
from tests.authz.feedback_cells import FEEDBACK_CELLS  # issue 20
from tests.authz.honors_cells import HONORS_CELLS  # issue 17, Art. 11
from tests.authz.notify_cells import NOTIFY_CELLS  # notifications slice (issue 13)
from tests.authz.onboarding_cells import ONBOARDING_CELLS  # issue 17, Art. 7
from tests.authz.party_cells import PARTY_CELLS  # issue 19
from tests.authz.pension_cells import PENSION_CELLS  # issue 18
from tests.authz.pii_cells import PII_CELLS  # personal data keys (issue 15)
from tests.authz.training_cells import TRAINING_CELLS  # issue 19

SLICE_CELLS = {
    **NOTIFY_CELLS,
    **BOOKING_CELLS,
    **PII_CELLS,
    **CARE_GROUPS_CELLS,  # care slice (issue 16, C4)
    **CARE_CONTACTS_CELLS,  # care slice (issue 16, C1)
    **CARE_VISITS_CELLS,  # care slice (issue 16, C2)
    **CARE_ASSISTANCE_CELLS,  # care slice (issue 16, C3)
    **ONBOARDING_CELLS,  # issue 17
    **ARCHIVES_CELLS,  # issue 17
    **HONORS_CELLS,  # issue 17
    **PENSION_CELLS,  # issue 18
    **PARTY_CELLS,  # issue 19
    **EDUCATION_CELLS,  # issue 19
    **EMPLOYMENT_CELLS,  # issue 19
    **TRAINING_CELLS,  # issue 19
    **FEEDBACK_CELLS,  # issue 20
    **ASSESSMENT_CELLS,  # issue 20
}
