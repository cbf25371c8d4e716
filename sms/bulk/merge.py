"""差し込み (merge fields): `{氏名}` in a bulk message becomes each recipient's value of the CSV column 「氏名」.
Pure: no Flask, no database.

The SMS placeholders ({url}, {optout_url}) are not merge fields: the outbox fills them per message. Any other
`{…}` in a text must name one of the send's columns, so a typo is refused before anything is sent rather than
reaching the recipients as 「{指名}様」.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

FIELD = re.compile(r"\{([^{}\s]{1,30})\}")


def used_fields(text: str, reserved: Sequence[str]) -> list[str]:
    """The `{title}`s of a text other than the SMS placeholders, each once, in order."""
    found = [f"{{{name}}}" for name in FIELD.findall(text or "")]
    return list(dict.fromkeys(token for token in found if token not in reserved))


def unknown_fields(text: str, field_names: Sequence[str], reserved: Sequence[str]) -> list[str]:
    """The merge fields a text uses that the send has no column for."""
    known = {f"{{{name}}}" for name in field_names}
    return [token for token in used_fields(text, reserved) if token not in known]


def unknown_field_message(index: int, unknown: Sequence[str], field_names: Sequence[str]) -> str:
    tokens = "、".join(f"「{token}」" for token in unknown)
    if field_names:
        usable = "、".join(f"{{{name}}}" for name in field_names)
        return f"メッセージ{index}: {tokens} は差し込みに使えません（使える項目: {usable}）。"
    return (f"メッセージ{index}: {tokens} は差し込みに使えません（差し込みは、見出しのある CSV ファイルで"
            f"配信先を指定したときに、その列の見出しで使えます）。")


def fill(text: str, field_names: Sequence[str], values: Sequence[str] | None) -> str:
    """The text for one recipient: each {title} replaced by the recipient's value of that column."""
    if not field_names or "{" not in text:
        return text
    lookup = dict(zip(field_names, values or ()))
    return FIELD.sub(lambda match: lookup.get(match.group(1), match.group(0)) if match.group(1) in lookup
                     else match.group(0), text)


def uses_fields(texts: Sequence[str], field_names: Sequence[str]) -> bool:
    """Whether any text names one of the send's columns (then each recipient's text is checked on its own)."""
    if not field_names:
        return False
    names = set(field_names)
    return any(name in names for text in texts for name in FIELD.findall(text or ""))
