"""Exports: the one spreadsheet writer (writer.py), the export kinds each capability registers (registry.py), export
jobs run in Celery (models.py, service.py, tasks.py).

`escape_cell`, `workbook_bytes` and `FORMULA_TRIGGERS` stay importable from here, as when this was one module.
"""

from backend.exports.writer import FORMULA_TRIGGERS, escape_cell, workbook_bytes, write_workbook

__all__ = ["FORMULA_TRIGGERS", "escape_cell", "workbook_bytes", "write_workbook"]
