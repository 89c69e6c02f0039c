"""Portal pages of the payroll (issue 18, part 3): start, progress, run page, confirm, layouts, failures, card."""

import io

import pytest
from sqlalchemy import select

from backend.extensions import db
from backend.pension.models import BankLayout, PayrollRun
from tests.helpers import portal_as
from tests.pension.payroll_fixtures import checker, inline_jobs, paid_veteran

__all__ = ["inline_jobs"]
pytestmark = pytest.mark.usefixtures("inline_jobs")


def test_start_confirm_export_return_journey(world, portal_app):
    paid_veteran(world, account="6228480000000000017")
    paid_veteran(world, account=None)
    maker = portal_as(portal_app, world.staff_x)
    response = maker.post("/pension/payroll", data={"unit": world.x.id, "month": "2026-03"}, expect=302)
    run = db.session.scalars(select(PayrollRun).order_by(PayrollRun.id.desc())).first()
    assert response.headers["Location"].endswith(f"/pension/payroll/{run.id}")
    page = maker.get(f"/pension/payroll/{run.id}", expect=200).text
    assert (
        "无收款账户" in page and "payroll_confirm" not in page and f"{run.id}/confirm" not in page
    )  # the maker is not offered confirmation
    assert "payroll-progress" in maker.get(f"/pension/payroll/{run.id}", headers={"HX-Request": "1"}, expect=200).text
    assert (
        "已有发放名册" in maker.post("/pension/payroll", data={"unit": world.x.id, "month": "2026-03"}, expect=200).text
    )
    assert db.session.scalar(select(db.func.count()).select_from(PayrollRun)) == 1  # refused: one live run
    maker.post(f"/pension/payroll/{run.id}/confirm", expect=302)
    db.session.refresh(run)
    assert run.state == "ready"
    other = portal_as(portal_app, checker(world))
    assert f"{run.id}/confirm" in other.get(f"/pension/payroll/{run.id}", expect=200).text
    other.post(f"/pension/payroll/{run.id}/confirm", expect=302)
    db.session.refresh(run)
    assert run.state == "confirmed"
    layout = db.session.scalars(select(BankLayout).where(BankLayout.name == "通用CSV")).one()
    assert "payroll-export" in maker.get(f"/pension/payroll/{run.id}/bank", expect=200).text
    assert maker.post(f"/pension/payroll/{run.id}/export", data={"layout": layout.id}, expect=200).data
    upload = {"file": (io.BytesIO("序号,结果,原因\n1,失败,账号有误\n".encode()), "r.csv")}
    maker.post(f"/pension/payroll/{run.id}/returns", data=upload, content_type="multipart/form-data", expect=302)
    failures = maker.get("/pension/payroll/failures", expect=200).text
    assert "账号有误" in failures and "无收款账户" not in failures or "未登记收款账户" in failures
    assert "退役金发放" in maker.get("/", expect=200).text  # the workbench card


def test_scope_on_pages(world, portal_app):
    paid_veteran(world)
    maker = portal_as(portal_app, world.staff_x)
    maker.post("/pension/payroll", data={"unit": world.x.id, "month": "2026-03"}, expect=302)
    run = db.session.scalars(select(PayrollRun)).one()
    outsider = portal_as(portal_app, world.staff_y)
    outsider.get(f"/pension/payroll/{run.id}", expect=404)
    outsider.post(f"/pension/payroll/{run.id}/confirm", expect=404)


def test_layout_pages(world, portal_app):
    admin = portal_as(portal_app, world.sys_admin)
    assert "农商银行定长" in admin.get("/pension/layouts", expect=200).text
    admin.get("/pension/layouts/new", expect=200)
    bad = {"name": "X", "bank": "Y", "format": "fixed", "encoding": "utf-8", "columns": "seq|序号"}
    assert "宽度" in admin.post("/pension/layouts/new", data=bad, expect=422).text
    good = dict(bad, columns="seq|序号|6|right\naccount|账号|20|left", checksum_line="1", active="1")
    admin.post("/pension/layouts/new", data=good, expect=302)
    assert db.session.scalars(select(BankLayout).where(BankLayout.name == "X")).one().columns[1]["width"] == 20
    portal_as(portal_app, world.staff_x).get("/pension/layouts", expect=403)
