"""Static files, under one URL scheme: /static/<package>/<file> (web's own under /static/web/).

Each package keeps its files in its own `static/` folder; templates ask for them with
url_for("static", filename="<package>/<file>"). Everything under /static/ is public and outside the
allowlists (the login page needs its stylesheet), and the Content-Security-Policy allows scripts from here only.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, abort, current_app, send_from_directory

from core.config import ROOT

WEB_STATIC = ROOT / "web" / "static"


def static_folders(features: tuple[str, ...]) -> dict[str, Path]:
    """URL segment → folder: "web" and each feature present with a static folder ("sms.bulk" → "bulk")."""
    folders = {"web": WEB_STATIC}
    for name in features:
        folder = ROOT / name.replace(".", "/") / "static"
        if folder.is_dir():
            folders[name.rsplit(".", 1)[-1]] = folder
    return folders


def install_static(app: Flask, features: tuple[str, ...]) -> None:
    """The app's "static" endpoint, serving every package's folder (the Flask app is made without one)."""
    folders = static_folders(features)

    def static(filename: str):
        package, _, rest = filename.partition("/")
        folder = folders.get(package)
        if folder is None or not rest:
            abort(404)
        return send_from_directory(folder, rest, max_age=current_app.get_send_file_max_age(rest))

    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=static)
