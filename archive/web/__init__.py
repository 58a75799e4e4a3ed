"""The Flask app factory: one blueprint per audience over plain domain functions."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from ..services import Services
from ..settings import Settings, load_settings
from . import errors, i18n, principals, template_helpers
from .access import enforce_declared_policy
from .extensions import compress, csrf, limiter, login_manager, talisman

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

CSP = {
    "default-src": "'self'",
    "img-src": "'self' data: blob:",
    "media-src": "'self' blob:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(settings: Settings | None = None, services: Services | None = None) -> Flask:
    """Build the app. Tests pass their own settings; `chorus serve` passes the loaded ones."""
    settings = settings or load_settings()
    app = Flask(__name__, static_folder="static", template_folder=None)
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(_templates_dir()),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=1024 * 1024,  # text fields: a long story fits, a 50 MB field does not
        MAX_FORM_PARTS=200,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        REMEMBER_COOKIE_SECURE=settings.secure_cookies,
        WTF_CSRF_TIME_LIMIT=None,  # a child may take an hour over a story; the session expiry bounds it
        RATELIMIT_STORAGE_URI=settings.ratelimit_storage_url,
        RATELIMIT_HEADERS_ENABLED=True,
        # Phones on slow connections: GOV.UK's CSS is 124 KB raw, 15 KB gzipped. Media are already compressed.
        COMPRESS_MIMETYPES=["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                            "text/vtt", "image/svg+xml"],
        COMPRESS_ALGORITHM=["br", "gzip"],
    )
    app.extensions["chorus"] = services or Services(settings)
    app.jinja_env.globals["settings"] = settings

    i18n.init_app(app, settings)
    csrf.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = "strong"
    talisman.init_app(
        app,
        force_https=settings.secure_cookies,
        strict_transport_security=settings.secure_cookies,
        session_cookie_secure=settings.secure_cookies,
        content_security_policy=CSP,
        referrer_policy="no-referrer",
        permissions_policy={"geolocation": "()", "camera": "(self)", "microphone": "(self)"},
    )

    principals.init_app(app)
    enforce_declared_policy(app)
    errors.init_app(app)
    template_helpers.init_app(app)
    _register_blueprints(app)
    return app


def _templates_dir() -> Path:
    # Installed from a wheel the templates package sits in site-packages; in a checkout, beside archive/.
    try:
        import templates

        return Path(templates.__file__).parent
    except ImportError:
        return TEMPLATES


def _register_blueprints(app: Flask) -> None:
    from .analysis import bp as analysis_bp
    from .analyst import bp as analyst_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .exhibits import bp as exhibits_bp, manage_bp as exhibits_manage_bp
    from .exports import bp as exports_bp
    from .facilitator import bp as facilitator_bp
    from .media import bp as media_bp
    from .participant import bp as participant_bp
    from .public import bp as public_bp
    from .review import bp as review_bp
    from .search_api import bp as search_api_bp
    from .share import bp as share_bp
    from .staff import bp as staff_bp

    for bp in (public_bp, auth_bp, participant_bp, share_bp, staff_bp, media_bp, api_bp, facilitator_bp):
        app.register_blueprint(bp)
    app.register_blueprint(analyst_bp)
    app.register_blueprint(analysis_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(search_api_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(exhibits_manage_bp)
    app.register_blueprint(exhibits_bp)
