"""Org unit forms."""

from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional


class UnitForm(FlaskForm):
    name = StringField(
        "机构名称", validators=[DataRequired("请输入机构名称"), Length(max=100, message="不超过100个字")]
    )
    code = StringField("机构代码", validators=[Optional(), Length(max=32, message="不超过32位")])
    submit = SubmitField("保存")
