"""Login and password forms."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])
    submit = SubmitField("登录")


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("当前密码", validators=[DataRequired("请输入当前密码")])
    new_password = PasswordField(
        "新密码",
        validators=[DataRequired("请输入新密码"), Length(min=10, max=128, message="密码长度应为10-128位")],
        description="至少10位，包含大写字母、小写字母、数字、符号中的至少三类，且不能包含用户名",
    )
    confirm_password = PasswordField(
        "确认新密码", validators=[DataRequired("请再次输入新密码"), EqualTo("new_password", "两次输入的新密码不一致")]
    )
    submit = SubmitField("修改密码")


class CodeForm(FlaskForm):
    code = StringField(
        "动态口令",
        validators=[DataRequired("请输入动态口令或恢复码"), Length(max=32, message="不超过32位")],
        description="手机验证器中显示的6位数字；手机丢失时可输入一个恢复码",
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField("验证")


class EnrolForm(FlaskForm):
    code = StringField(
        "验证器中的6位数字",
        validators=[DataRequired("请输入验证器中显示的6位数字"), Length(max=32, message="不超过32位")],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField("确认绑定")
