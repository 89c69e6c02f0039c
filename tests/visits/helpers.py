"""Shared set-up of the visit tests: a county X campaign over veterans of X1 (station and grid), X2 and Y1."""

from datetime import date

from backend.visits import campaigns
from tests.factories import create_unit, create_veteran

START, END = date(2027, 1, 20), date(2027, 2, 10)


def populate(world):
    """Veterans: two at X1 (one a party member), one in X1's grid, one at a second station X2, one at Y1, and one
    deceased at X1 (never visited)."""
    x2 = create_unit(parent=world.x, name="青山二镇服务站")
    world.units["x2"] = x2
    return {
        "x1_a": create_veteran(station=world.x1, name="张甲", party_member=True),
        "x1_b": create_veteran(station=world.x1, name="李乙"),
        "x1_grid": create_veteran(station=world.x1, grid=world.x1_grid, name="王丙"),
        "x2": create_veteran(station=x2, name="赵丁"),
        "y1": create_veteran(station=world.y1, name="钱戊"),
        "gone": create_veteran(station=world.x1, name="孙己", status="deceased"),
    }


def campaign_of(world, actor=None, unit=None, **kwargs):
    return campaigns.create_campaign(
        actor=actor or world.staff_x,
        unit_id=(unit or world.x).id,
        name=kwargs.pop("name", "春节走访"),
        purpose="春节前走访慰问",
        starts_on=START,
        ends_on=END,
        **kwargs,
    )
