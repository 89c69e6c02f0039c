"""The veteran's own profile."""

import marshmallow as ma


class MeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    gender = ma.fields.String(required=True, metadata={"description": "M 男 / F 女"})
    birth_date = ma.fields.Date(required=True)
    id_number_masked = ma.fields.String(required=True, metadata={"example": "110105********002X"})
    phone = ma.fields.String(allow_none=True, metadata={"description": "本人手机号（本人可见）"})
    address = ma.fields.String(allow_none=True)
    station = ma.fields.Function(lambda v: v.station.name, required=True)
    grid = ma.fields.Function(lambda v: v.grid.name if v.grid else None, allow_none=True)
    grid_worker = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True)


PHONE_REQUIRED = "手机号不能删除；如需更换，请填写新的手机号"


def _phone_present(value):
    """The phone on record is how the veteran is reached and re-binds: it may be changed, never erased."""
    if not value.strip():
        raise ma.ValidationError(PHONE_REQUIRED)


class MePatchSchema(ma.Schema):
    """Only contact fields; any other field is refused with 422. The phone may be changed but not erased."""

    phone = ma.fields.String(
        allow_none=False,
        validate=[ma.validate.Length(max=20), _phone_present],
        error_messages={"null": PHONE_REQUIRED},
    )
    address = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
