"""The start page after login: the dashboard of today's and yesterday's figures (tiles from core.dashboard)."""
from flask import Blueprint, current_app, render_template, send_from_directory
from flask_login import current_user, login_required

from core.dashboard import tiles_for
from web.assets import WEB_STATIC

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index():
    tiles = tiles_for(current_app, current_user)
    return render_template("home.html", tiles=tiles, per_day=any(tile.columns for tile in tiles))


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on pages that name no icon (downloads, JSON); the same icon answers."""
    return send_from_directory(WEB_STATIC, "favicon.ico", max_age=7 * 24 * 3600)


@bp.route("/healthz")
def healthz():
    return {"status": "ok"}
