"""The printable yearly report (PDF): the unit's indicators against last year and the target, its score and rank,
and its children's ranking, rendered from a Jinja template by WeasyPrint. Chinese text is set in Noto Sans CJK SC
(fonts-noto-cjk, found through fontconfig); WeasyPrint embeds the subset of the glyphs used, so the file prints the
same anywhere. Reads only what the dashboard reads (service.dashboard); the download is audited."""

from flask import render_template

from backend.assessment import service
from backend.audit import service as audit_service
from backend.db import transaction


def render_pdf(*, actor, unit_id=None, year=None):
    """(file name, PDF bytes) of the report of a unit in the actor's subtree. :raises OrgUnitNotFound,
    ValidationFailed, PermissionDenied:"""
    import weasyprint  # imported here: only this download needs pango

    board = service.dashboard(actor=actor, unit_id=unit_id, year=year)
    html = render_template("assessment/report.html", board=board, fmt=service.format_value)
    pdf = weasyprint.HTML(string=html).write_pdf()
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
