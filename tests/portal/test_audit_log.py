"""The audit log as the auditor reads it (issue 11, lists slice): names and Chinese labels, object display names
within scope, readable summaries, labelled filters; every action and role code in the code has a label."""

import pathlib
import re
from html.parser import HTMLParser

from backend.audit import display
from backend.audit.models import AuditLog
from backend.audit.service import ACTION_LABELS, record_now
from backend.extensions import db
from backend.registration.models import ACTION_LABELS as REGISTRATION_ACTIONS
from backend.staff import roles
from backend.veterans import service as veterans_service
from backend.veterans.timeline import TRIP_ACTIONS
from tests.factories import create_staff, create_veteran
from tests.helpers import portal_as

BACKEND = pathlib.Path(__file__).resolve().parents[2] / "backend"


def _sources():
    return [(p, p.read_text(encoding="utf-8")) for p in BACKEND.rglob("*.py")]


def test_every_action_code_in_the_code_has_a_chinese_label():
    used = set()
    for path, text in _sources():
        used |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', text))
        used |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)" if', text))
        used |= {
            m for pair in re.findall(r'"([a-z_]+\.[a-z_]+)" if [^\n]* else "([a-z_]+\.[a-z_]+)"', text) for m in pair
        }
        used |= {f"registration.{a}" for a in re.findall(r'timeline\([^)]*action="([a-z_]+)"', text)}
        used |= {
            f"registration.{a}"
            for pair in re.findall(r'timeline\([^)]*action="([a-z_]+)" if [^\n]* else "([a-z_]+)"', text)
            for a in pair
        }
        used |= {f"travel.{a}" for a in re.findall(r'_event\(trip, \w+, "([a-z_]+)"', text)}
        if path.name == "denials.py":
            used |= set(re.findall(r'ACTION = "([a-z_.]+)"', text))
    assert {"staff.login", "registration.talk_cancelled", "travel.reported", "access.denied"} <= used  # grep works
    assert not used - set(ACTION_LABELS), sorted(used - set(ACTION_LABELS))
    # and the timelines: every registration / trip event the code writes has its label too
    timeline_actions = set()
    for _, text in _sources():
        timeline_actions |= set(re.findall(r'timeline\([^)]*action="([a-z_]+)"', text))
        timeline_actions |= {
            a for pair in re.findall(r'action="([a-z_]+)" if [^\n]* else "([a-z_]+)"', text) for a in pair
        }
    assert timeline_actions <= set(REGISTRATION_ACTIONS)
    assert {f"registration.{a}" for a in REGISTRATION_ACTIONS} <= set(ACTION_LABELS)
    trip_actions = {a for _, text in _sources() for a in re.findall(r'_event\(trip, \w+, "([a-z_]+)"', text)}
    trip_actions |= {a for _, text in _sources() for a in re.findall(r'TripEvent\([^)]*action="([a-z_]+)"', text)}
    assert trip_actions and trip_actions <= set(TRIP_ACTIONS)
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in ACTION_LABELS.values())


def test_every_role_code_has_a_chinese_label():
    codes = set(roles.ROLE_PERMISSIONS) | roles.ADMIN_ROLES | roles.BUSINESS_ROLES | set(roles.ROLES)
    assert codes <= set(roles.ROLE_LABELS)
    assert all(re.search(r"[\u4e00-\u9fff]", roles.ROLE_LABELS[c]) for c in codes)
    assert display.role_text("center_reviewer,station_staff") == "服务中心审核员、服务站工作人员"
    assert display.role_text("made_up") == "其他角色"


def _audit_page(portal_app, auditor, query=""):
    return portal_as(portal_app, auditor).get(f"/audit/{query}", expect=200).get_data(as_text=True)


def test_audit_log_reads_names_labels_and_summaries(portal_app, world):
    veteran = create_veteran(station=world.x1, name="审计对象")
    veterans_service.update_veteran(actor=world.staff_x, veteran_id=veteran.id, phone="13912345678")
    veterans_service.reveal_veteran(actor=world.staff_x, veteran_id=veteran.id)
    page = _audit_page(portal_app, world.auditor)
    table = page[page.index('data-testid="audit-table"') :]
    assert world.staff_x.full_name in table and world.staff_x.username not in table
    assert "服务中心审核员" in table and "center_reviewer" not in table
    assert "审计对象" in table and f"veteran {veteran.id}" not in table
    assert "修改了：手机号" in table and "查看完整证件号" in table
    assert veteran.id_number not in page and "13912345678" not in page
    assert '{"' not in table and "&#34;" not in table and "fields" not in table  # no raw JSON


def test_audit_log_filters_by_full_name_and_object_type(portal_app, world):
    veteran = create_veteran(station=world.x1, name="筛选对象")
    veterans_service.update_veteran(actor=world.staff_x, veteran_id=veteran.id, address="新地址1号")
    page = _audit_page(portal_app, world.auditor, f"?actor={world.staff_x.full_name}&object_type=veteran")
    assert "筛选对象" in page
    assert _audit_page(portal_app, world.auditor, "?actor=没有这个人").count("筛选对象") == 0
    assert "筛选对象" in _audit_page(portal_app, world.auditor, f"?actor={world.staff_x.username}")
    _audit_page(portal_app, world.auditor, "?object_type=bogus")  # an unknown type is ignored, not an error


def test_refusals_and_failures_read_in_chinese(portal_app, world):
    record_now(actor=None, action="staff.login", result="failure", details={"reason": "unknown_user"})
    record_now(
        actor=world.staff_y,
        action="access.denied",
        result="denied",
        object_type="veteran",
        object_id=create_veteran(station=world.x1, name="越权目标").id,
        details={
            "asked": "GET veterans.detail",
            "reason": "out_of_scope",
            "endpoint": "veterans.detail",
            "method": "GET",
        },
    )
    page = _audit_page(portal_app, world.auditor)
    assert "用户名不存在" in page and "匿名访问者" in page
    assert "超出数据范围" in page and "查看退役军人" in page and "veterans.detail" not in page


def test_object_names_are_resolved_in_one_batch_and_only_within_the_readers_scope(portal_app, world):
    inside = create_veteran(station=world.y1, name="本区老兵")
    outside = create_veteran(station=world.x1, name="外区老兵")
    for v in (inside, outside):
        record_now(actor=world.staff_y, action="veterans.reveal", object_type="veteran", object_id=v.id)
    rows = db.session.query(AuditLog).filter(AuditLog.action == "veterans.reveal").all()
    county_auditor = create_staff(unit=world.y, roles=("auditor",))
    targets = {line.target for line in display.present(reader=county_auditor, rows=rows)}
    assert "本区老兵" in targets and "外区老兵" not in targets
    assert "退役军人（不在查看范围或已删除）" in targets


class _Labels(HTMLParser):
    def __init__(self):
        super().__init__()
        self.fors, self.controls, self.in_filter = set(), [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method") == "get":
            self.in_filter = True
        if not self.in_filter:
            return
        if tag == "label" and attrs.get("for"):
            self.fors.add(attrs["for"])
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.controls.append(attrs.get("id"))

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_filter = False


def test_every_audit_filter_has_a_label_tied_to_it(portal_app, world):
    parser = _Labels()
    parser.feed(_audit_page(portal_app, world.auditor))
    assert len(parser.controls) >= 7
    assert all(c and c in parser.fors for c in parser.controls), (parser.controls, parser.fors)
