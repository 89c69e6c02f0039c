"""Staff account forms."""

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from admin_portal.forms import MultiCheckboxField
from backend.staff.roles import ROLE_LABELS

ROLE_CHOICES = [SelectChoice(value, label) for value, label in ROLE_LABELS.items()]


class StaffCreateForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64, message="不超过64位")])
    full_name = StringField("姓名", validators=[DataRequired("请输入姓名"), Length(max=64, message="不超过64个字")])
    # Choices list the actor's units; the service decides scope, so a forged id is refused like a missing unit.
    org_unit_id = SelectField("所属机构", coerce=int, validate_choice=False)
    roles = MultiCheckboxField("角色", choices=ROLE_CHOICES)
    submit = SubmitField("创建账号")


class RolesForm(FlaskForm):
    roles = MultiCheckboxField("角色", choices=ROLE_CHOICES)
    submit = SubmitField("保存角色")
