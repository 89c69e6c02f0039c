"""Login, refresh and binding payloads."""

import marshmallow as ma


class LoginSchema(ma.Schema):
    code = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=128), metadata={"description": "wx.login() 返回的 code"}
    )


class TokensSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True, metadata={"example": "Bearer"})
    expires_in = ma.fields.Integer(required=True, metadata={"description": "访问令牌有效秒数"})
    bound = ma.fields.Boolean(required=True, metadata={"description": "是否已绑定退役军人身份"})


class BindSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    id_number = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=32))
    phone_code = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=128),
        metadata={"description": "getPhoneNumber 按钮返回的 code"},
    )


class OkSchema(ma.Schema):
    ok = ma.fields.Boolean(required=True)
