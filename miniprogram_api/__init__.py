"""The mini program API (/api/v1): flask-smorest, JSON only, one error envelope, JWT for veterans."""

import flask_smorest

from backend import create_app as create_backend
from backend.db import install_web_limits
from backend.extensions import api_limiter, jwt
from backend.webguard import install_input_guards
from backend.webutil import IdConverter, install_id_converter, install_request_context
from miniprogram_api import errors, guards, idempotency


class Api(flask_smorest.Api):
    """flask-smorest's Api with our envelope for every error, in the answers and in the OpenAPI document."""

    ERROR_SCHEMA = errors.ErrorEnvelopeSchema

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)


def register_blueprints(api):
    """Every blueprint, listed explicitly, each with its auth choice (GOV.UK Notify's register_blueprint)."""
    from miniprogram_api.assistance.routes import bp as assistance_bp  # care slice (issue 16, C3)
    from miniprogram_api.auth.routes import bp as auth_bp
    from miniprogram_api.auth.routes import public_bp as auth_public_bp
    from miniprogram_api.bookings.routes import bp as bookings_bp  # bookings slice (issue 14)
    from miniprogram_api.feedback.routes import bp as feedback_bp  # issue 20: ratings, complaints
    from miniprogram_api.groups.routes import bp as groups_bp  # care slice (issue 16, C4)
    from miniprogram_api.honors.routes import bp as honors_bp  # issue 17, Art. 11: invitations
    from miniprogram_api.inbox.routes import bp as inbox_bp
    from miniprogram_api.me.routes import bp as me_bp
    from miniprogram_api.onboarding.routes import bp as onboarding_bp  # issue 17, Art. 7: the checklist
    from miniprogram_api.pension.routes import bp as pension_bp  # issue 18: GET /pension
    from miniprogram_api.registration.routes import bp as registration_bp
    from miniprogram_api.security import requires_account, requires_no_auth, requires_veteran
    from miniprogram_api.subscriptions.routes import bp as subscriptions_bp
    from miniprogram_api.system.routes import bp as system_bp
    from miniprogram_api.travel.routes import bp as travel_bp
    from miniprogram_api.wechat.routes import bp as wechat_bp

    blueprints = (
        (system_bp, requires_no_auth),
        (auth_public_bp, requires_no_auth),  # login; refresh checks its refresh token itself
        (wechat_bp, requires_no_auth),  # signed by WeChat, checked in the view
        (auth_bp, requires_account),
        (subscriptions_bp, requires_account),
        (me_bp, requires_veteran),
        (inbox_bp, requires_veteran),
        (registration_bp, requires_veteran),
        (travel_bp, requires_veteran),
        (bookings_bp, requires_veteran),
        (assistance_bp, requires_veteran),  # care slice (issue 16, C3): hardship assistance
        (groups_bp, requires_veteran),  # care slice (issue 16, C4)
        (pension_bp, requires_veteran),  # issue 18
        (feedback_bp, requires_veteran),  # issue 20
        (onboarding_bp, requires_veteran),  # issue 17, Art. 7
        (honors_bp, requires_veteran),  # issue 17, Art. 11
    )
    from miniprogram_api.registration.routes import raise_upload_limit

    api._app.before_request(raise_upload_limit)
    for bp, auth in blueprints:
        if auth is not requires_no_auth:  # every write of an account's blueprint honours Idempotency-Key
            api.idempotency_doc.blueprints.add(bp.name)
        api.register_blueprint(bp, url_prefix="/v1")
        # The auth choice is bound per app (not on the shared blueprint object), so several apps can be built.
        api._app.before_request_funcs.setdefault(bp.name, []).insert(0, auth)
        if auth is not requires_no_auth:
            idempotency.install(api._app, bp.name)


def create_app(config=None):
    app = create_backend(config)
    install_web_limits(app)  # issue 21: the web processes' statement_timeout (DB_STATEMENT_TIMEOUT_MS)
    app.name = "miniprogram_api"
    if app.config["APP_ENV"] == "production":  # staffsec slice (issue 10): 三员分立 of existing accounts
        from backend.staff.separation import enforce_role_separation

        enforce_role_separation(app)
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False
    install_request_context(app)
    install_id_converter(app)
    api_limiter.init_app(app)
    jwt.init_app(app)
    idempotency_doc = idempotency.IdempotencyDocPlugin()
    api = Api(app, spec_kwargs={"extra_plugins": [idempotency_doc]})
    api.idempotency_doc = idempotency_doc
    api.register_converter(
        IdConverter, lambda c: {"type": "integer", "format": "int64", "minimum": 1, "maximum": 999_999_999_999_999_999}
    )
    errors.register(app)
    register_blueprints(api)
    from miniprogram_api.bench.routes import register as register_baselines

    register_baselines(app)  # bench slice (issue 12): only with BENCHMARK_ENDPOINTS, outside the OpenAPI document
    # After register_blueprints: the upload limit must be raised before a form is read.
    install_input_guards(app, body_check=guards.require_declared_body_type)
    app.extensions["smorest_api"] = api
    return app
