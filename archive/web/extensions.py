"""Flask extensions, created once here and bound to an app in the factory."""

from flask import current_app
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect

babel = Babel()
compress = Compress()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()
talisman = Talisman()


@limiter.request_filter
def _limits_switched_off() -> bool:
    # One limiter serves every app in the process; each app's own RATELIMIT_ENABLED decides, per request.
    return not current_app.config.get("RATELIMIT_ENABLED", True)
