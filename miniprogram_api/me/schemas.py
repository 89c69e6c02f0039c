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


class MePatchSchema(ma.Schema):
    """Only contact fields; any other field is refused with 422."""

    phone = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=20))
    address = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
