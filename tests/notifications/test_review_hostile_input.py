"""Review of issue 13's compose form: digits str.isdigit() accepts but int() refuses ("²") are a 422, never a 500."""

import pytest

from backend.notifications import recipients
from tests.factories import create_veteran
from tests.helpers import portal_as


@pytest.mark.parametrize(
    "over",
    [
        {"pick": "²"},
        {"pick": "١٢"},
        {"reg_status": "submitted", "reg_year": "²"},
        {"reg_status": "submitted", "reg_year": "٢٠٢٦"},
    ],
)
def test_non_ascii_digits_in_the_compose_form_are_refused_not_a_500(world, portal_app, over):
    create_veteran(station=world.x1)
    data = {"title": "问候", "body": "祝您安康", "use_filter": "1", "unit": str(world.x1.id), **over}
    response = portal_as(portal_app, world.staff_x).post("/notifications/new", data=data)
    assert response.status_code in (302, 422)


def test_scoped_veteran_ids_drops_what_is_not_an_ascii_id(world):
    v = create_veteran(station=world.x1)
    other = create_veteran(station=world.y1)
    ids = [str(v.id), "²", "١", "-1", "0", "9" * 30, str(other.id), None]
    assert recipients.scoped_veteran_ids(world.staff_x, ids) == [v.id]
