"""Demo veterans: 300 with valid ID numbers and mobiles across the demo stations and grids (seeded, repeatable)."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from backend.veterans.identity import make_id_number
from backend.veterans.service import build_veteran

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = (
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子"
    "杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮"
    "政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航"
    "弘"
)
ADDRESS_CODES = ("320102", "320104", "320105", "320106", "320111", "320113", "320114", "320115")


@dataclass(frozen=True)
class _DemoActor:
    id: int | None = None
    scope_path: str = "/"


def load(units, count=300, seed=20260101):
    """Create `count` demo veterans (called inside the demo loader's transaction)."""
    rng = random.Random(seed)
    stations = [u for u in units.values() if u.level == "station"]
    grids = {s.id: [g for g in units.values() if g.parent_id == s.id] for s in stations}
    workers = {
        g.id: rng.choice(SURNAMES) + rng.choice(GIVEN) for gs in grids.values() for g in gs if rng.random() < 0.8
    }
    actor = _DemoActor()
    used = set()
    for _ in range(count):
        birth = date(1975, 1, 1) + timedelta(days=rng.randrange(365 * 25))
        number = make_id_number(rng.choice(ADDRESS_CODES), birth, rng.randrange(1, 999))
        if number in used:
            continue
        used.add(number)
        station = rng.choice(stations)
        grid = rng.choice(grids[station.id]) if rng.random() < 0.9 else None
        fields = {
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else ""),
            "id_number": number,
            "phone": f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}",
            "address": f"{station.name.replace('退役军人服务站', '')}{rng.randrange(1, 200)}号",
            "grid_worker": workers.get(grid.id) if grid else None,
            "placement_date": birth + timedelta(days=365 * 20 + rng.randrange(3000)),
            "party_member": rng.random() < 0.4,
            "status": "active",
        }
        if fields["placement_date"] > date.today():
            fields["placement_date"] = None
        build_veteran(actor=actor, fields=fields, station_id=station.id, grid_id=grid.id if grid else None)
