"""notifications slice (issue 13): the delivery report of a notification, the recipients drill-down (scope), and the
delivery history on the veteran's page."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from backend.extensions import db
from backend.notifications import reports
from tests.authz.notify_reports_cells import make_notification, set_delivery, set_inbox
from tests.factories import create_veteran
from tests.helpers import portal_as

T0 = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def sent(world):
    """Six recipients at X1 and one at Y1 (a system event may reach both) of a notification sent by county X."""
    vets = [create_veteran(station=world.x1, name=f"张{i}") for i in range(6)] + [create_veteran(station=world.y1)]
    n = make_notification(vets, sender_unit=world.x, started_at=T0)
    set_delivery(n, vets[0], status="sent", result="success", msgid="1", sent_at=T0)
    set_delivery(n, vets[1], status="sent", result="refused", msgid="2", sent_at=T0)
    set_delivery(n, vets[2], status="failed", error_code=43101, error_message="user refuse to accept the msg")
    set_delivery(n, vets[3], status="failed", error_code=43101)
    set_delivery(n, vets[4], status="skipped", skip_reason="not_bound")
    set_delivery(n, vets[6], status="failed", error_code=-1)
    # reads: one the same day (18:00 Beijing), one the next day just after midnight Beijing (still the 1st in UTC)
    set_inbox(n, vets[0], read_at=T0 + timedelta(hours=8))
    set_inbox(n, vets[4], read_at=T0 + timedelta(hours=14, minutes=30))
    return n, vets


def test_summary_counts_statuses_results_reads_and_failures(sent):
    n, _ = sent
    report = reports.summary(n)
    assert report["total"] == 7
    assert {k: c for k, _, c in report["statuses"]} == {"queued": 1, "sending": 0, "sent": 2, "failed": 3, "skipped": 1}
    assert [(k, c) for k, _, c in report["skips"]] == [("not_bound", 1)]
    assert {k: c for k, _, c in report["results"]} == {"success": 1, "fail": 0, "refused": 1}
    assert (report["inbox"], report["read"], report["read_rate"]) == (7, 2, 28.6)
    # days in China Standard Time, cumulative
    assert report["read_days"] == [("2026-10-01", 1, 1, 14.3), ("2026-10-02", 1, 2, 28.6)]
    assert report["failures"] == [(43101, "用户未订阅或订阅次数已用完", 2), (-1, "微信系统繁忙", 1)]
    labels = dict((k, label) for k, label, _ in report["statuses"])
    assert labels["skipped"] == "仅站内信" and labels["sent"] == "已推送"


def test_summary_is_a_fixed_number_of_aggregate_queries(sent, world):
    n, _ = sent
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = db.session.get_bind().engine
    reports.summary(n)  # loads the notification's expired attributes once
    event.listen(engine, "before_cursor_execute", count)
    try:
        reports.summary(n)
        small = len(statements)
        more = make_notification([create_veteran(station=world.x1) for _ in range(3)], sender_unit=world.x)
        reports.summary(more)
        statements.clear()
        reports.summary(more)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == small <= 6
    assert all("GROUP BY" in s or "count(" in s.lower() for s in statements)


def test_summary_of_a_draft_has_no_rates(world):
    n = make_notification([create_veteran(station=world.x1)], sender_unit=world.x)
    db.session.execute(db.delete(reports.Delivery).where(reports.Delivery.notification_id == n.id))
    report = reports.summary(n)
    assert report["total"] == 0 and report["failures"] == [] and report["read_days"] == []


def test_recipients_lists_only_the_viewers_scope(sent, world, portal_app):
    n, vets = sent
    page = portal_as(portal_app, world.staff_x).get(f"/notifications/{n.id}/recipients", expect=200).text
    assert all(v.name in page for v in vets[:6]) and vets[6].name not in page
    assert vets[0].phone not in page and vets[0].id_number not in page and vets[0].id_number_masked not in page
    assert "用户未订阅" not in page and "43101" in page and "未绑定微信" in page and "微信已送达" in page
    assert f"/veterans/{vets[0].id}" in page
    city = portal_as(portal_app, world.supervisor_parent).get(f"/notifications/{n.id}/recipients", expect=200).text
    assert vets[6].name in city


def test_recipients_of_another_countys_notification_is_not_found(world, portal_app):
    n = make_notification([create_veteran(station=world.x1)], sender_unit=world.x)
    portal_as(portal_app, world.staff_y).get(f"/notifications/{n.id}/recipients", expect=404)
    portal_as(portal_app, world.staff_y).get("/notifications/999999999/recipients", expect=404)
    portal_as(portal_app, world.sys_admin).get(f"/notifications/{n.id}/recipients", expect=403)


def test_recipients_filters_and_keyset_pages(sent, world):
    n, vets = sent
    F = reports.RecipientFilter
    failed, _ = reports.list_recipients(actor=world.staff_x, notification=n, filters=F(status="failed"))
    assert [r.veteran_id for r in failed] == [vets[2].id, vets[3].id]
    read, _ = reports.list_recipients(actor=world.staff_x, notification=n, filters=F(read="yes"))
    assert {r.veteran_id for r in read} == {vets[0].id, vets[4].id}
    unread, _ = reports.list_recipients(actor=world.supervisor_parent, notification=n, filters=F(read="no"))
    assert len(unread) == 5
    none, _ = reports.list_recipients(actor=world.staff_x, notification=n, filters=F(result="none"))
    assert len(none) == 4
    assert F.parse({"status": "bogus", "result": "x", "read": "1"}) == F()
    seen, after = [], None
    while True:
        rows, after = reports.list_recipients(actor=world.staff_x, notification=n, filters=F(), after=after, limit=4)
        seen += [r.veteran_id for r in rows]
        if after is None:
            break
    assert seen == [v.id for v in vets[:6]]


def test_veteran_page_shows_the_delivery_history_newest_first_with_more(world, portal_app):
    veteran = create_veteran(station=world.x1)
    sent = [make_notification([veteran], sender_unit=world.x, title=f"通知{i:02d}") for i in range(12)]
    set_delivery(sent[-1], veteran, status="sent", result="success", sent_at=T0)
    set_inbox(sent[-1], veteran, read_at=T0 + timedelta(hours=1))
    client = portal_as(portal_app, world.staff_x)
    page = client.get(f"/veterans/{veteran.id}", expect=200).text
    assert "消息送达记录" in page and "通知11" in page and "通知02" in page and "通知01" not in page
    assert page.index("通知11") < page.index("通知10")
    assert "微信已送达" in page and "2026-10-01 11:00" in page and "关爱通知" in page
    rows, more = reports.veteran_history(veteran_id=veteran.id)
    assert len(rows) == 10 and more == rows[-1].delivery_id
    second = client.get(f"/veterans/{veteran.id}?deliveries_before={more}", expect=200).text
    assert "通知01" in second and "通知00" in second and "通知11" not in second
    assert client.get(f"/veterans/{veteran.id}?deliveries_before=99999999999999999999").status_code < 500
