"""WeChat failures as domain errors with stable codes."""

from backend.errors import NotAuthenticated, RuleViolation, UpstreamFailed, ValidationFailed


class WechatCodeInvalid(NotAuthenticated):
    code = "wechat.code_invalid"
    message = "微信登录凭证无效，请重新进入小程序"


class WechatCodeUsed(NotAuthenticated):
    code = "wechat.code_used"
    message = "微信登录凭证已使用，请重新进入小程序"


class WechatCodeBlocked(RuleViolation):
    code = "wechat.code_blocked"
    message = "微信判定当前账号存在风险，暂时无法登录"


class WechatPhoneCodeInvalid(ValidationFailed):
    code = "wechat.phone_code_invalid"
    message = "手机号授权已失效，请重新授权"


class WechatNoQuota(RuleViolation):
    code = "wechat.no_quota"
    message = "用户未订阅或订阅次数已用完"


class WechatInvalidArgument(ValidationFailed):
    code = "wechat.invalid_argument"
    message = "消息内容不符合微信模板要求"


class WechatUnavailable(UpstreamFailed):
    code = "wechat.unavailable"
    message = "微信服务暂时不可用，请稍后再试"


class WechatSignatureInvalid(RuleViolation):
    status = 403
    code = "wechat.signature_invalid"
    message = "签名校验失败"
