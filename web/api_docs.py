"""The API's OpenAPI document and a readable page of it."""
from flask import Blueprint, current_app, g, jsonify, render_template

from core.openapi import document
from core.security import api_token_required, role_required

bp = Blueprint("api_docs", __name__)


@bp.route("/api/v1/openapi.json")
def openapi_json():
    return jsonify(document(current_app))


@bp.route("/docs/api")
@role_required("admin")  # for whoever connects other systems; admins issue the tokens it describes
def api_page():
    return render_template("api_docs.html", doc=document(current_app))


@bp.route("/api/v1/whoami")
@api_token_required
def whoami():
    """The token's own label: lets an integrator check their credentials."""
    return jsonify({"token": g.api_token.label, "prefix": g.api_token.prefix})
