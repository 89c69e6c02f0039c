"""confirm slice (issue 11): every POST the portal offers either asks first (data-confirm-* read by static/confirm.js)
or is on the allow-list below, with the reason it needs no confirmation.

Enforced from the route map and the rendered pages: a new POST route fails test_every_post_route_is_classified until
it is put in CONFIRMED or NO_CONFIRMATION, and every page of the authorization matrix is rendered for each staff role
of a fixture world and each of its POST forms is checked. A confirmed form names its object: the dialog text is
rendered by the server from the object's display name.
"""

from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask import render_template_string
from sqlalchemy import select

from tests.authz.cells import STAFF
from tests.authz.test_matrix import MATRIX
from tests.factories import add_objects, add_veteran_accounts, create_staff
from tests.helpers import PortalClient

# POST endpoints whose action cannot be undone (or reaches other people): the form, or every one of its submit
# buttons, carries data-confirm-title and data-confirm-body.
CONFIRMED = {
    "registration.approve": "treatment follows; the veteran is notified",
    "registration.bulk_approve": "as approve, for every checked row (the dialog states the count)",
    "registration.return_for_correction": "the veteran is notified",
    "registration.flag": "the veteran is notified of the talk",
    "registration.record_talk": "a held or cancelled talk is final",
    "staff.disable": "ends every session of the account",
    "staff.enable": "gives the account access again",
    "staff.reset_password": "the old password stops working",
    "staff.end_sessions": "logs the person out everywhere",
    "staff.reset_totp": "the authenticator and recovery codes stop working",
    "veterans.unbind": "the veteran's mini program is logged out",
    "veterans.move": "the records move to the new station, the old one loses sight",
    "notifications.call_outcome": "closes the call-list task; it leaves the list",  # notifications slice (issue 13)
    # notifications slice (issue 13): compose and send
    "notifications.submit": "sending starts (or is scheduled) to every recipient; it cannot be recalled",
    "notifications.cancel": "the notification will never be sent",
    "notifications.approve": "sending starts to every recipient",
    "notifications.reject": "the notification will never be sent",
    # bookings slice (issue 14)
    "bookings.catalog_deactivate": "the service stops taking bookings",
    "bookings.catalog_calendar_delete": "the day's slots follow the national calendar again",
    "bookings.counter_no_show": "counts toward a booking block",
    "bookings.counter_cancel": "the veteran is notified at once",
    "bookings.counter_cancel_slot": "every booked veteran is notified at once",
    "bookings.counter_lift_block": "the veteran may book again",
    "keys.rotate": "re-seals every personal value in the background (issue 15)",  # issue 15: personal data keys
    "keys.retire": "the key version stops being usable; its key may be destroyed",
    "care.record_contact": "a contact record is final: it cannot be edited or deleted (care slice, issue 16, C1)",
    "groups.remove_member": "the veteran leaves the group (care slice, issue 16, C4)",
    "visits.record": "a visit is recorded once; its money and gifts count in the funding figures (issue 16, C2)",
    "visits.skip": "marks the visit not visited; it can no longer be recorded (issue 16, C2)",
    # care slice (issue 16, C3): hardship assistance
    "assistance.recommend": "goes to the center for approval; the veteran is notified",
    "assistance.reject": "final; the veteran is told the reason",
    "assistance.approve": "the money is granted (or the first of two approvals); the veteran is notified",
    "assistance.pay": "the payment is recorded for the funding figures; the veteran is notified",
    "assistance.close": "final; the case can no longer change",
    # issue 17, Art. 7: the reception one-stop
    "onboarding.close": "final; the case can no longer change, the onboarding date shows on the veteran's page",
    "onboarding.welcome": "creates the welcome ceremony and completes its step; it cannot be withdrawn",
    # issue 17, Art. 11: honors and ceremonies
    "honors.invite": "every invitee is notified at once; invitations cannot be recalled",
    "honors.chronicle_accept": "the chronicle review is final",
    "honors.chronicle_reject": "the chronicle review is final (a new proposal starts over)",
    # issue 17, Art. 8: personnel archives (every step is in the permanent log)
    "archives.approve": "the lookup may take place; permanent log",
    "archives.reject": "final; permanent log",
    "archives.cancel": "final; permanent log",
    "archives.record_lookup": "the request is done; permanent log",
    "archives.transfer": "the archive leaves; no more requests or uploads",
    "honors.award_new": "an award cannot be deleted; it shows on the veteran's page",
    "archives.intake": "permanent log; an archive is received once",
    "archives.add_items": "item rows cannot be deleted",
    "archives.upload": "a scan cannot be deleted or replaced",
    "archives.inspect": "an inspection cannot be edited; it moves the location's schedule on",
    # issue 18, part 2: adjustment batches
    "pension.adjustment_apply": "appends the new amounts of every veteran in the batch; undone by a compensating batch",
    "pension.adjustment_cancel": "the batch can no longer be applied",
    "pension.adjustment_compensate": "a compensating batch restoring the old amounts (a checker applies it)",
    # issue 18, part 3: payroll runs
    "pension.payroll_confirm": "the run is final; the funding totals are written",
    "pension.payroll_cancel": "the run's number is never used again",
    "pension.payroll_export": "full account numbers leave the system (audited); the first export fixes the file",
    "pension.payroll_return": "marks payments paid or failed; results are not taken back",
    "pension.payroll_failure_fixed": "the failed payment is paid again in the next run",
    # issue 18, part 1: a veteran's pay
    "pension.suspend": "pay stops from the date; the veteran sees the reason",
    "pension.stop": "final: stopped pay cannot be resumed",
    "pension.resume": "pay resumes with the previewed back pay, paid by the next payroll run",
    # issue 19: party members and staff training
    "party.deactivate_branch": "the branch can no longer be chosen",
    "party.remove_membership": "the membership row is deleted (history stays)",
    "party.complete_transfer": "final; inbound: the member moves to the branch, the onboarding step is done",
    "party.cancel_transfer": "final; a cancelled transfer cannot be reopened",
    "party.record_evaluation": "one per member and year; it cannot be edited afterwards",
    "training.clear_responsible": "the unit is flagged as having nobody responsible",
    "training.remove_attendee": "the staff member's hours for the session are dropped",
    # issue 19: education reminders
    "education.send": "the reminder goes to every recipient's inbox; it cannot be recalled",
    "education.chase": "the unacknowledged land on their stations' call lists",
    "assessment.recompute": "rewrites every unit's figures of the year in the background (issue 20)",
    # issue 20: feedback cases
    "feedback.resolve": "the veteran is told the matter is handled; the revisit follows",
    "feedback.revisit": "satisfied or unreachable closes the case; unsatisfied sends it up a level",
}

# POST endpoints that need no confirmation, and why. Keep it short: an action that cannot be undone belongs above.
NO_CONFIRMATION = {
    "auth.login": "signing in",
    "auth.verify": "the second login step",
    "auth.logout": "signing out; sign in again",
    "auth.enrol": "binding one's own authenticator",
    "auth.change_password": "one's own password, typed twice; change it again",
    "auth.large_text": "one's own display preference (大字版); toggle it back",
    "orgs.create_child": "a form filled in on purpose; the unit can be renamed",
    "orgs.rename": "a save; rename again",
    "staff.create": "a form filled in on purpose; the account can be disabled",
    "staff.set_roles": "a save; set the roles again",
    "veterans.search": "a search",
    "veterans.create": "a form filled in on purpose; the record can be edited",
    "veterans.edit": "a save; edit again",
    "veterans.reveal": "read-only; the button says the view is audited",
    "veterans.import_sheet": "an upload filled in on purpose; each row's result is listed and can be corrected",
    "registration.onsite": "a draft save, or a submission that the reviewer can still return",
    "registration.windows_admin": "a save; set the deadline again",
    "travel.record": "a form filled in on purpose; the trip can be corrected or cancelled",
    "travel.note": "appends a follow-up note",
    # exports slice (issue 12): an export only reads; the job is listed under 我的导出 and its file expires
    "travel.export": "queues a read-only export job",
    "registration.figures_export": "queues a read-only export job",
    "veterans.export": "queues a read-only export job",
    "notifications.create": "a draft save; nothing is sent until the preview's confirmed send",
    "notifications.edit": "a draft save; nothing is sent until the preview's confirmed send",
    # notifications slice (issue 13): the call list and veteran tags
    "notifications.call_reveal": "read-only; the number is shown for that task only and the view is audited",
    "veterans.set_tags": "a save; edit the tags again",
    "notifications.templates_edit": "a preview, or a save of a new version; earlier versions are kept, save again",
    # bookings slice (issue 14)
    "bookings.catalog_defaults": "adds the usual services; each can be edited or deactivated",
    # care slice (issue 16, C1): regular contact
    "care.update_plan": "a save; change the attention flag or the assignee again",
    "care.policy": "a save; set the intervals again (plans are recomputed)",
    "care.notes": "read-only; the page says the view is audited",
    "bookings.catalog_new": "a form filled in on purpose; the service can be edited or deactivated",
    # care slice (issue 16, C4): self-service groups and the funding export
    "groups.new": "a form filled in on purpose; leader and members can be changed",
    "groups.set_leader": "a save; choose the leader again",
    "groups.add_member": "a member can be taken out again",
    "groups.log_activity": "a form filled in on purpose; an activity record",
    "funding.export": "queues an export of one's own (我的导出)",
    # care slice (issue 16, C2): visits and condolences
    "visits.new": "a form filled in on purpose; visits are planned tasks, nothing reaches the veterans",
    "visits.assign": "a save; assign the planned visits again",
    "visits.upload": "an upload filled in on purpose; the file passes the upload checks",
    "bookings.catalog_edit": "a save; bookings are never dropped, misfits are listed for the station",
    "bookings.catalog_calendar": "a save; edit or delete the day again, bookings are never dropped",
    "bookings.counter_check_in": "the veteran is at the counter; completion follows",
    "bookings.counter_complete": "records the service with a note",
    "bookings.counter_book": "a search, or a booking the veteran or the station can cancel",
    # care slice (issue 16, C3): hardship assistance
    "assistance.new": "a search, or a request the station reviews next (it can be rejected)",
    "assistance.start_review": "takes the case up for review; the next steps decide",
    # issue 17, Art. 7: the reception one-stop
    "onboarding.new": "a search, or a case whose steps are then worked one by one",
    "onboarding.set_state": "a step's state; a step done by mistake goes back with a note (kept in the history)",
    "onboarding.coordination": "a save; record the coordination again",
    "onboarding.upload": "an upload filled in on purpose; the file passes the upload checks",
    # issue 17, Art. 11: honors and ceremonies
    "honors.ceremony_new": "a form filled in on purpose; nothing reaches veterans until the confirmed invitation",
    "honors.record_reply": "a reply taken by phone; record it again to change it",
    "honors.award_search": "a search (POSTed: an ID number stays out of URLs)",
    "honors.invite_search": "a search (POSTed: an ID number stays out of URLs)",
    "honors.chronicle_new": "a search, or a proposal the center reviews (it can be rejected)",
    # issue 17, Art. 8: personnel archives
    "archives.file_request": "a request the center approves or rejects next (it can be cancelled)",
    "archives.location_new": "a form filled in on purpose; the location can be deactivated",
    "archives.location_edit": "a save; set the interval again",
    # issue 18, part 2: adjustment batches
    "pension.adjustment_new": "computes a preview only; nothing changes until another person applies it",
    "pension.adjustment_preview": "recomputes the preview only; nothing changes until another person applies it",
    "pension.adjustment_export": "queues a read-only export job",
    "pension.payroll_index": "starts computing a run; nothing is paid until another person confirms it (cancellable)",
    "pension.layout_edit": "a save; runs already exported keep their own copy of the layout",
    "pension.funding_export": "queues an export of one's own (我的导出)",
    # issue 18, part 1: a veteran's pay
    "pension.reveal_account": "read-only; the button says the view is audited",
    "pension.set_amount": "appends a dated amount; history keeps every row, a correction is another row",
    "pension.set_account": "a save; set the account again",
    "pension.set_category": "a save; set the category again",
    "pension.start": "a form filled in on purpose; nothing is paid until a confirmed payroll run",
    "pension.rule_edit": "a save; edit the rule again",
    # issue 19: party members and staff training
    "party.create_branch": "a form filled in on purpose; the branch can be deactivated",
    "party.set_membership": "a save; set the membership again",
    "party.record_transfer": "a form filled in on purpose; the transfer can be cancelled",
    "training.edit_responsible": "a save; set or clear it again",
    "training.new_session": "a form filled in on purpose; attendees are added next",
    "training.add_attendee": "a save; the attendee can be removed",
    # issue 19: education reminders and employment
    "education.create": "a draft; sending is confirmed on its page",
    "education.create_session": "a form filled in on purpose; attendance is recorded next",
    "education.record_attendance": "a save; record the veteran again to correct it",
    "employment.set_status": "a save; the history keeps the previous status, set it again to correct",
    "employment.record_support": "a form filled in on purpose; its outcome is updated later",
    "employment.set_outcome": "a save; set the outcome again",
    "employment.record_role": "a form filled in on purpose",
    "employment.record_activity": "a form filled in on purpose",
    # issue 20: assessment
    "assessment.settings": "a save of weights and targets; they can be changed again at any time",
    "assessment.export": "queues an export of one's own (我的导出)",
    # issue 20: feedback cases
    "feedback.assign": "a save; assign the case again",
    "feedback.contact": "appends a note of the contact with the veteran",
}


def _post_endpoints(portal_app):
    return {rule.endpoint for rule in portal_app.url_map.iter_rules() if "POST" in rule.methods}


def test_every_post_route_is_classified(portal_app):
    posts = _post_endpoints(portal_app)
    unclassified = posts - set(CONFIRMED) - set(NO_CONFIRMATION)
    assert not unclassified, (
        f"POST routes neither confirmed nor allow-listed (tests/portal/test_confirmations.py): {sorted(unclassified)}"
    )
    assert not set(CONFIRMED) & set(NO_CONFIRMATION)
    stale = (set(CONFIRMED) | set(NO_CONFIRMATION)) - posts
    assert not stale, f"entries for POST routes that no longer exist: {sorted(stale)}"


class _Forms(HTMLParser):
    """Every <form> of a page with its attributes and its submit buttons' attributes."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._open = [], None

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._open = {"attrs": attrs, "submits": []}
            self.forms.append(self._open)
        elif self._open is not None and (
            (tag == "button" and attrs.get("type", "submit") == "submit")
            or (tag == "input" and attrs.get("type") in ("submit", "image"))
        ):
            self._open["submits"].append(attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def post_forms(html):
    parser = _Forms()
    parser.feed(html)
    return [f for f in parser.forms if f["attrs"].get("method", "get").lower() == "post"]


def _asks(attrs):
    return bool(attrs.get("data-confirm-title", "").strip() and attrs.get("data-confirm-body", "").strip())


def is_confirmed(form):
    """The form asks, or each of its submit buttons does (a button's attributes win over the form's)."""
    return _asks(form["attrs"]) or bool(form["submits"]) and all(_asks(s) for s in form["submits"])


def _endpoint(portal_app, form, page_url):
    action = form["attrs"].get("action") or page_url
    path = urlsplit(action).path
    adapter = portal_app.url_map.bind("localhost")
    return adapter.match(path, method="POST")[0]


def _world_pages(world, api_app):
    """(principal, url) of every HTML page of the authorization matrix each staff role may open, on a world where
    each confirmed action is on offer: a submission with a scheduled talk, a bound veteran, a disabled account."""
    add_objects(world)
    add_veteran_accounts(world, api_app)
    disabled = create_staff(unit=world.x1, roles=("station_staff",), active=False)
    pages = [("security_admin", f"/staff/{disabled.id}")]
    # issue 20: recomputing the figures is offered to a province department's supervisor only
    world.staff["supervisor_province"] = create_staff(unit=world.province, roles=("supervisor",))
    pages.append(("supervisor_province", "/assessment/"))
    for (app_name, _endpoint_name, method), cell in MATRIX.items():
        if app_name != "portal" or method != "GET":
            continue
        url = cell.url(world) if callable(cell.url) else cell.url
        pages += [(principal, url) for principal in cell.allowed if principal in STAFF]
    return pages


def test_every_post_form_on_every_page_asks_or_is_allowed(world, portal_app, api_app):
    offered, problems = set(), []
    clients = {}
    for principal, url in _world_pages(world, api_app):
        if principal not in clients:
            clients[principal] = PortalClient(portal_app)
            clients[principal].login(getattr(world, principal))
        response = clients[principal].get(url)
        if response.status_code >= 500:
            problems.append(f"{url} ({principal}): {response.status_code}, its forms could not be checked")
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for form in post_forms(response.get_data(as_text=True)):
            endpoint = _endpoint(portal_app, form, url)
            offered.add(endpoint)
            if endpoint in CONFIRMED and not is_confirmed(form):
                problems.append(f"{url} ({principal}): the form for {endpoint} does not ask for confirmation")
            elif endpoint not in CONFIRMED and endpoint not in NO_CONFIRMATION:
                problems.append(f"{url} ({principal}): {endpoint} is neither confirmed nor allow-listed")
    assert not problems, "\n".join(problems)
    assert set(CONFIRMED) <= offered, f"confirmed actions no page offered: {sorted(set(CONFIRMED) - offered)}"


def _registration_page(world, portal_app):
    add_objects(world)
    client = PortalClient(portal_app)
    client.login(world.staff_x)
    return client


def test_the_dialog_names_the_object_and_the_consequence(world, portal_app):
    client = _registration_page(world, portal_app)
    reg = world.registration
    html = client.get(f"/registration/{reg.id}", expect=200).get_data(as_text=True)
    approve = next(f for f in post_forms(html) if f["attrs"]["action"].endswith("/approve"))["attrs"]
    assert approve["data-confirm-body"].startswith(f"确认通过 {reg.veteran.name} 的 {reg.year} 年度确认？")
    assert "落实相关待遇" in approve["data-confirm-body"]
    assert approve["data-confirm-ok"] == "确认通过"

    html = client.get(f"/registration/?unit={world.x.id}", expect=200).get_data(as_text=True)
    bulk = next(f for f in post_forms(html) if f["attrs"]["action"].endswith("/bulk-approve"))["attrs"]
    assert "{count}" in bulk["data-confirm-body"]  # the count is the checked boxes, counted in the browser
    assert bulk["data-confirm-count-from"] == "input[name=item]:checked"
    assert bulk["data-confirm-empty"]


def test_the_script_is_served_from_the_portal_without_inline_code(world, portal_app):
    client = _registration_page(world, portal_app)
    response = client.get(f"/registration/{world.registration.id}", expect=200)
    html = response.get_data(as_text=True)
    assert '<script src="/static/confirm.js"></script>' in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert " onsubmit=" not in html and " onclick=" not in html
    script = client.get("/static/confirm.js", expect=200)
    assert "data-confirm-" in script.get_data(as_text=True)
    script.close()


def test_without_javascript_the_action_still_works(world, portal_app):
    """The confirmation is the browser's; a plain POST (no JavaScript) is judged by the same server rules."""
    from backend.extensions import db
    from backend.registration.models import Registration

    client = _registration_page(world, portal_app)
    reg = world.registration
    client.post(f"/registration/{reg.id}/approve", data={"version": reg.version_id}, expect=302)
    assert db.session.scalar(select(Registration.status).where(Registration.id == reg.id)) == "approved"


def test_the_macro_escapes_what_it_is_given(portal_app):
    with portal_app.test_request_context():
        html = render_template_string(
            '{% from "macros/confirm.html" import confirm_attrs %}'
            '<form method="post" {{ confirm_attrs(t, b) }}></form>',
            t='确认"><script>x</script>',
            b="<b>张三</b> & {count}",
        )
    form = post_forms(html)[0]["attrs"]
    assert "<script>" not in html and form["data-confirm-title"] == '确认"><script>x</script>'
    assert form["data-confirm-body"] == "<b>张三</b> & {count}"


def test_the_checker_flags_a_form_that_does_not_ask():
    plain = '<form method="post" action="/x"><button>去</button></form>'
    asks = 'data-confirm-title="t" data-confirm-body="b"'
    assert not is_confirmed(post_forms(plain)[0])
    assert is_confirmed(post_forms(f'<form method="post" {asks}><button>去</button></form>')[0])
    both = f'<form method="post"><button {asks}>一</button><button {asks}>二</button></form>'
    assert is_confirmed(post_forms(both)[0])
    one = f'<form method="post"><button {asks}>一</button><button type="submit">二</button></form>'
    assert not is_confirmed(post_forms(one)[0])
    assert not post_forms('<form method="get" action="/x"></form>')
