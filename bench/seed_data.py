"""Deterministic row generators for bench/seed.py: the org tree, veterans, accounts, registrations, trips.

Every generator takes a random.Random made from the --seed, so the same arguments give the same rows (ids, names,
ID numbers, statuses, dates). Ciphertexts differ between runs only by their random AES-GCM nonces, as in production.
Rows are dicts keyed by column name; bench/seed.py writes the columns the table has and refuses a NOT NULL column
without a default that no generator fills. A column added by a later migration gets its generator here.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from backend import pii
from backend.registration.content import FORM_VERSION
from backend.registration.demo import _content as registration_content
from backend.registration.models import CONTENT_CONTEXT
from backend.travel.models import CONTEXT as TRIP_CONTEXT
from backend.veterans.identity import make_id_number
from backend.veterans.models import ID_CONTEXT, PHONE_CONTEXT
from backend.veterans.service import id_index, phone_index

PLACES = "青山绿水秦川石桥滨河城南东湖西岭南塘北原金沙玉泉长宁安平凤鸣龙泉白鹭桃源清溪松林柳营梅岭荷塘"
PLACE_NAMES = [PLACES[i : i + 2] for i in range(0, len(PLACES), 2)]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌海波宁鹏飞云峰东亮林成浩宇晨"
BASE_TIME = datetime(2024, 1, 2, 1, 0, tzinfo=UTC)
# The annual registration mix (issue 12 brief): approved, submitted, returned, draft, none.
REGISTRATION_MIX = (("approved", 0.60), ("submitted", 0.10), ("returned", 0.03), ("draft", 0.05))
TRIP_MIX = (("returned", 0.55), ("planned", 0.2), ("departed", 0.15), ("cancelled", 0.10))
DESTINATIONS = ["泰国", "日本", "新加坡", "马来西亚", "韩国", "法国", "美国", "澳大利亚", "越南", "中国香港"]


@dataclass
class Unit:
    id: int
    parent_id: int | None
    level: str
    name: str
    path: str
    depth: int
    code: str | None = None

    def row(self):
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "level": self.level,
            "name": self.name,
            "code": self.code,
            "path": self.path,
            "depth": self.depth,
            "created_at": BASE_TIME,
        }


@dataclass
class Person:
    """What later tables need of a veteran, kept after its row is written (ciphertexts are not kept)."""

    id: int
    unit_id: int
    unit_path: str
    station: Unit
    phone: str | None
    address: str
    party_member: bool
    registration: str | None  # this year's registration status, None for no registration yet


def tree_shape(units):
    """(cities, counties, stations, grids) for about `units` units, in the proportions of a real province:
    1 > 14 > 130 > 1,200 > 3,600 at 5,000 units."""
    stations = max(1, round((units - 1) * 1200 / 4945))
    counties = max(1, round(stations / 9.23))
    cities = max(1, round(counties / 9.3))
    return cities, counties, stations, 3 * stations


def _place(index):
    name = PLACE_NAMES[index % len(PLACE_NAMES)]
    return name if index < len(PLACE_NAMES) else f"{name}{index // len(PLACE_NAMES) + 1}"


def build_tree(units):
    """The units level by level (ids in creation order, as a setup creates them); returns {level: [Unit]}."""
    cities, counties, stations, grids = tree_shape(units)
    root = Unit(1, None, "province", "江宁省", "/1/", 0, "320000")
    levels = {"province": [root]}
    next_id = 2
    plan = (("city", cities, "市"), ("county", counties, "县"), ("station", stations, "镇退役军人服务站"))
    parents = [root]
    for level, count, suffix in plan + (("grid", grids, "网格"),):
        made, per_parent = [], {}
        for i in range(count):
            parent = parents[i * len(parents) // count]
            k = per_parent[parent.id] = per_parent.get(parent.id, 0) + 1
            name = f"第{k}网格" if level == "grid" else f"{_place(k - 1)}{suffix}"
            code = None
            if level in ("city", "county"):
                code = f"{parent.code[:2]}{k % 100:02d}00" if level == "city" else f"{parent.code[:4]}{k % 100:02d}"
            elif level == "station":
                code = parent.code  # the county's address code, for ID numbers
            made.append(Unit(next_id, parent.id, level, name, f"{parent.path}{next_id}/", parent.depth + 1, code))
            next_id += 1
        levels[level] = parents = made
    return levels


def station_sizes(rng, stations, veterans):
    """Veterans per station: uneven (0.3× to 1.7× the mean), summing exactly to `veterans`."""
    weights = [rng.uniform(0.3, 1.7) for _ in stations]
    total = sum(weights)
    sizes = [int(veterans * w / total) for w in weights]
    for i in range(veterans - sum(sizes)):
        sizes[i % len(sizes)] += 1
    return sizes


class VeteranMaker:
    """Veterans station by station with consecutive ids, as an import leaves them; ID numbers valid and unique."""

    def __init__(self, rng, levels):
        self.rng = rng
        self.grids = {}
        for grid in levels["grid"]:
            self.grids.setdefault(grid.parent_id, []).append(grid)
        self.used = set()
        self.next_id = 1
        self.year = date.today().year

    def _id_number(self, station):
        rng = self.rng
        while True:
            birth = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
            number = make_id_number(station.code or "320101", birth, rng.randrange(1000))
            if number not in self.used:
                self.used.add(number)
                return number, birth

    def make(self, station):
        rng = self.rng
        number, birth = self._id_number(station)
        grid = rng.choice(self.grids[station.id]) if station.id in self.grids and rng.random() < 0.85 else None
        unit = grid or station
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" if rng.random() < 0.9 else None
        address = f"{station.name.removesuffix('退役军人服务站')}{rng.randrange(1, 300)}号"
        party = rng.random() < 0.35
        registration = _pick(rng, REGISTRATION_MIX)
        vid, self.next_id = self.next_id, self.next_id + 1
        created = BASE_TIME + timedelta(seconds=vid)
        row = {
            "id": vid,
            "name": rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2)))),
            "id_number_enc": pii.encrypt(number, context=ID_CONTEXT),
            "id_number_hmac": id_index(number),
            "gender": "M" if int(number[16]) % 2 else "F",
            "birth_date": birth,
            "phone_enc": pii.encrypt(phone, context=PHONE_CONTEXT),
            "phone_hmac": phone_index(phone),
            "address": address,
            "station_id": station.id,
            "grid_id": grid.id if grid else None,
            "unit_id": unit.id,
            "unit_path": unit.path,  # lists slice (issue 12), when the column exists
            "grid_worker": f"网格员{rng.randrange(1, 50)}" if grid else None,
            "placement_date": birth + timedelta(days=365 * 20 + rng.randrange(3000)),
            "party_member": party,
            "status": "active" if rng.random() < 0.97 else rng.choice(("suspended", "transferred", "deceased")),
            "benefits_year": self.year if registration == "approved" else self.year - 1,
            "created_at": created,
            "updated_at": created,
            "version_id": 1,
        }
        row["placement_date"] = min(row["placement_date"], date.today())
        return row, Person(vid, unit.id, unit.path, station, phone, address, party, registration)


def _pick(rng, mix):
    roll, acc = rng.random(), 0.0
    for value, share in mix:
        acc += share
        if roll < acc:
            return value
    return None


def registration_row(rng, person, reg_id, year):
    """This year's registration of one veteran (its status drawn with the veteran), or None (nothing yet)."""
    status = person.registration
    if status is None:
        return None
    content = registration_content(rng, person, year)
    submitted = datetime(year, 1, 5, 2, tzinfo=UTC) + timedelta(days=rng.randrange(60), hours=rng.randrange(8))
    decided = submitted + timedelta(days=rng.randrange(1, 10)) if status in ("approved", "returned") else None
    sent = status != "draft"
    return {
        "id": reg_id,
        "veteran_id": person.id,
        "unit_id": person.unit_id,
        "unit_path": person.unit_path,  # lists slice (issue 12), when the column exists (a trigger also sets it)
        "year": year,
        "status": status,
        "form_version": FORM_VERSION,
        "content_sealed": pii.encrypt_json(content, context=CONTENT_CONTEXT),
        "channel": rng.choice(("online", "online", "onsite")),
        "return_reasons": {"contact": "联系电话无法接通，请核实"} if status == "returned" else {},
        "flagged": False,
        "submitted_at": submitted if sent else None,
        "first_submitted_at": submitted if sent else None,
        "decided_at": decided,
        "created_at": submitted - timedelta(days=1),
        "updated_at": decided or submitted,
        "version_id": 1,
    }


def consent_row(person, consent_id):
    return {
        "id": consent_id,
        "veteran_id": person.id,
        "notice_version": "2025-01",
        "channel": "online",
        "consented_at": BASE_TIME,
    }


def trip_row(rng, person, trip_id, consent_id, today):
    status = _pick(rng, TRIP_MIX)
    departure = today + timedelta(days=rng.randrange(-200, 60))
    if status in ("departed", "returned"):
        departure = min(departure, today - timedelta(days=1))
    planned_return = departure + timedelta(days=rng.randrange(3, 30))
    details = {
        "destination": rng.choice(DESTINATIONS),
        "purpose": rng.choice(("tourism", "family", "business")),
        "purpose_note": "",
        "planned_departure": departure.isoformat(),
        "planned_return": planned_return.isoformat(),
    }
    if status in ("departed", "returned"):
        details["departed_on"] = departure.isoformat()
    if status == "returned":
        details["returned_on"] = min(planned_return, today).isoformat()
    created = datetime.combine(departure - timedelta(days=7), datetime.min.time(), tzinfo=UTC)
    return {
        "id": trip_id,
        "veteran_id": person.id,
        "unit_id": person.unit_id,
        "consent_id": consent_id,
        "status": status,
        "overdue": False,
        "overdue_reminded": False,
        "sealed": pii.encrypt_json(details, context=TRIP_CONTEXT),
        "document_type": rng.choice(("passport", "hk_macau_permit")),
        "channel": rng.choice(("online", "online", "counter")),
        "return_due_on": planned_return,  # jobs slice (issue 12), when the column exists
        "created_at": created,
        "updated_at": created,
    }


def account_row(person, account_id):
    bound = BASE_TIME + timedelta(days=30, seconds=account_id)
    return {
        "id": account_id,
        "openid": f"obench{account_id:022d}",  # 28 characters, like a real openid
        "veteran_id": person.id,
        "token_generation": 1,
        "bind_failures": 0,
        "bound_at": bound,
        "created_at": bound,
    }
