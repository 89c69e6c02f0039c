"""The one writer of spreadsheets: every export builds its workbook here (tests/files/test_exports.py fails when a
module elsewhere writes one itself).

Formula injection: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a
formula by Excel or WPS (or by them after a CSV round trip). Such text is written with a leading apostrophe (`'`,
OWASP's advice) and stored as a string cell, never as a formula: the reader sees the apostrophe and the original
text, and nothing is evaluated. Numbers and dates are untouched. Characters that XML 1.0 cannot carry (control
characters) are dropped instead of failing the whole export.

Two ways out: workbook_bytes() for small books built in a request (an import template, rejected rows), and
write_workbook() for exports of any size: openpyxl's write-only mode (streamed through lxml, which requirements.txt
pins) straight into a file, rows pulled from an iterator, a new sheet every `sheet_rows` rows. Memory stays flat
whatever the row count; the book is never held in memory as bytes.
"""

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_ROWS = 1_048_576


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
    """A small .xlsx (write-only mode) as bytes.

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


def sheet_title(title, number):
    """「<title>」, then 「<title> (2)」, 「<title> (3)」…; Excel allows 31 characters, so the title is cut first."""
    suffix = "" if number == 1 else f" ({number})"
    return title[: 31 - len(suffix)] + suffix


def write_workbook(path, *, title, header, rows, sheet_rows, on_progress=None, progress_every=2000):
    """Stream `rows` into an .xlsx at `path`: the header on every sheet, at most `sheet_rows` data rows per sheet.

    :param rows: an iterator of sequences, consumed once, lazily.
    :param on_progress: called with the number of rows written so far, every `progress_every` rows and at the end.
    :returns: the number of data rows written (every row given: nothing is dropped).
    """
    if not 1 <= sheet_rows < EXCEL_MAX_ROWS:
        raise ValueError("sheet_rows must leave room for the header under Excel's row limit")
    book = Workbook(write_only=True)
    sheet, number, in_sheet, written = None, 0, 0, 0
    try:
        for row in rows:
            if sheet is None or in_sheet >= sheet_rows:
                number += 1
                sheet, in_sheet = book.create_sheet(sheet_title(title, number)), 0
                sheet.append([_cell(sheet, v) for v in header])
            sheet.append([_cell(sheet, v) for v in row])
            in_sheet += 1
            written += 1
            if on_progress and written % progress_every == 0:
                on_progress(written)
    except BaseException:
        _discard(book)
        raise
    if sheet is None:  # no rows: still a valid book with its header
        sheet = book.create_sheet(sheet_title(title, 1))
        sheet.append([_cell(sheet, v) for v in header])
    book.save(path)
    if on_progress:
        on_progress(written)
    return written


def _discard(book):
    """Close the sheets of an abandoned book and delete their temporary files (openpyxl streams each write-only sheet
    to a temporary file until save; left open, the sheet's writer fails noisily when garbage-collected)."""
    for sheet in book.worksheets:
        try:
            if not sheet.closed:
                sheet.close()
            sheet._writer.cleanup()  # APIFRAGILE: openpyxl's WorksheetWriter.cleanup(), the temp file's removal
        except Exception:  # noqa: BLE001, S110 - best effort on a path that is already failing
            pass


# issue 18, part 3: CSV bank files are written (and bank return files read) here too, through the csv module.
def csv_row(values, *, lineterminator="\r\n"):
    """One CSV line (with its line end) of `values`, text escaped like a cell (escape_cell)."""
    import csv

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=lineterminator).writerow(
        [escape_cell(v) if isinstance(v, str) else v for v in values]
    )
    return buffer.getvalue()


class CsvInvalid(ValueError):
    """A CSV text the reader cannot parse (a field over the csv module's limit, a NUL byte)."""


def csv_rows(text):
    """The rows of a CSV text (a list of strings each), read lazily; a broken file raises CsvInvalid."""
    import csv

    try:
        yield from csv.reader(io.StringIO(text))
    except csv.Error as error:
        raise CsvInvalid(str(error)) from None
