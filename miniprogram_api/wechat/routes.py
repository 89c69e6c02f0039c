"""GET/POST /wechat/events: WeChat's message push (called by WeChat's servers, not the phone)."""

import logging

from flask import current_app, request
from flask_smorest import Blueprint

from backend.extensions import api_limiter
from backend.subscriptions import service as subscriptions_service
from backend.wechat import push
from miniprogram_api.docs import errors

bp = Blueprint("wechat", __name__, description="微信消息推送（由微信服务器调用）")
log = logging.getLogger(__name__)


def _plain(text, status=200):
    return current_app.response_class(text, status=status, mimetype="text/plain")


@bp.route("/wechat/events", methods=["GET"])
@bp.doc(security=[])  # no token
@errors(bp, "wechat.signature_invalid")
def verify_url():
    """服务器地址验证：签名正确时原样返回 echostr。"""
    cfg = current_app.config
    push.verify(
        cfg["WECHAT_PUSH_TOKEN"],
        request.args.get("signature"),
        request.args.get("timestamp"),
        request.args.get("nonce"),
    )
    return _plain(request.args.get("echostr", ""))


@bp.route("/wechat/events", methods=["POST"])
@api_limiter.limit(lambda: current_app.config["API_EVENTS_RATE_LIMIT"])
@bp.doc(security=[])  # no token
@errors(bp, "wechat.signature_invalid", "request.malformed")
def receive():
    """接收事件推送（明文或安全模式，JSON 或 XML），处理后应答 success；重复推送不会重复生效。"""
    cfg = current_app.config
    try:
        event = push.open_push(
            body=request.get_data(as_text=True),
            args=request.args,
            token=cfg["WECHAT_PUSH_TOKEN"],
            aes_key=cfg["WECHAT_PUSH_AES_KEY"],
            appid=cfg["WECHAT_APPID"],
            require_aes=cfg["WECHAT_PUSH_REQUIRE_AES"],
            max_age=cfg["WECHAT_PUSH_MAX_AGE"],
        )
    except ValueError:
        log.warning("unparseable wechat push")
        return _plain("success")  # acknowledged so WeChat does not retry a body that will never parse
    subscriptions_service.handle_event(event)
    return _plain("success")
