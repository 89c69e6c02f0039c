"""个人信息密钥: which key versions are configured (never the keys), the rotation's progress per sealed column and
which versions the stored values still use; start a rotation; retire a version no value uses."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.security import permission_required
from backend.keys import rotation
from backend.keys.primitives import CIPHERS

bp = Blueprint("keys", __name__)
CIPHER_LABELS = {"A": "AES-256-GCM（HMAC-SHA256 索引）", "S": "SM4-GCM（HMAC-SM3 索引，国密）"}
HEADER_LABELS = {"A": "AES-256-GCM", "S": "SM4-GCM", "H": "HMAC-SHA256", "M": "HMAC-SM3"}


def _header_label(header):
    return f"{HEADER_LABELS.get(header[:1], header[:1])} 版本 {header[1:]}"


@bp.route("/")
@permission_required("pii.keys")
def index():
    rotation.authorize(current_user._get_current_object())
    state = rotation.status()
    return render_template(
        "keys/index.html",
        state=state,
        cipher_label=CIPHER_LABELS[state["cipher"]],
        header_label=_header_label,
        ciphers=CIPHERS,
        retired_versions={r.version for r in state["retired"]},
    )


@bp.route("/rotate", methods=["POST"])
@permission_required("pii.keys")
def rotate():
    target = rotation.start(actor=current_user._get_current_object())
    flash(f"已启动密钥轮换：全部数据将改用{_header_label(target)}重新加密，可在本页查看进度", "success")
    return redirect(url_for("keys.index"))


@bp.route("/retire", methods=["POST"])
@permission_required("pii.keys")
def retire():
    version = request.form.get("version", type=int)
    if version is None or not 0 <= version <= 9999:
        flash("请选择要退役的密钥版本", "danger")
        return redirect(url_for("keys.index"))
    try:
        dropped = rotation.retire(version, actor=current_user._get_current_object())
    except rotation.RotationRefused as refused:
        flash(str(refused), "danger")
    else:
        note = f"；已删除 {dropped} 个无法重新计算的备用验证码，相关人员需重新生成" if dropped else ""
        flash(f"密钥版本 {version} 已退役，可从配置中删除该版本的密钥{note}", "success")
    return redirect(url_for("keys.index"))
