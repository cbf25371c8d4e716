"""Input every page refuses before any view sees it (the parsers themselves are core.inputs)."""
from flask import abort

from core.inputs import NUL_REFUSED, carries_nul_character


def refuse_nul_characters():
    if carries_nul_character():
        abort(400, description=NUL_REFUSED)
