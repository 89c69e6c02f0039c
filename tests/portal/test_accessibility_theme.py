"""a11y slice (issue 11), server side: the 大字版 preference per account, the skip link and collapsible menu in the
layout, and the shared field macro tying labels, hints and errors to their controls."""

import re

from flask import render_template_string
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired

from backend.extensions import db
from tests.helpers import PortalClient

TOGGLE = "/account/preferences/large-text"


def _html_tag(page):
    return re.search(r"<html[^>]*>", page).group(0)


def test_large_text_is_kept_per_account_and_shown_on_every_page(world, portal_app):
    client = PortalClient(portal_app)
    client.login(world.staff_x)
    assert "large-text" not in _html_tag(client.get("/", expect=200).text)

    response = client.post(
        TOGGLE, data={"large_text": "1"}, headers={"Referer": "http://localhost/account/totp"}, expect=302
    )
    assert response.headers["Location"] == "/account/totp"  # back to the page the toggle was pressed on
    db.session.refresh(world.staff_x)
    assert world.staff_x.large_text is True
    page = client.get("/account/totp", expect=200).text
    assert 'class="large-text"' in _html_tag(page)
    assert 'aria-pressed="true"' in page

    other = PortalClient(portal_app)  # another account keeps its own setting
    other.login(world.staff_y)
    assert "large-text" not in _html_tag(other.get("/", expect=200).text)

    client.post(TOGGLE, data={"large_text": "0"}, expect=302)
    db.session.refresh(world.staff_x)
    assert world.staff_x.large_text is False
    assert "large-text" not in _html_tag(client.get("/", expect=200).text)


def test_the_toggle_never_redirects_off_site(world, portal_app):
    client = PortalClient(portal_app)
    client.login(world.staff_x)
    for referrer in ("https://evil.example/x", "http://localhost.evil.example/", "javascript:alert(1)", ""):
        response = client.post(TOGGLE, data={"large_text": "1"}, headers={"Referer": referrer}, expect=302)
        assert response.headers["Location"] == "/", referrer


def test_the_toggle_needs_a_session(portal_app):
    response = portal_app.test_client().post(TOGGLE, data={"large_text": "1"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_large_text_works_during_a_forced_password_change(portal_app, world):
    from tests.factories import create_staff

    staff = create_staff(unit=world.x1, must_change=True)
    client = PortalClient(portal_app)
    client.login(staff)
    response = client.post(
        TOGGLE, data={"large_text": "1"}, headers={"Referer": "http://localhost/account/password"}, expect=302
    )
    assert response.headers["Location"] == "/account/password"
    assert 'class="large-text"' in _html_tag(client.get("/account/password", expect=200).text)


def test_layout_has_skip_link_main_landmark_and_collapsible_menu(world, portal_app):
    client = PortalClient(portal_app)
    client.login(world.staff_x)
    page = client.get("/", expect=200).text
    assert page.index('href="#main"') < page.index('id="app-topbar"')  # the first stop of the keyboard
    assert '<main id="main"' in page
    assert 'data-bs-target="#app-sidebar"' in page and 'class="offcanvas-lg' in page
    assert 'aria-current="page"' in page  # the current section is announced, not only coloured
    anonymous = portal_app.test_client().get("/login").get_data(as_text=True)
    assert '<main id="main"' in anonymous and "app-sidebar" not in anonymous


class _Form(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("姓名", validators=[DataRequired()], description="与身份证一致")
    party = RadioField(
        "是否参加党组织生活", choices=[SelectChoice("1", "是"), SelectChoice("0", "否")], validators=[DataRequired()]
    )
    agree = BooleanField("我已阅读")


def test_field_macro_ties_labels_hints_and_errors(portal_app):
    with portal_app.test_request_context(method="POST", data={}):
        form = _Form()
        form.validate()
        html = render_template_string(
            '{% from "macros/forms.html" import field %}{{ field(form.name) }}{{ field(form.party) }}'
            "{{ field(form.agree) }}",
            form=form,
        )
    assert '<label class="form-label" for="name">' in html
    assert 'aria-describedby="name-error name-hint"' in html and 'id="name-error"' in html
    assert 'id="name-hint"' in html and 'aria-invalid="true"' in html
    # a group of choices is a fieldset named by its legend; each option has its own label
    assert re.search(r'<fieldset class="mb-3"\s+aria-describedby="party-error">\s*<legend', html)
    assert 'for="party-0"' in html and 'for="party-1"' in html
    assert 'class="form-check-input" id="agree"' in html and 'for="agree"' in html
