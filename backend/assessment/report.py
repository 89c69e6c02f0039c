"""The printable yearly report (PDF): the unit's indicators against last year and the target, its score and rank,
and its children's ranking, rendered from a Jinja template by WeasyPrint. Chinese text is set in Noto Sans CJK SC
(fonts-noto-cjk, found through fontconfig); WeasyPrint embeds the subset of the glyphs used, so the file prints the
same anywhere. Reads only what the dashboard reads (service.dashboard); the download is audited.

WeasyPrint fetches nothing: the url_fetcher refuses every URL (the template inlines its styles). Rendering is the
costly part, so PDFs are kept per process (at most ASSESSMENT_REPORT_CACHE_ITEMS) by (unit, year, computed_at, the
page's hash): a download of unchanged figures and settings is served from memory; the route is rate limited."""

import hashlib
import threading
from collections import OrderedDict

from flask import render_template

from backend.assessment import service, tasks
from backend.audit import service as audit_service
from backend.db import transaction
from backend.registration.windows import CST

_CACHE = OrderedDict()
_GUARD = threading.Lock()


class FetchRefused(ValueError):
    pass


def refuse_urls(url, *args, **kwargs):
    """WeasyPrint's url_fetcher: no file, network or data URL is ever read while rendering."""
    raise FetchRefused(f"report rendering fetches no URL ({url[:40]!r})")


def _pdf(key, html):
    with _GUARD:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    import weasyprint  # imported here: only this download needs pango
    from PIL import ImageFile

    # WeasyPrint turns on Pillow's truncated-image loading for the whole process at import; the upload checks
    # (backend/uploads.py) must keep refusing truncated images, and the report embeds no uploaded image.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    pdf = weasyprint.HTML(string=html, url_fetcher=refuse_urls).write_pdf()
    with _GUARD:
        _CACHE[key] = pdf
        while len(_CACHE) > max(0, tasks.setting("ASSESSMENT_REPORT_CACHE_ITEMS")):
            _CACHE.popitem(last=False)
    return pdf


def render_pdf(*, actor, unit_id=None, year=None):
    """(file name, PDF bytes) of the report of a unit in the actor's subtree. :raises OrgUnitNotFound,
    ValidationFailed, PermissionDenied:"""
    board = service.dashboard(actor=actor, unit_id=unit_id, year=year)
    computed_cst = board.computed_at.astimezone(CST) if board.computed_at else None
    html = render_template("assessment/report.html", board=board, fmt=service.format_value, computed_cst=computed_cst)
    key = (board.unit.id, board.year, board.computed_at, hashlib.sha256(html.encode()).hexdigest())
    pdf = _pdf(key, html)
    with transaction():
        audit_service.record(
            actor=actor,
            action="assessment.report_download",
            object_type="org_unit",
            object_id=board.unit.id,
            org_path=board.unit.path,
            details={"year": board.year},
        )
    return f"{board.unit.name}-{board.year}年度考核报告.pdf", pdf


def clear_cache():
    with _GUARD:
        _CACHE.clear()
