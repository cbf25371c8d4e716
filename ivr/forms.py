"""Editor forms ↔ flow specs. Rows keep what the user typed (strings), so a refused form re-renders unchanged."""
from __future__ import annotations

import re
from typing import Any, Mapping

from core import phone
from core.config import setting
from core.inputs import InputError, int_or, parse_int
from ivr import speech
from ivr.hours import Hours
from ivr.messages import EXIT_LABELS
from ivr.spec import REQUIRED_EXITS, FlowSpec, NodeSpec

BRANCH_ROWS = 12
MENU_FIELDS = ("guidance", "timeout_guidance", "mis_entry_guidance", "digits", "timeout", "max_tries",
               "max_mis_entries")
INT_FIELDS = {"digits": "桁数", "timeout": "入力タイムアウト（秒）", "max_tries": "タイムアウトの上限回数",
              "max_mis_entries": "入力ミスの上限回数",
              "transfer_timeout": "呼び出し時間（秒）", "max_seconds": "録音時間（秒）"}
ROW_INDEX = re.compile(r"^nodes-([0-9]{1,4})-key$")
MAX_FIELD_NUMBER = 9999  # digits, seconds, tries: the flow rules narrow them further


def editor_defaults() -> dict:
    """What a new node starts with in both editors (R-09b), from the settings."""
    return {"digits": setting("ivr.default_digits"), "timeout": setting("ivr.default_timeout_seconds"),
            "max_tries": setting("ivr.default_max_tries"), "max_mis_entries": setting("ivr.default_max_mis_entries"),
            "transfer_timeout": setting("ivr.transfer_timeout_seconds"),
            "max_seconds": setting("ivr.voicemail_max_seconds")}


def blank_row(index: int, defaults: Mapping[str, Any]) -> dict:
    """A new node as the editor shows it, with the R-09b defaults of the settings."""
    return {
        "index": index, "key": "", "name": "", "kind": "menu", "delete": False,
        "guidance": "", "timeout_guidance": "", "mis_entry_guidance": "",
        "digits": str(defaults.get("digits", 1)), "timeout": str(defaults.get("timeout", 5)),
        "max_tries": str(defaults.get("max_tries", 3)), "max_mis_entries": str(defaults.get("max_mis_entries", 3)),
        "branches": [("", "")] * BRANCH_ROWS, "exits": {name: "" for name in EXIT_LABELS},
        "box_number": "", "ask_number": False, "number_entry_guidance": "", "invalid_number_guidance": "",
        "transfer_number": "", "transfer_timeout": str(defaults.get("transfer_timeout", 30)),
        "transfer_record": False, "record_notice_guidance": "", "speech_keywords": "",
        "max_seconds": str(defaults.get("max_seconds", 120)),
        "weekdays": ["0", "1", "2", "3", "4"], "open": "09:00", "close": "18:00", "closed_on_holidays": True,
    }


def row_from_spec(node: NodeSpec, index: int, defaults: Mapping[str, Any]) -> dict:
    row = blank_row(index, defaults)
    hours = Hours.from_params(node.params)
    branches = sorted(node.branches.items())
    row.update(
        key=node.key, name=node.name, kind=node.kind,
        guidance=_s(node.guidance), timeout_guidance=_s(node.timeout_guidance),
        mis_entry_guidance=_s(node.mis_entry_guidance),
        digits=str(node.digits), timeout=str(node.timeout), max_tries=str(node.max_tries),
        max_mis_entries=str(node.max_mis_entries),
        branches=branches + [("", "")] * max(0, BRANCH_ROWS - len(branches)),
        exits={name: node.exits.get(name, "") for name in EXIT_LABELS},
        box_number=_s(node.param("box_number")), ask_number=bool(node.param("ask_number")),
        number_entry_guidance=_s(node.param("number_entry_guidance")),
        invalid_number_guidance=_s(node.param("invalid_number_guidance")),
        transfer_number=phone.display(_s(node.param("number"))), transfer_timeout=_s(node.param("timeout", 30)),
        transfer_record=bool(node.param("record")), record_notice_guidance=_s(node.param("record_notice_guidance")),
        speech_keywords=speech.keywords_text(node.param("keywords") or {}),
        max_seconds=_s(node.param("max_seconds", 120)),
        weekdays=[str(d) for d in hours.weekdays], open=hours.open, close=hours.close,
        closed_on_holidays=hours.closed_on_holidays,
    )
    return row


def rows_from_spec(spec: FlowSpec, defaults: Mapping[str, Any]) -> list[dict]:
    return [row_from_spec(node, i, defaults) for i, node in enumerate(spec.nodes.values())]


def row_from_form(form, prefix: str, index: int, defaults: Mapping[str, Any], base: dict | None = None) -> dict:
    """What the user typed for one node; fields the form does not carry keep `base`'s values."""
    row = dict(base) if base is not None else blank_row(index, defaults)
    row["index"] = index

    def take(name):
        if prefix + name in form:
            row[name] = form.get(prefix + name, "").strip()

    for name in ("key", "name", "kind", *MENU_FIELDS, "box_number", "number_entry_guidance",
                 "invalid_number_guidance", "transfer_number", "transfer_timeout", "record_notice_guidance",
                 "speech_keywords",
                 "max_seconds", "open", "close"):
        take(name)
    if prefix + "branch-0-digit" in form:
        row["branches"] = [(form.get(f"{prefix}branch-{j}-digit", "").strip(),
                            form.get(f"{prefix}branch-{j}-target", "").strip()) for j in range(BRANCH_ROWS)]
    exits = dict(row["exits"])
    for name in EXIT_LABELS:
        if prefix + f"exit-{name}" in form:
            exits[name] = form.get(prefix + f"exit-{name}", "").strip()
    row["exits"] = exits
    if prefix + "kind" in form:  # checkboxes are absent when unticked: only a whole node form sets them
        row["ask_number"] = bool(form.get(prefix + "ask_number"))
        row["transfer_record"] = bool(form.get(prefix + "transfer_record"))
        row["closed_on_holidays"] = bool(form.get(prefix + "closed_on_holidays"))
        row["weekdays"] = form.getlist(prefix + "weekdays")
        row["delete"] = bool(form.get(prefix + "delete"))
    return row


def rows_from_form(form, defaults: Mapping[str, Any]) -> list[dict]:
    indexes = sorted(int(m.group(1)) for m in (ROW_INDEX.match(k) for k in form.keys()) if m)
    return [row_from_form(form, f"nodes-{i}-", i, defaults) for i in indexes]


def is_blank(row: dict) -> bool:
    return not row["key"] and not row["name"]


def spec_from_rows(rows: list[dict], entry: str) -> tuple[FlowSpec, list[str]]:
    """The flow the rows describe, and the problems only the form can see (numbers that are not numbers)."""
    errors: list[str] = []
    nodes: dict[str, NodeSpec] = {}
    for row in rows:
        if row.get("delete") or is_blank(row):
            continue
        node, problems = node_from_row(row)
        errors += problems
        if node.key in nodes:
            errors.append(f"ノード「{node.label}」({node.key}): ID「{node.key}」が重複しています。")
        nodes[node.key] = node
    return FlowSpec(entry=entry, nodes=nodes), errors


def node_from_row(row: dict) -> tuple[NodeSpec, list[str]]:
    label = f"ノード「{row['name'] or row['key']}」({row['key']})"
    errors: list[str] = []

    def integer(name: str, default: int) -> int:
        try:
            return parse_int(row.get(name, ""), INT_FIELDS[name], maximum=MAX_FIELD_NUMBER, default=default)
        except InputError as error:
            errors.append(f"{label}: {error.message}")
            return default

    def guidance(name: str) -> int | None:
        return chosen_id(row.get(name, ""), "ガイダンス", errors, label)

    kind = row["kind"]
    exits = {name: target for name, target in row["exits"].items() if name in REQUIRED_EXITS.get(kind, ())}
    if kind == "menu":
        exits.update({digit: target for digit, target in row["branches"] if digit or target})
    params = params_from_row(row, kind, integer, guidance, errors, label)
    node = NodeSpec(key=row["key"], kind=kind, name=row["name"][:100], guidance=guidance("guidance"),
                    timeout_guidance=guidance("timeout_guidance") if kind == "menu" else None,
                    mis_entry_guidance=guidance("mis_entry_guidance") if kind == "menu" else None,
                    digits=integer("digits", 1), timeout=integer("timeout", 5), max_tries=integer("max_tries", 3),
                    max_mis_entries=integer("max_mis_entries", 3),
                    exits=exits, params=params)
    return node, errors


def params_from_row(row, kind, integer, guidance, errors, label) -> dict:
    if kind == "menu":
        keywords, problems = speech.parse_keywords(row.get("speech_keywords", ""))
        errors.extend(f"{label}: {problem}" for problem in problems)
        return {"keywords": keywords} if keywords else {}
    if kind == "sms":
        return {"box_number": chosen_id(row.get("box_number", ""), "蓄積BOX", errors, label),
                "ask_number": bool(row.get("ask_number")),
                "number_entry_guidance": guidance("number_entry_guidance"),
                "invalid_number_guidance": guidance("invalid_number_guidance")}
    if kind == "transfer":
        raw = row.get("transfer_number", "")
        number, problem = phone.parse_entry(raw, "転送先電話番号") if raw else ("", None)
        if problem:
            errors.append(f"{label}: {problem}")
        params = {"number": number or raw, "timeout": integer("transfer_timeout", 30)}
        if row.get("transfer_record"):
            params.update(record=True, record_notice_guidance=guidance("record_notice_guidance"))
        return params
    if kind == "voicemail":
        return {"max_seconds": integer("max_seconds", 120)}
    if kind == "hours":
        weekdays = sorted({day for day in (int_or(d, -1, minimum=-1, maximum=7) for d in row.get("weekdays", []))
                           if 0 <= day <= 6})
        return {"hours": {"weekdays": weekdays, "open": row.get("open", ""), "close": row.get("close", ""),
                          "closed_on_holidays": bool(row.get("closed_on_holidays"))}}
    return {}


def chosen_id(value: str, what: str, errors: list[str], label: str) -> int | None:
    """The id a dropdown sent (blank: none); anything that is not one is reported, never looked up."""
    try:
        return parse_int(value, what, minimum=1)
    except InputError:
        errors.append(f"{label}: {what}の選択が正しくありません。")
        return None


def _s(value) -> str:
    return "" if value is None else str(value)
