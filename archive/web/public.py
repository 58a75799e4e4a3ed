"""Pages anyone may open."""

from flask import Blueprint, render_template

from .access import public

bp = Blueprint("public", __name__)


@bp.get("/")
@public
def home():
    """The front door: join a session, or staff sign in."""
    return render_template("public/home.html")
