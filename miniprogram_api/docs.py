"""OpenAPI helpers: document each operation's error answers with their stable codes."""

from collections import defaultdict

from backend.errors import CODES


def errors(bp, *codes):
    """Decorator: one alternative response per status, listing the error codes it can carry (auth codes included)."""
    from miniprogram_api.errors import ErrorEnvelopeSchema

    by_status = defaultdict(list)
    for code in codes:
        by_status[CODES[code]].append(code)

    def decorator(fn):
        for status, names in sorted(by_status.items()):
            description = "错误代码：" + "、".join(names)
            fn = bp.alt_response(status, schema=ErrorEnvelopeSchema, description=description)(fn)
        return fn

    return decorator


TOKEN_ERRORS = ("auth.required", "auth.token_expired", "auth.token_invalid", "auth.token_revoked")
VETERAN_ERRORS = (*TOKEN_ERRORS, "accounts.not_bound", "accounts.veteran_inactive")  # tokens slice: inactive
