"""The staff trip list: keyset pages newest first, a bounded scan for sealed filters, scope, and the portal page."""

import pytest

from backend.travel import queries
from tests.factories import create_trip, create_veteran

F = queries.TripFilter


@pytest.fixture
def trips(world):
    x_vet, y_vet = create_veteran(station=world.x1), create_veteran(station=world.y1)
    out = {"x": [], "y": []}
    for i in range(7):
        out["x"].append(create_trip(x_vet, destination="TH" if i % 3 == 0 else "JP"))
        out["y"].append(create_trip(y_vet))
    return out


def _ids(page):
    return [t.id for t, _ in page.rows]


def test_pages_forward_and_back_newest_first_within_scope(world, trips):
    expected = sorted((t.id for t in trips["x"]), reverse=True)
    pages = [queries.trip_page(actor=world.staff_x, filters=F(), limit=3)]
    while pages[-1].next_after:
        pages.append(queries.trip_page(actor=world.staff_x, filters=F(), after=pages[-1].next_after, limit=3))
    assert [i for p in pages for i in _ids(p)] == expected
    assert [len(p.rows) for p in pages] == [3, 3, 1] and pages[0].prev_before is None
    back = queries.trip_page(actor=world.staff_x, filters=F(), before=pages[1].prev_before, limit=3)
    assert _ids(back) == _ids(pages[0]) and back.prev_before is None and back.next_after == pages[0].rows[-1][0].id
    assert all(p.resume is None and p.scanned == 0 for p in pages)
    # A cursor from another county shows only this scope's rows.
    leak = queries.trip_page(actor=world.staff_y, filters=F(), after=max(expected) + 1, limit=50)
    assert set(_ids(leak)) <= {t.id for t in trips["y"]}


def test_sealed_filter_scans_a_bounded_number_of_rows_and_resumes(world, trips):
    thai = sorted((t.id for t in trips["x"] if t.details["destination"] == "TH"), reverse=True)  # 3 of 7
    page = queries.trip_page(actor=world.staff_x, filters=F(destination="TH"), scan_limit=2, limit=50)
    assert page.scanned == 2 and page.resume == {"after": page.next_after}
    found, steps = _ids(page), 0
    while page.resume:
        page = queries.trip_page(actor=world.staff_x, filters=F(destination="TH"), scan_limit=2, **page.resume)
        found += _ids(page)
        steps += 1
    assert found == thai and steps == 3  # 7 rows, 2 examined per request
    full = queries.trip_page(actor=world.staff_x, filters=F(destination="TH"), limit=2)
    assert _ids(full) == thai[:2] and full.resume is None and full.next_after == thai[1]
    rest = queries.trip_page(actor=world.staff_x, filters=F(destination="TH"), after=full.next_after, limit=2)
    assert _ids(rest) == thai[2:] and rest.next_after is None


def test_portal_list_shows_continue_link(world, trips, portal, monkeypatch):
    monkeypatch.setattr(queries, "SCAN_LIMIT", 2)
    portal.login(world.staff_x)
    html = portal.get("/travel/?destination=TH", expect=200).get_data(as_text=True)
    assert "已查找 2 条记录" in html and "继续查找" in html
