"""Problems of a flow pointed at the node and the field they are about, for the editor's picture and panel.

The sentences are ivr.validation's (and ivr.store's for the flow's own fields); this module only reads which
node ("ノード「…」(key): …") and which field each names, so a rule added there is pointed at here too.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from ivr import messages as msg

NODE_PROBLEM = re.compile(r"^ノード「.*」\((?P<key>[^()]*)\): (?P<problem>.+)$", re.DOTALL)
EXIT_NAMES = {label: name for name, label in msg.EXIT_LABELS.items()}
# (pattern on the problem, the panel field it is about); first match wins.
FIELD_PATTERNS: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p), f) for p, f in (
    (r"^ID ", "key"),
    (r"^種類", "kind"),
    (r"^移動先", "exit:target"),
    (r"^分岐「(?P<digit>[^」]*)」", "branch"),
    (r"^分岐（", "branches"),
    (r"^「(?P<exit>[^」]+)」", "exit"),
    (r"^入力タイムアウト時ガイダンス", "timeout_guidance"),
    (r"^入力ミス時ガイダンス", "mis_entry_guidance"),
    (r"^携帯番号入力ガイダンス", "number_entry_guidance"),
    (r"^番号エラー時ガイダンス", "invalid_number_guidance"),
    (r"ガイダンス", "guidance"),
    (r"^桁数", "digits"),
    (r"^入力タイムアウト", "timeout"),
    (r"^タイムアウトの上限", "max_tries"),
    (r"^入力ミスの上限", "max_mis_entries"),
    (r"蓄積BOX", "box_number"),
    (r"^転送先", "transfer_number"),
    (r"^呼び出し時間", "transfer_timeout"),
    (r"^録音時間", "max_seconds"),
    (r"^営業", "hours"),
))


@dataclass(frozen=True)
class Issue:
    message: str          # the whole sentence, as the error list shows it
    node: str = ""        # the node's key ("" for the flow's own fields)
    field: str = ""       # the panel field: guidance, branch:1, exit:fallback, … ("" for the node as a whole)
    problem: str = ""     # the sentence without the node's name (the panel is already about that node)

    def as_dict(self) -> dict:
        return asdict(self)


def issue_of(message: str) -> Issue:
    found = NODE_PROBLEM.match(message)
    if found is None:
        where = "entry" if "開始ノード" in message else ""
        return Issue(message, "", where, message.removeprefix("フロー: "))
    key, problem = found.group("key"), found.group("problem")
    return Issue(message, key, field_of(problem), problem)


def field_of(problem: str) -> str:
    for pattern, name in FIELD_PATTERNS:
        match = pattern.search(problem)
        if match is None:
            continue
        if name == "branch":
            return f"branch:{match.group('digit')}"
        if name == "exit":
            exit_name = EXIT_NAMES.get(match.group("exit"))
            return f"exit:{exit_name}" if exit_name else ""
        return name
    return ""


def issues_of(messages: list[str]) -> list[Issue]:
    return [issue_of(m) for m in messages]
