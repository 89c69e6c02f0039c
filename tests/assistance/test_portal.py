"""The portal's assistance pages: list and case in scope only, sealed details for handlers, every view audited, the
steps as forms, opening a case for a veteran."""

from sqlalchemy import func, select

from backend.assistance.models import AssistanceCase
from backend.audit.models import AuditLog
from backend.extensions import db
from tests.assistance.helpers import move_to, new_case, second_approver, veteran_with_account
from tests.factories import create_staff, create_veteran
from tests.helpers import PortalClient


def _as(portal_app, staff):
    client = PortalClient(portal_app)
    client.login(staff)
    return client


def _views(case_id):
    return db.session.scalar(
        select(func.count()).where(AuditLog.action == "assistance.viewed", AuditLog.object_id == str(case_id))
    )


def test_list_shows_only_cases_in_scope(world, portal_app):
    mine = new_case(world)
    y_veteran = create_veteran(station=world.y1)
    from tests.registration.helpers import account_for

    theirs = new_case(world, account_for(y_veteran))
    page = _as(portal_app, world.staff_x).get("/assistance/", expect=200).text
    assert f"case-{mine.id}" in page and f"case-{theirs.id}" not in page
    assert "帮扶援助" in page


def test_another_stations_case_is_404(world, portal_app):
    case = new_case(world)
    client = _as(portal_app, world.staff_y)
    client.get(f"/assistance/{case.id}", expect=404)
    client.post(f"/assistance/{case.id}/review", expect=404)
    assert db.session.get(AssistanceCase, case.id).status == "submitted"


def test_handlers_see_the_description_every_view_audited(world, portal_app):
    case = new_case(world, description="胃癌手术")
    page = _as(portal_app, world.staff_x).get(f"/assistance/{case.id}", expect=200).text
    assert "胃癌手术" in page and _views(case.id) == 1


def test_supervisor_sees_the_case_but_not_its_health_details(world, portal_app):
    case = new_case(world, description="胃癌手术")
    page = _as(portal_app, world.supervisor_parent).get(f"/assistance/{case.id}", expect=200).text
    assert "胃癌手术" not in page and "仅帮扶经办人员可以查看" in page and _views(case.id) == 1


def test_steps_through_the_portal_up_to_closing(world, portal_app):
    case = new_case(world, amount_fen=80_000)
    client = _as(portal_app, world.staff_x)
    client.post(f"/assistance/{case.id}/review", expect=302)
    client.post(f"/assistance/{case.id}/recommend", data={"amount": "800", "notes": "属实"}, expect=302)
    client.post(f"/assistance/{case.id}/approve", data={"amount": "800"}, expect=302)
    client.post(
        f"/assistance/{case.id}/pay",
        data={
            "amount": "800.00",
            "paid_on": "2020-01-02",
            "payment_reference": "P-9",
            "funding_source": "central",
            "budget_year": "2020",
        },
        expect=302,
    )
    client.post(f"/assistance/{case.id}/close", data={"follow_up": "已回访"}, expect=302)
    db.session.expire_all()
    case = db.session.get(AssistanceCase, case.id)
    assert case.status == "closed" and case.paid_amount_fen == 80_000 and case.funding_source == "central"
    page = client.get(f"/assistance/{case.id}", expect=200).text
    assert "已办结" in page and "8,000.00" not in page and "800.00" in page


def test_refused_step_is_a_flash_message_not_an_error_page(world, portal_app):
    case = new_case(world)
    client = _as(portal_app, world.staff_x)
    client.post(f"/assistance/{case.id}/approve", expect=302)
    page = client.get(f"/assistance/{case.id}", expect=200).text
    assert "只有服务站已推荐的申请可以审批" in page


def test_four_eyes_in_the_portal(world, portal_app):
    case = move_to(world, new_case(world, amount_fen=900_000), "recommended")
    first = _as(portal_app, world.staff_x)
    first.post(f"/assistance/{case.id}/approve", data={"amount": "9000"}, expect=302)
    assert "须另一位审批人再次审批" in first.get(f"/assistance/{case.id}").text
    assert 'data-testid="approve-form"' not in first.get(f"/assistance/{case.id}").text
    second = _as(portal_app, second_approver(world))
    second.post(f"/assistance/{case.id}/approve", expect=302)
    db.session.expire_all()
    assert db.session.get(AssistanceCase, case.id).status == "approved"


def test_recent_help_warning_is_shown(world, portal_app):
    _, account = veteran_with_account(world)
    move_to(world, new_case(world, account), "paid")
    case = new_case(world, account)
    page = _as(portal_app, world.staff_x).get(f"/assistance/{case.id}", expect=200).text
    assert 'data-testid="recent-help"' in page and "近12个月内已获帮扶 1 次" in page


def test_open_a_case_for_a_veteran_found_by_name(world, portal_app):
    veteran = create_veteran(station=world.x1, name="帮扶测试甲")
    client = _as(portal_app, create_staff(unit=world.x1, roles=("station_staff",)))
    page = client.post("/assistance/new", data={"q": "帮扶测试"}, expect=200).text
    assert f"veteran={veteran.id}" in page
    answer = client.post(
        "/assistance/new",
        data={"veteran": veteran.id, "category": "family_emergency", "description": "家人重病", "channel": "counter"},
        expect=302,
    )
    case = db.session.scalars(select(AssistanceCase).where(AssistanceCase.veteran_id == veteran.id)).one()
    assert answer.headers["Location"].endswith(f"/assistance/{case.id}") and case.channel == "counter"


def test_open_a_case_for_a_veteran_out_of_scope_is_404(world, portal_app):
    veteran = create_veteran(station=world.y1)
    client = _as(portal_app, world.staff_x)
    data = {"veteran": veteran.id, "category": "other", "description": "x"}
    client.post("/assistance/new", data=data, expect=404)


def test_pending_lists_cases_waiting_for_a_step_with_their_forms(world, portal_app):
    waiting = move_to(world, new_case(world), "approved")
    done = move_to(world, new_case(world), "closed")
    page = _as(portal_app, world.staff_x).get("/assistance/pending", expect=200).text
    assert f"pending-{waiting.id}" in page and f"pending-{done.id}" not in page
    assert f"/assistance/{waiting.id}/pay" in page


def test_proof_download_is_for_handlers_and_audited(world, portal_app):
    from backend.assistance import attachments
    from tests.files import samples

    _, account = veteran_with_account(world)
    case = new_case(world, account)
    proof = attachments.add_attachment(account=account, case_id=case.id, filename="证明.png", data=samples.png())
    url = f"/assistance/{case.id}/attachments/{proof.id}"
    answer = _as(portal_app, world.staff_x).get(url, expect=200)
    assert answer.headers["Content-Disposition"].startswith("attachment;") and answer.data.startswith(b"\x89PNG")
    _as(portal_app, world.supervisor_parent).get(url, expect=403)
    _as(portal_app, world.staff_y).get(url, expect=404)
    downloads = select(func.count()).where(AuditLog.action == "assistance.attachment_download")
    assert db.session.scalar(downloads) == 1
