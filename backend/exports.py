"""The one writer of spreadsheets: every export builds its workbook here (tests/files/test_exports.py fails when a
module elsewhere writes one itself).

Formula injection: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a
formula by Excel or WPS (or by them after a CSV round trip). Such text is written with a leading apostrophe (`'`,
OWASP's advice) and stored as a string cell, never as a formula: the reader sees the apostrophe and the original
text, and nothing is evaluated. Numbers and dates are untouched. Characters that XML 1.0 cannot carry (control
characters) are dropped instead of failing the whole export.
"""

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value):
    """The value as it is safe to write: text that could start a formula gets a leading apostrophe."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _cell(sheet, value):
    value = escape_cell(value)
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # a string, whatever the text looks like
    return cell


def workbook_bytes(sheets):
    """An .xlsx (write-only mode) as bytes.

    :param sheets: iterable of (title, header, rows); rows is any iterable of sequences.
    """
    book = Workbook(write_only=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title)  # titles are constants of ours
        sheet.append([_cell(sheet, v) for v in header])
        for row in rows:
            sheet.append([_cell(sheet, v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
