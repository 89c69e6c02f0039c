"""Annual registration payloads. Section contents are validated by the backend's form (content.py)."""

import marshmallow as ma

SECTION_DOC = (
    "登记内容，按登记项分组：party_life{participated,notes}、social_orgs{joined,organizations[]}、"
    "trips_abroad{had_trips,trips[{destination,from,to}]}、rewards_punishments{has_any,details}、"
    "employment{status,employer}、contact{phone,address}、declaration{agreed}"
)


class WindowSchema(ma.Schema):
    year = ma.fields.Integer(required=True)
    opens_on = ma.fields.Date(required=True)
    closes_on = ma.fields.Date(required=True)
    extended = ma.fields.Boolean(required=True)


class AttachmentSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    section = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)


class UploadFormSchema(ma.Schema):
    section = ma.fields.String(
        required=True,
        validate=ma.validate.Length(max=32),
        metadata={"description": "所属登记项，如 employment、rewards_punishments"},
    )


class UploadFileSchema(ma.Schema):
    file = ma.fields.Raw(
        required=True, metadata={"type": "string", "format": "binary", "description": "JPG、PNG 或 PDF，不超过5MB"}
    )


class CurrentSchema(ma.Schema):
    year = ma.fields.Integer(required=True)
    window = ma.fields.Nested(WindowSchema, required=True)
    window_open = ma.fields.Boolean(required=True)
    status = ma.fields.String(
        required=True, metadata={"description": "not_started | draft | submitted | returned | approved | overdue"}
    )
    # overdue slice (issue 10): whether the phone may save and submit now (also overdue within an extended window)
    editable = ma.fields.Boolean(
        required=True, metadata={"description": "现在能否保存和提交（逾期未报的，办理时间延长后也可以补报）"}
    )
    registration_id = ma.fields.Integer(allow_none=True)
    form_version = ma.fields.Integer(required=True)
    content = ma.fields.Dict(required=True, metadata={"description": SECTION_DOC})
    return_reasons = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        metadata={"description": "退回补正时，每个需修改的登记项及原因"},
    )
    sections = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    prefilled_from_year = ma.fields.Integer(allow_none=True)
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema), required=True)


class DraftSchema(ma.Schema):
    content = ma.fields.Dict(required=True, metadata={"description": SECTION_DOC})


class PastSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    year = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    channel = ma.fields.String(required=True)
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)


class PastListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PastSchema), required=True)
    next_cursor = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "下一页的 cursor；没有更多时为空"}
    )


class PastPageArgsSchema(ma.Schema):
    """Keyset paging like every list: `cursor` is the previous page's next_cursor (opaque to the client; a year, so
    bounded by the INTEGER column it is compared with)."""

    cursor = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=9999))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))
