"""Excel import: a workbook whose XML declares a DTD or entities (XXE, billion laughs) is refused with 422 before
openpyxl parses it (issue #10), on the service and through the portal."""

import io
import zipfile

import pytest

from backend.veterans import importer
from backend.veterans.importer import ImportFileInvalid, ImportUnsafeFile
from tests.helpers import portal_as
from tests.veterans.test_import import sheet_bytes

EXTERNAL = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
LAUGHS = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'


def _inject(content, part, declaration, encoding="utf-8"):
    """The workbook with `declaration` inserted after the XML declaration of one part (re-encoded if asked)."""
    source, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == part:
                text = data.decode("utf-8")
                head, _, rest = text.partition("?>")
                text = f"{head}?>{declaration}{rest}" if rest else declaration + text
                if encoding != "utf-8":
                    text = text.replace('encoding="UTF-8"', f'encoding="{encoding.upper()}"')
                data = text.encode(encoding)
            target.writestr(info, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "part, declaration, encoding",
    [
        ("xl/worksheets/sheet1.xml", EXTERNAL, "utf-8"),
        ("xl/workbook.xml", LAUGHS, "utf-8"),
        ("[Content_Types].xml", "<!DOCTYPE x>", "utf-8"),
        ("xl/worksheets/sheet1.xml", EXTERNAL, "utf-16"),
    ],
    ids=["xxe-sheet", "laughs-workbook", "bare-doctype", "utf-16"],
)
def test_dtd_in_any_part_is_refused(world, part, declaration, encoding):
    content = _inject(sheet_bytes([["甲", "1", None, None, world.x1.name]]), part, declaration, encoding)
    with pytest.raises(ImportUnsafeFile) as caught:
        importer.start_import(actor=world.staff_x, filename="a.xlsx", content=content)
    assert caught.value.status == 422 and "DTD" in caught.value.message


def test_a_plain_workbook_still_opens(world, monkeypatch):
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    job = importer.start_import(actor=world.staff_x, filename="a.xlsx", content=sheet_bytes([]))
    assert job.total_rows == 0


def test_openpyxl_parses_through_defusedxml():
    import openpyxl

    assert openpyxl.DEFUSEDXML is True


def test_the_portal_shows_the_refusal(portal_app, world):
    content = _inject(sheet_bytes([]), "xl/worksheets/sheet1.xml", EXTERNAL)
    client = portal_as(portal_app, world.staff_x)
    response = client.post("/veterans/import", data={"file": (io.BytesIO(content), "a.xlsx")})
    assert response.status_code == 422
    assert "DTD" in response.get_data(as_text=True)
    assert issubclass(ImportUnsafeFile, ImportFileInvalid)
