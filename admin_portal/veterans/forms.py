"""Veteran forms. Shape only; the rules (ID check digit, scope, duplicates) live in the service."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from backend.veterans.models import STATUS_LABELS

STATUS_CHOICES = [SelectChoice(k, v) for k, v in STATUS_LABELS.items()]


def unit_choices(units, blank=None, label=lambda u: u.name):
    choices = [SelectChoice("", blank)] if blank else []
    return choices + [SelectChoice(str(u.id), label(u)) for u in units]


class VeteranForm(FlaskForm):
    name = StringField("姓名", validators=[DataRequired("请填写姓名"), Length(max=64, message="不超过64个字")])
    id_number = StringField("身份证号", validators=[DataRequired("请填写身份证号")])
    phone = StringField("手机号", validators=[Optional()])
    address = StringField("住址", validators=[Optional(), Length(max=200, message="不超过200个字")])
    station_id = SelectField("服务站", validate_choice=False)
    grid_id = SelectField("网格", validate_choice=False)
    grid_worker = StringField("网格员", validators=[Optional(), Length(max=64)])
    placement_date = DateField("安置日期", validators=[Optional()], format="%Y-%m-%d")
    party_member = BooleanField("中共党员")
    status = SelectField("状态", choices=STATUS_CHOICES, default="active")
    submit = SubmitField("保存")


class VeteranEditForm(VeteranForm):
    """Editing never shows the full ID number or phone: blank keeps the stored value, a new value replaces it."""

    station_id = None
    grid_id = None
    id_number = StringField("身份证号（如需更正请填写完整号码，留空不变）", validators=[Optional()])
    phone = StringField("手机号（如需更换请填写，留空不变）", validators=[Optional()])


class MoveForm(FlaskForm):
    station_id = SelectField("调整到服务站", validate_choice=False)
    grid_id = SelectField("网格", validate_choice=False)
    submit = SubmitField("调整")


class ImportForm(FlaskForm):
    file = FileField("Excel 表格（.xlsx）", validators=[FileRequired("请选择要导入的文件")])
    submit = SubmitField("开始导入")
