"""Issue 10: bidi override characters (U+202A–U+202E, U+2066–U+2069, and the LRM/RLM/ALM marks) are dropped where
names and free text are accepted: veteran records (portal, import, phone), staff, units, registration content,
binding, travel notes, attachment names."""

import io

import pytest
from freezegun import freeze_time

from backend.names import BIDI_CONTROLS, clean_name, strip_bidi
from backend.registration.content import clean_section
from backend.veterans.service import clean_fields
from tests.api.helpers import bound_client, login, phone_code
from tests.factories import create_veteran, valid_id_number, valid_mobile
from tests.files import samples

RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"


def spoof(text):
    return f" {RLO}{text}{PDF}{LRI}{PDI}\u200f "


def test_every_listed_control_is_dropped_and_nothing_else():
    assert all(chr(c) in BIDI_CONTROLS for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
    assert strip_bidi(f"张{BIDI_CONTROLS}三") == "张三"
    assert clean_name(spoof("李四")) == "李四" and clean_name(None) == "" and strip_bidi(5) == 5
    assert clean_name("阿卜杜拉·买买提 (Ａ)") == "阿卜杜拉·买买提 (Ａ)"


def test_veteran_fields_and_registration_text_are_cleaned():
    cleaned = clean_fields({"name": spoof("王五"), "address": spoof("青山路1号"), "grid_worker": spoof("赵六")})
    assert (cleaned["name"], cleaned["address"], cleaned["grid_worker"]) == ("王五", "青山路1号", "赵六")
    employment = clean_section("employment", {"status": "employed", "employer": spoof("青山机械厂")})
    assert employment["employer"] == "青山机械厂"
    orgs = clean_section("social_orgs", {"joined": True, "organizations": [spoof("老兵协会")]})
    assert orgs["organizations"] == ["老兵协会"]


def test_a_veteran_created_through_the_service_is_stored_clean(world):
    veteran = create_veteran(station=world.x1, name=spoof("钱七"))
    assert veteran.name == "钱七"


def test_import_cells_are_cleaned():
    from backend.veterans.importer import _cell

    assert _cell([spoof("孙八")], {"name": 0}, "name") == "孙八"


def test_staff_and_unit_names_are_cleaned(world):
    from backend.orgs.service import create_unit
    from backend.staff.service import create_staff

    staff, _ = create_staff(
        actor=world.security_admin,
        username="bidi-check",
        full_name=spoof("周九"),
        org_unit_id=world.x.id,
        roles=["station_staff"],
    )
    unit = create_unit(actor=world.sys_admin, parent_id=world.x.id, name=spoof("新设服务站"))
    assert (staff.full_name, unit.name) == ("周九", "新设服务站")


def test_binding_ignores_bidi_controls_in_the_typed_name(api_app, fake_wechat, world):
    veteran = create_veteran(station=world.x1, id_number=valid_id_number(), phone=valid_mobile())
    client = login(api_app, fake_wechat, "o-bidi-bind")
    client.post(
        "/v1/auth/bind",
        json={
            "name": spoof(veteran.name),
            "id_number": veteran.id_number,
            "phone_code": phone_code(fake_wechat, veteran.phone),
        },
        expect=200,
    )


@pytest.fixture
def phone(api_app, fake_wechat, world, monkeypatch):
    monkeypatch.setitem(api_app.extensions, "upload_scanner", samples.EicarScanner())
    with freeze_time("2027-02-01 02:00:00"):
        yield bound_client(api_app, fake_wechat, create_veteran(station=world.x1))


def test_phone_address_and_attachment_names_are_cleaned(phone):
    with freeze_time("2027-02-01 02:00:00"):
        me = phone.call("PATCH", "/v1/me", json={"address": spoof("滨河路2号")}, expect=200).get_json()
        body = phone.client.post(
            "/v1/registrations/current/attachments",
            data={"section": "employment", "file": (io.BytesIO(samples.pdf()), f"invoice{RLO}fdp.exe")},
            headers={"Authorization": f"Bearer {phone.token}"},
            content_type="multipart/form-data",
        ).get_json()
    assert me["address"] == "滨河路2号"
    assert body["display_name"] == "invoicefdp.exe.pdf"
