"""Staff sign-in and sign-out."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_user, logout_user

from ..accounts import authenticate
from ..audit import record_event
from ..principal import staff_principal
from .access import public
from .extensions import limiter
from .forms import SignInForm
from .principals import SignedInStaff, db

bp = Blueprint("auth", __name__, url_prefix="/staff")


def _safe_next(target: str | None) -> str:
    # Only local paths: a `next` pointing at another site would make sign-in an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("staff.dashboard")


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit("10 per minute", methods=["POST"])
def sign_in():
    """Staff sign in with email and password."""
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(db(), form.email.data, form.password.data)
        if user is not None:
            login_user(SignedInStaff(user))
            record_event(db(), staff_principal(user), "user.signed_in", "user", user.id)
            db().commit()
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("The email address or password is not right")
    return render_template("auth/sign_in.html", form=form), 200 if not form.errors else 400


@bp.post("/sign-out")
@public
def sign_out():
    """Sign out of a staff account."""
    logout_user()
    flash("You have signed out.")
    return redirect(url_for("public.home"))
