"""The branch's yearly evaluation opinion (评定意见) of a member, with the branch's document (PDF/JPEG/PNG through the
backend/uploads.py checks, stored under a server-made name, downloads audited). One per veteran and year: a second
one is refused (party.evaluation_exists); the recorded one stands."""

import secrets

from sqlalchemy import select

from backend import uploads
from backend.db import transaction
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.scope import get_scoped, require_permission
from backend.party.models import OVERALL, RATINGS, PartyEvaluation, PartyMembership
from backend.party.service import NotAMember, audit, get_veteran
from backend.registration.attachments import _display_name, storage_dir

RATING_LABELS = {"good": "好", "fair": "一般", "poor": "差"}
OVERALL_LABELS = {"excellent": "优秀", "qualified": "合格", "basically_qualified": "基本合格", "unqualified": "不合格"}
OPINION_MAX = 2000


class EvaluationExists(RuleViolation):
    code = "party.evaluation_exists"
    message = "该党员本年度的评定意见已登记，每人每年一份"


class EvaluationNotFound(NotFound):
    code = "party.evaluation_not_found"
    message = "未找到该评定意见"


class DocumentRejected(ValidationFailed):
    code = "party.document_rejected"
    message = "仅支持 JPG、PNG 图片或 PDF 文件，单个不超过5MB"


def _clean(year, life, dues, conduct, overall, opinion):
    errors = {}
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        errors["year"] = "请填写评定年度"
    for field, value in (("life", life), ("dues", dues), ("conduct", conduct)):
        if value not in RATINGS:
            errors[field] = "请选择评价"
    if overall not in OVERALL:
        errors["overall"] = "请选择总体评定"
    opinion = (opinion or "").strip()
    if not opinion:
        errors["opinion"] = "请填写评定意见"
    elif len(opinion) > OPINION_MAX:
        errors["opinion"] = f"评定意见不超过{OPINION_MAX}字"
    if errors:
        raise ValidationFailed(details=errors)
    return opinion


def record_evaluation(*, actor, veteran_id, year, life, dues, conduct, overall, opinion, filename=None, data=None):
    """Record a member's evaluation for `year` with the branch's document (optional). Returns the evaluation.

    :raises ValidationFailed, DocumentRejected, NotAMember, EvaluationExists, VeteranNotFound
    """
    opinion = _clean(year, life, dues, conduct, overall, opinion)
    content_type = path = None
    if data:
        try:
            content_type, data = uploads.inspect_upload(data)  # before any write: nothing is stored on refusal
        except uploads.Rejected as refusal:
            raise DocumentRejected(refusal.message, details={"document": refusal.message}) from None
        stored_name = secrets.token_hex(16) + uploads.extension(content_type)
        path = storage_dir() / stored_name
    try:
        with transaction():
            veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="party.manage", lock=True)
            membership = db.session.get(PartyMembership, veteran.id)
            if membership is None:
                raise NotAMember()
            if db.session.scalar(
                select(PartyEvaluation.id).where(PartyEvaluation.veteran_id == veteran.id, PartyEvaluation.year == year)
            ):
                raise EvaluationExists(details={"year": year})
            evaluation = PartyEvaluation(
                veteran_id=veteran.id,
                station_id=veteran.station_id,
                year=year,
                branch_id=membership.branch_id,
                life=life,
                dues=dues,
                conduct=conduct,
                overall=overall,
                opinion=opinion,
                recorded_by_id=actor.id,
            )
            if path is not None:
                evaluation.document_name = path.name
                evaluation.document_type = content_type
                evaluation.document_display = _display_name(filename, uploads.extension(content_type))
            db.session.add(evaluation)
            db.session.flush()
            audit(
                actor,
                "party.evaluation_recorded",
                "party_evaluation",
                evaluation.id,
                veteran.station_id,
                year=year,
                overall=overall,
                document=path is not None,
            )
            if path is not None:
                path.write_bytes(data)
    except BaseException:
        if path is not None:
            path.unlink(missing_ok=True)  # rolled back: no orphan file
        raise
    return evaluation


def evaluations_of(veteran_id):
    return db.session.scalars(
        select(PartyEvaluation).where(PartyEvaluation.veteran_id == veteran_id).order_by(PartyEvaluation.year.desc())
    ).all()


def open_document(*, actor, evaluation_id):
    """(bytes, content_type, display name) of an evaluation's document, for party.view in scope; audited."""
    require_permission(actor, "party.view")
    evaluation = get_scoped(
        PartyEvaluation,
        evaluation_id,
        actor=actor,
        unit_column=PartyEvaluation.station_id,
        not_found=EvaluationNotFound,
    )
    if not evaluation.document_name:
        raise EvaluationNotFound()
    with transaction():
        audit(actor, "party.evaluation_download", "party_evaluation", evaluation.id, evaluation.station_id)
    data = (storage_dir() / evaluation.document_name).read_bytes()
    return data, evaluation.document_type, evaluation.document_display
