"""Import journey in a real browser (issue 11): download the template, upload a sheet with one bad row, watch the
progress bar finish (the job runs in a background thread, as in the embedded setup without a broker), and download
the rejected rows with their reason."""

import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.test_portal_journeys import login
from tests.factories import build_world, unique, valid_id_number
from tests.veterans.test_import import HEADER, sheet_bytes

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def clerk(live):
    _, app = live
    with app.app_context():
        world = build_world()
        good = [unique("导入老兵"), valid_id_number(), None, None, world.x1.name, None, None, "2015-06-01", "是"]
        bad = [unique("错号老兵"), "110105194912310021", None, None, world.x1.name, None, None, None, None]
        return {"username": world.staff_x.username, "sheet": sheet_bytes([good, bad]), "good": good[0], "bad": bad[0]}


def test_template_upload_progress_and_rejected_rows(live, clerk, page, tmp_path, monkeypatch):
    monkeypatch.setattr("backend.veterans.tasks.broker_configured", lambda app: False)  # the embedded runner
    base, _ = live
    login(page, base, clerk["username"])
    page.get_by_role("link", name="退役军人", exact=True).click()
    page.get_by_role("link", name="批量导入").click()

    with page.expect_download() as template:
        page.get_by_test_id("import-template").click()
    assert template.value.suggested_filename == "退役军人导入模板.xlsx"
    book = load_workbook(io.BytesIO(template.value.path().read_bytes()))
    assert [c.value for c in book.worksheets[0][1]] == HEADER and "填写说明" in book.sheetnames

    upload = tmp_path / "名册.xlsx"
    upload.write_bytes(clerk["sheet"])
    page.get_by_label("Excel 表格（.xlsx）").set_input_files(str(upload))
    page.get_by_role("button", name="开始导入").click()
    expect(page.get_by_test_id("import-summary")).to_contain_text("导入完成", timeout=8000)
    expect(page.get_by_test_id("import-progress")).to_have_attribute("value", "100")
    assert "成功 1 行，未导入 1 行" in page.get_by_test_id("import-summary").inner_text()

    with page.expect_download() as rejected:
        page.get_by_test_id("import-rejected-download").click()
    sheet = load_workbook(io.BytesIO(rejected.value.path().read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [*HEADER, "错误原因"] and len(rows) == 2
    assert rows[1][0] == clerk["bad"] and "校验位" in rows[1][-1]
