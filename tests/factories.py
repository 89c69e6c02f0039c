"""Plain create_* helpers with keyword defaults (GOV.UK Notify's tests/app/db.py style)."""

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from backend.db import transaction
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.staff.models import Staff, StaffRole
from backend.staff.service import _hash

PASSWORD = "Test-Passw0rd"
# staffsec slice (issue 10): administrators must use TOTP; create_staff enrols them with this secret and the test
# helpers (tests/helpers.py totp_code) compute the code with pyotp.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_seq = itertools.count(1)


def unique(prefix):
    return f"{prefix}{next(_seq)}"


def create_unit(*, parent=None, name=None, level=None, code=None):
    with transaction():
        if parent is None:
            unit = OrgUnit(parent_id=None, level=level or "province", name=name or unique("省"), path="", depth=0)
        else:
            unit = OrgUnit(
                parent_id=parent.id,
                level=level or parent.child_level,
                name=name or unique("机构"),
                code=code,
                path="",
                depth=parent.depth + 1,
            )
        db.session.add(unit)
        db.session.flush()
        unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    return unit


def create_staff(
    *, unit, roles=("station_staff",), username=None, password=PASSWORD, active=True, must_change=False, totp=None
):
    """A staff account. `totp`: enrol with TOTP_SECRET; by default exactly when a role requires it (administrators)."""
    from backend import pii
    from backend.staff.roles import ADMIN_ROLES
    from backend.staff.totp import _secret_context

    enrol = bool(set(roles) & ADMIN_ROLES) if totp is None else totp
    with transaction():
        staff = Staff(
            username=username or unique("user"),
            full_name=unique("员工"),
            org_unit_id=unit.id,
            password_hash=_hash(password),
            is_active=active,
            must_change_password=must_change,
            role_rows=[StaffRole(role=r) for r in roles],
        )
        db.session.add(staff)
        if enrol:
            db.session.flush()
            staff.totp_secret_sealed = pii.encrypt(TOTP_SECRET, context=_secret_context(staff.id))
            staff.totp_enabled_at = datetime.now(UTC)
    return staff


@dataclass
class World:
    """province > city > county X, county Y (siblings) > stations > grids, plus one account per test role.

    Objects "of unit X" live at station X1 (a station under X).
    """

    units: dict = field(default_factory=dict)
    staff: dict = field(default_factory=dict)
    objects: dict = field(default_factory=dict)

    def __getattr__(self, name):
        for bucket in ("units", "staff", "objects"):
            values = self.__dict__.get(bucket, {})
            if name in values:
                return values[name]
        raise AttributeError(name)


def build_world():
    w = World()
    u = w.units
    u["province"] = create_unit(name=unique("江宁省"))
    u["city"] = create_unit(parent=u["province"], name="秦川市")
    u["x"] = create_unit(parent=u["city"], name="青山县")
    u["y"] = create_unit(parent=u["city"], name="绿水区")
    u["x1"] = create_unit(parent=u["x"], name="青山镇服务站")
    u["x1_grid"] = create_unit(parent=u["x1"], name="青山镇第一网格")
    u["y1"] = create_unit(parent=u["y"], name="滨河街道服务站")
    s = w.staff
    s["staff_x"] = create_staff(unit=u["x"], roles=("station_staff", "center_reviewer"))
    s["staff_y"] = create_staff(unit=u["y"], roles=("station_staff", "center_reviewer"))
    s["supervisor_parent"] = create_staff(unit=u["city"], roles=("supervisor",))
    s["auditor"] = create_staff(unit=u["province"], roles=("auditor",))
    s["sys_admin"] = create_staff(unit=u["province"], roles=("sys_admin",))
    s["security_admin"] = create_staff(unit=u["province"], roles=("security_admin",))
    s["sys_admin_y"] = create_staff(unit=u["y"], roles=("sys_admin",))
    s["security_admin_y"] = create_staff(unit=u["y"], roles=("security_admin",))
    s["target"] = create_staff(unit=u["x1"], roles=("station_staff",))
    return w


def add_objects(w):
    """Objects of unit X that the authorization matrix reaches for: a veteran and an import job at station X1."""
    from backend.db import utcnow
    from backend.veterans.import_files import seal_rejected
    from backend.veterans.models import ImportJob

    w.objects["veteran"] = create_veteran(station=w.x1, grid=w.x1_grid)
    with transaction():
        job = ImportJob(created_by_id=w.staff_x.id, unit_id=w.x.id, filename="x.xlsx", status="done")
        # import slice (issue 11): one rejected row, so its download is reachable
        job.rejections, job.finished_at = [{"row": 2, "reason": "服务站为空"}], utcnow()
        job.content = seal_rejected([(["甲", valid_id_number()] + [None] * 7, "服务站为空")])
        db.session.add(job)
    w.objects["import_job"] = job
    _add_registration_objects(w)
    return w


def _add_registration_objects(w):
    """A submitted registration of a veteran at X1 with a scheduled talk, and a draft for veteran A."""
    from datetime import datetime

    from backend.registration.models import Registration, Talk
    from backend.registration.windows import today_cst
    from tests.registration.helpers import FULL

    year = today_cst().year
    other = create_veteran(station=w.x1)
    with transaction():
        reg = Registration(
            veteran_id=other.id,
            unit_id=other.unit_id,
            year=year,
            status="submitted",
            content=FULL,
            return_reasons={},
            submitted_at=datetime.now(UTC),
            first_submitted_at=datetime.now(UTC),
        )
        draft = Registration(
            veteran_id=w.veteran.id,
            unit_id=w.veteran.unit_id,
            year=year,
            status="draft",
            content=FULL,
            return_reasons={},
        )
        db.session.add_all([reg, draft])
        db.session.flush()
        talk = Talk(
            registration_id=reg.id,
            concern="x",
            scheduled_at=datetime(2099, 1, 1, tzinfo=UTC),
            place="服务站",
            created_by_id=w.staff_x.id,
        )
        db.session.add(talk)
        from backend.registration.attachments import storage_dir
        from backend.registration.models import RegistrationAttachment

        stored = f"{unique('matrix')}.pdf"
        (storage_dir() / stored).write_bytes(b"%PDF-1.4 matrix")
        attachment = RegistrationAttachment(
            registration_id=draft.id,
            section="employment",
            stored_name=stored,
            content_type="application/pdf",
            size=15,
            sha256="0" * 64,
            display_name="a.pdf",
        )
        db.session.add(attachment)
    w.objects.update(registration=reg, talk=talk, attachment=attachment)
    _add_trip(w, year)


def _add_trip(w, year):
    """A planned trip of veteran A leaving today (CST), with A's consent."""
    w.objects["trip"] = create_trip(w.veteran)


def create_trip(veteran, *, status="planned", **content):
    """A trip of `veteran` with their separate consent; content defaults to Japan, leaving today (CST) for 5 days."""
    from datetime import timedelta

    from backend.registration.windows import today_cst
    from backend.travel.models import TravelConsent, Trip
    from backend.travel.service import NOTICE_VERSION

    today = today_cst()
    sealed = {
        "destination": "JP",
        "purpose": "tourism",
        "purpose_note": "",
        "planned_departure": today,
        "planned_return": today + timedelta(days=5),
        **content,
    }
    with transaction():
        consent = TravelConsent(veteran_id=veteran.id, notice_version=NOTICE_VERSION, channel="online")
        db.session.add(consent)
        db.session.flush()
        trip = Trip(
            veteran_id=veteran.id,
            unit_id=veteran.unit_id,
            consent_id=consent.id,
            status=status,
            document_type="passport",
            channel="online",
        )
        trip.seal(sealed)
        db.session.add(trip)
    return trip


_ID_SEQ = itertools.count(1)


def valid_id_number(birth=None, address="320102"):
    """A fresh valid GB 11643 number (unique per test run)."""
    from datetime import date

    from backend.veterans.identity import make_id_number

    n = next(_ID_SEQ)
    birth = birth or date(1970 + n % 30, 1 + n % 12, 1 + n % 28)
    return make_id_number(address, birth, n % 1000)


def valid_mobile():
    return f"139{next(_ID_SEQ):08d}"


def create_veteran(*, station, grid=None, name=None, id_number=None, phone=None, **fields):
    """A veteran built through the service's own validation, bypassing permissions (factory actor sees all)."""
    from backend.veterans.demo import _DemoActor
    from backend.veterans.service import build_veteran

    fields = {
        "name": name or unique("老兵"),
        "id_number": id_number or valid_id_number(),
        "phone": phone if phone is not None else valid_mobile(),
        **fields,
    }
    with transaction():
        return build_veteran(
            actor=_DemoActor(), fields=fields, station_id=station.id, grid_id=grid.id if grid else None
        )


def add_veteran_accounts(w, api_app):
    """WeChat accounts bound to veteran A (w.veteran, at X1) and veteran B (at Y1), with tokens, and a message in
    A's inbox. Returns {"veteran_a": tokens, "veteran_b": tokens}."""
    from backend.accounts.models import WechatAccount
    from backend.inbox.service import post_message
    from miniprogram_api.security import issue_tokens

    w.objects["veteran_b_record"] = create_veteran(station=w.y1)
    tokens = {}
    for principal, veteran in (("veteran_a", w.veteran), ("veteran_b", w.veteran_b_record)):
        with transaction():
            account = WechatAccount(openid=unique("o-"), veteran_id=veteran.id)
            db.session.add(account)
            db.session.flush()
        with api_app.test_request_context():
            tokens[principal] = issue_tokens(account)
    w.objects["message_a"] = post_message(veteran_id=w.veteran.id, kind="system", title="矩阵", body="x")
    from backend.registration.models import Registration
    from backend.registration.windows import today_cst
    from tests.registration.helpers import FULL

    with transaction():
        b = w.veteran_b_record
        db.session.add(
            Registration(
                veteran_id=b.id,
                unit_id=b.unit_id,
                year=today_cst().year,
                status="draft",
                content=FULL,
                return_reasons={},
            )
        )
    return tokens
