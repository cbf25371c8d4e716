"""Input every page refuses before any view sees it."""
from flask import abort, request

NUL_REFUSED = "入力に使用できない文字（NUL 文字）が含まれています。入力内容を確認してください。"


def carries_nul_character() -> bool:
    """PostgreSQL can neither store nor compare text holding NUL, so such a request would end in a 500."""
    if "\x00" in request.path:
        return True
    values = [*request.args.values(), *request.form.values()]
    if any("\x00" in value for value in values):
        return True
    # JSON spells NUL as an escape; file uploads (audio, CSV) legitimately hold NUL bytes and are not looked at.
    return request.is_json and b"\\u0000" in request.get_data(cache=True).lower()


def refuse_nul_characters():
    if carries_nul_character():
        abort(400, description=NUL_REFUSED)
