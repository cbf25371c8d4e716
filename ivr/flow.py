"""Call flows as plain data, their validation, and the engine: (flow, call state, input) → next step.

Nothing here touches Flask, the database or Twilio. The outside world reaches the engine through
`Ports` (the clock, the holiday calendar, the mobile-number check and the SMS queue), so every
decision is tested as a plain function. Webhooks read the state, call `start`/`resume`, store the
result and render its verbs as TwiML.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from core.inputs import int_or
from ivr import messages as msg

KINDS = tuple(msg.KIND_LABELS)
# Exits every node of a kind must have (a menu also needs at least one digit branch).
REQUIRED_EXITS: dict[str, tuple[str, ...]] = {
    "menu": ("fallback",),
    "play": ("next",),
    "sms": ("next", "cannot_send"),
    "transfer": ("no_answer",),
    "voicemail": (),
    "hours": ("open", "closed"),
    "goto": ("target",),
    "hangup": (),
}
# Nodes that wait for the caller or the network; a loop must pass through one of them.
WAITING_KINDS = ("menu", "transfer", "voicemail")
NODE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
BRANCH_DIGITS = re.compile(r"^[0-9*#]{1,20}$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
MAX_HOPS = 64
NUMBER_DIGITS = 11
NUMBER_TIMEOUT_SECONDS = 10
CONFIRM_TIMEOUT_SECONDS = 6


# --- flows as data ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hours:
    """Business hours of an hours-branch node: weekdays (0 = Monday), [open, close), holidays closed."""

    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    open: str = "09:00"
    close: str = "18:00"
    closed_on_holidays: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "Hours":
        raw = params.get("hours") or {}
        return cls(weekdays=tuple(int(d) for d in raw.get("weekdays", (0, 1, 2, 3, 4))),
                   open=str(raw.get("open", "09:00")), close=str(raw.get("close", "18:00")),
                   closed_on_holidays=bool(raw.get("closed_on_holidays", True)))


@dataclass(frozen=True)
class NodeSpec:
    key: str
    kind: str
    name: str = ""
    guidance: int | None = None            # menu prompt; played guidance; "sent" message; pre-transfer; voicemail prompt; closing
    timeout_guidance: int | None = None    # menu: 入力タイムアウト時ガイダンス
    mis_entry_guidance: int | None = None  # menu: 入力ミス時ガイダンス
    digits: int = 1
    timeout: int = 5
    max_tries: int = 3
    exits: Mapping[str, str] = field(default_factory=dict)  # label (digits or exit name) → node key
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name or self.key

    @property
    def branches(self) -> dict[str, str]:
        """A menu's digit branches."""
        return {label: target for label, target in self.exits.items() if label not in msg.EXIT_LABELS}

    def param(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value in (None, "") else value


@dataclass(frozen=True)
class FlowSpec:
    entry: str
    nodes: Mapping[str, NodeSpec]
    name: str = ""
    number: str = ""

    def node(self, key: str) -> NodeSpec:
        try:
            return self.nodes[key]
        except KeyError:
            raise FlowError(f"ノード「{key}」がフローにありません。") from None


class FlowError(Exception):
    """The flow cannot go on (a node vanished, a loop without input): the call ends politely."""


# --- validation ------------------------------------------------------------------------------------------
def validate_flow(flow: FlowSpec, guidance_ids: set[int] | None = None, box_numbers: set[int] | None = None,
                  ) -> list[str]:
    """Every problem of a flow, in Japanese, each naming the node; [] when the flow can be used."""
    errors: list[str] = []
    if not flow.nodes:
        return ["フロー: ノードが 1 つもありません。"]
    if flow.entry not in flow.nodes:
        errors.append(f"フロー: 開始ノード「{flow.entry}」がありません。" if flow.entry else "フロー: 開始ノードを選んでください。")
    for node in flow.nodes.values():
        errors.extend(f"ノード「{node.label}」({node.key}): {problem}"
                      for problem in node_problems(node, flow, guidance_ids, box_numbers))
    if flow.entry in flow.nodes:
        reachable = reachable_keys(flow)
        errors.extend(f"ノード「{node.label}」({node.key}): 開始ノードからたどり着けません。"
                      for node in flow.nodes.values() if node.key not in reachable)
    errors.extend(f"ノード「{flow.nodes[key].label}」({key}): 入力待ちのない繰り返しになっています（無限ループ）。"
                  for key in loop_without_input(flow))
    return errors


def node_problems(node: NodeSpec, flow: FlowSpec, guidance_ids: set[int] | None,
                  box_numbers: set[int] | None) -> list[str]:
    problems: list[str] = []
    if not NODE_KEY.match(node.key):
        problems.append("ID は半角英数字・-・_ の 1〜40 文字にしてください。")
    if node.kind not in REQUIRED_EXITS:
        return problems + [f"種類「{node.kind}」は使えません。"]
    problems += exit_problems(node, flow)
    problems += guidance_problems(node, guidance_ids)
    problems += KIND_CHECKS.get(node.kind, lambda n, b: [])(node, box_numbers)
    return problems


def exit_problems(node: NodeSpec, flow: FlowSpec) -> list[str]:
    problems = []
    for name in REQUIRED_EXITS[node.kind]:
        if not node.exits.get(name):
            problems.append(f"「{msg.EXIT_LABELS[name]}」の行き先を選んでください。")
    allowed = set(REQUIRED_EXITS[node.kind])
    for label, target in node.exits.items():
        where = f"「{msg.EXIT_LABELS.get(label, label)}」" if label in msg.EXIT_LABELS else f"分岐「{label}」"
        if label not in allowed and not (node.kind == "menu" and label not in msg.EXIT_LABELS):
            problems.append(f"{where}はこの種類のノードでは使えません。")
        elif not target:
            problems.append(f"{where}の行き先を選んでください。")
        elif target not in flow.nodes:
            problems.append(f"{where}の行き先「{target}」はありません。")
        elif node.kind == "goto" and flow.nodes[target].kind != "menu":
            problems.append(f"移動先「{flow.nodes[target].label}」は PB メニューではありません。")
    return problems


def guidance_problems(node: NodeSpec, guidance_ids: set[int] | None) -> list[str]:
    problems = []
    if node.kind in ("menu", "play") and not node.guidance:
        problems.append("ガイダンスを選んでください。" if node.kind == "play"
                        else "振り分けガイダンス【PB】を選んでください（ガイダンスのないメニューは使えません）。")
    if guidance_ids is not None:
        for label, gid in guidance_fields(node):
            if gid and gid not in guidance_ids:
                problems.append(f"{label}（ID {gid}）は登録されていません。")
    return problems


def guidance_fields(node: NodeSpec) -> list[tuple[str, int | None]]:
    """(Japanese field name, guidance id) of every guidance a node uses."""
    fields = [("ガイダンス", node.guidance)]
    if node.kind == "menu":
        fields = [("振り分けガイダンス【PB】", node.guidance), ("入力タイムアウト時ガイダンス", node.timeout_guidance),
                  ("入力ミス時ガイダンス", node.mis_entry_guidance)]
    if node.kind == "sms":
        fields = [("送信完了ガイダンス", node.guidance),
                  ("携帯番号入力ガイダンス", node.param("number_entry_guidance")),
                  ("番号エラー時ガイダンス", node.param("invalid_number_guidance"))]
    return [(label, int(gid) if gid else None) for label, gid in fields]


def _menu_problems(node: NodeSpec, _boxes) -> list[str]:
    problems = []
    if not 1 <= node.digits <= 20:
        problems.append("桁数は 1〜20 にしてください。")
    if not 1 <= node.timeout <= 60:
        problems.append("入力タイムアウトは 1〜60 秒にしてください。")
    if not 1 <= node.max_tries <= 10:
        problems.append("リトライ回数は 1〜10 回にしてください。")
    branches = node.branches
    if not branches:
        problems.append("分岐（押された番号と行き先）を 1 つ以上設定してください。")
    for label in branches:
        if not BRANCH_DIGITS.match(label):
            problems.append(f"分岐「{label}」: 番号は 0〜9・*・# で入力してください。")
        elif len(label) != node.digits:
            problems.append(f"分岐「{label}」: 桁数（{node.digits} 桁）と合いません。")
    return problems


def _sms_problems(node: NodeSpec, boxes: set[int] | None) -> list[str]:
    box = node.param("box_number")
    if box in (None, ""):
        return ["蓄積BOXを選んでください。"]
    if boxes is not None and int(box) not in boxes:
        return [f"蓄積BOX {box} は登録されていません。"]
    return []


def _transfer_problems(node: NodeSpec, _boxes) -> list[str]:
    problems = []
    number = str(node.param("number", ""))
    if not re.fullmatch(r"\+?\d{6,15}", number):
        problems.append("転送先の電話番号を正しく入力してください（例: 0312345678 / +81312345678）。")
    if not 5 <= int(node.param("timeout", 30)) <= 120:
        problems.append("呼び出し時間は 5〜120 秒にしてください。")
    return problems


def _voicemail_problems(node: NodeSpec, _boxes) -> list[str]:
    if not 5 <= int(node.param("max_seconds", 120)) <= 600:
        return ["録音時間は 5〜600 秒にしてください。"]
    return []


def _hours_problems(node: NodeSpec, _boxes) -> list[str]:
    hours = Hours.from_params(node.params)
    problems = []
    if not hours.weekdays or any(d not in range(7) for d in hours.weekdays):
        problems.append("営業する曜日を 1 つ以上選んでください。")
    if not (CLOCK.match(hours.open) and CLOCK.match(hours.close)):
        problems.append("営業時間は HH:MM 形式で入力してください。")
    elif hours.open >= hours.close:
        problems.append("営業開始は営業終了より前にしてください。")
    return problems


KIND_CHECKS: dict[str, Callable[[NodeSpec, set[int] | None], list[str]]] = {
    "menu": _menu_problems, "sms": _sms_problems, "transfer": _transfer_problems,
    "voicemail": _voicemail_problems, "hours": _hours_problems,
}


def reachable_keys(flow: FlowSpec, start: str | None = None) -> set[str]:
    seen: set[str] = set()
    todo = [start or flow.entry]
    while todo:
        key = todo.pop()
        if key in seen or key not in flow.nodes:
            continue
        seen.add(key)
        todo.extend(flow.nodes[key].exits.values())
    return seen


def loop_without_input(flow: FlowSpec) -> list[str]:
    """Keys of nodes on a cycle that never waits for the caller (it would spin forever)."""
    passing = {k: [t for t in n.exits.values() if t in flow.nodes and flow.nodes[t].kind not in WAITING_KINDS]
               for k, n in flow.nodes.items() if n.kind not in WAITING_KINDS}
    on_cycle: set[str] = set()
    for key in passing:
        if key in reachable_from(passing, passing[key]):
            on_cycle.add(key)
    return sorted(on_cycle)


def reachable_from(graph: Mapping[str, list[str]], starts: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        key = todo.pop()
        if key not in seen:
            seen.add(key)
            todo.extend(graph.get(key, ()))
    return seen


# --- business hours ------------------------------------------------------------------------------------------
def is_open(hours: Hours, now: dt.datetime, holiday_name: Callable[[dt.date], str | None]) -> tuple[bool, str]:
    """Whether the hours branch is open at `now`, and why (Japanese, for the call log)."""
    if hours.closed_on_holidays:
        name = holiday_name(now.date())
        if name:
            return False, f"休日（{name}）"
    if now.weekday() not in hours.weekdays:
        return False, f"営業日外（{msg.WEEKDAY_LABELS[now.weekday()]}曜日）"
    clock = now.strftime("%H:%M")
    if not hours.open <= clock < hours.close:
        return False, f"営業時間外（{clock}、営業 {hours.open}〜{hours.close}）"
    return True, f"営業時間内（{clock}）"


# --- what the engine asks Twilio to do ----------------------------------------------------------------------
@dataclass(frozen=True)
class Guidance:
    guidance_id: int


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class Gather:
    num_digits: int
    timeout: int
    prompts: tuple
    finish_on_key: str = ""  # R-09b: no finish key for menus


@dataclass(frozen=True)
class Dial:
    number: str
    timeout: int


@dataclass(frozen=True)
class Record:
    max_seconds: int


@dataclass(frozen=True)
class Hangup:
    pass


# --- inputs ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Keys:
    digits: str  # "" when the Gather timed out


@dataclass(frozen=True)
class DialEnded:
    status: str
    seconds: int = 0


@dataclass(frozen=True)
class Recorded:
    url: str | None
    seconds: int = 0


MAX_REPORTED_SECONDS = 24 * 3600  # Twilio ends a call after 4 hours: a longer duration is not a real one


def input_from_params(mode: str, params: Mapping[str, str]):
    """The input a webhook request carries, read as the waiting mode expects it."""
    if mode == "dial":
        return DialEnded(params.get("DialCallStatus", "") or "no-answer", _int(params.get("DialCallDuration")))
    if mode == "record":
        return Recorded(params.get("RecordingUrl") or None, _int(params.get("RecordingDuration")))
    return Keys((params.get("Digits") or "").strip())


def _int(value) -> int:
    """Seconds Twilio reports: a non-number counts as 0 and more than a day as a day, rather than failing the call."""
    return int_or(value, 0, maximum=MAX_REPORTED_SECONDS)


# --- outputs --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    kind: str
    node_key: str = ""
    node_name: str = ""
    digits: str = ""
    detail: str = ""


@dataclass
class Step:
    verbs: list
    state: dict
    events: list[Event]
    outcome: str | None
    last_node: NodeSpec | None
    recording: Recorded | None = None  # the voicemail this step received, kept for staff to hear


@dataclass
class Ports:
    """The engine's view of the world; the webhook gives real ones, tests give fakes."""

    now: dt.datetime
    holiday_name: Callable[[dt.date], str | None]
    check_mobile: Callable[[str], Any]           # → .ok, .e164, .reason, .withheld
    send_sms: Callable[[int, str, str], Any]     # (box, to, idempotency suffix) → .ok, .code, .reason


def new_state(caller: str) -> dict:
    return {"caller": caller, "tries": {}, "wait": None, "entry": None}


def start(flow: FlowSpec, state: dict, ports: Ports, entry: str | None = None) -> Step:
    """The first step of a call: walk from the entry node until the caller must act."""
    run = Run(flow, state, ports)
    run.walk(entry if entry in flow.nodes else flow.entry)
    return run.finish()


def resume(flow: FlowSpec, state: dict, given, ports: Ports) -> Step:
    """The step after the caller acted (or a timeout, a transfer ended, a recording ended)."""
    run = Run(flow, state, ports)
    wait = state.get("wait") or {}
    if not wait:
        raise FlowError("入力を待っていない通話に入力がありました。")
    node = flow.node(wait["node"])
    run.last = node
    handler = {"menu": run.menu_input, "number": run.number_input, "confirm": run.confirm_input,
               "dial": run.dial_ended, "record": run.recorded}[wait["mode"]]
    run.state["wait"] = None
    run.walk(handler(node, given))
    return run.finish()


def hangup_outcome(outcome: str | None, state: dict) -> tuple[str, bool]:
    """(outcome, abandoned?) when the call ended: an end node's outcome stands, else it depends on the wait."""
    if outcome:
        return outcome, False
    mode = (state.get("wait") or {}).get("mode")
    if mode == "dial":
        return "transferred", False
    if mode == "record":
        return "voicemail", False
    return "abandoned", True


def json_copy(value):
    """A deep copy of JSON-shaped data (a call's state), several times cheaper than copy.deepcopy on every key press."""
    if isinstance(value, dict):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_copy(item) for item in value]
    return value


class Run:
    """One pass of the engine: collects verbs, events and state changes."""

    def __init__(self, flow: FlowSpec, state: dict, ports: Ports):
        self.flow = flow
        self.state = json_copy(state)  # the caller's state is never changed
        self.state.setdefault("tries", {})
        self.ports = ports
        self.verbs: list = []
        self.events: list[Event] = []
        self.outcome: str | None = None
        self.last: NodeSpec | None = None
        self.recording: Recorded | None = None

    def finish(self) -> Step:
        if self.state.get("wait") is None and self.outcome is None:
            self.verbs.append(Hangup())
            self.outcome = "completed"
        return Step(self.verbs, self.state, self.events, self.outcome, self.last, self.recording)

    def event(self, kind: str, node: NodeSpec, digits: str = "", detail: str = "") -> None:
        self.events.append(Event(kind, node.key, node.label, digits, detail))

    def walk(self, key: str | None) -> None:
        hops = 0
        while key:
            hops += 1
            if hops > MAX_HOPS:
                raise FlowError("入力待ちのないままノードを繰り返しています。")
            node = self.flow.node(key)
            self.last = node
            self.event("node", node, detail=msg.KIND_LABELS.get(node.kind, node.kind))
            key = getattr(self, f"enter_{node.kind}")(node)

    # --- entering nodes (each returns the next key, or None when the call waits or ends) ---
    def enter_menu(self, node: NodeSpec) -> None:
        self.ask_menu(node, ())

    def ask_menu(self, node: NodeSpec, before: tuple) -> None:
        prompts = before + (Guidance(node.guidance),) if node.guidance else before
        self.verbs.append(Gather(node.digits, node.timeout, prompts))
        self.state["wait"] = {"node": node.key, "mode": "menu"}

    def enter_play(self, node: NodeSpec) -> str:
        self.say_guidance(node.guidance)
        return node.exits.get("next")

    def enter_goto(self, node: NodeSpec) -> str:
        return node.exits.get("target")

    def enter_hours(self, node: NodeSpec) -> str:
        opened, why = is_open(Hours.from_params(node.params), self.ports.now, self.ports.holiday_name)
        self.events[-1] = Event("node", node.key, node.label, "", f"{msg.KIND_LABELS['hours']}: {why}")
        return node.exits.get("open" if opened else "closed")

    def enter_hangup(self, node: NodeSpec) -> None:
        self.say_guidance(node.guidance)
        self.verbs.append(Hangup())
        self.outcome = "completed"

    def enter_transfer(self, node: NodeSpec) -> None:
        self.say_guidance(node.guidance)
        number = str(node.param("number", ""))
        self.verbs.append(Dial(number, int(node.param("timeout", 30))))
        self.event("transfer", node, detail=f"転送発信: {number}")
        self.state["wait"] = {"node": node.key, "mode": "dial"}

    def enter_voicemail(self, node: NodeSpec) -> None:
        self.say_guidance(node.guidance)
        self.verbs.append(Record(int(node.param("max_seconds", 120))))
        self.state["wait"] = {"node": node.key, "mode": "record"}

    def enter_sms(self, node: NodeSpec) -> str | None:
        caller = self.state.get("caller") or ""
        check = self.ports.check_mobile(caller)
        if not check.ok:
            code = "withheld" if check.withheld else "not_mobile"
            return self.cannot_send(node, code, check.reason or "")
        return self.send(node, check.e164)

    def say_guidance(self, guidance_id: int | None) -> None:
        if guidance_id:
            self.verbs.append(Guidance(guidance_id))

    # --- SMS and mobile-number hearing (R-09) ---
    def send(self, node: NodeSpec, to: str) -> str | None:
        box = int(node.param("box_number"))
        result = self.ports.send_sms(box, to, node.key)
        if result.ok:
            self.event("sms", node, detail=f"蓄積BOX {box} を {to} へ送信受付")
            self.say_guidance(node.guidance)
            return node.exits.get("next")
        self.event("sms", node, detail=f"送信不可: {result.reason or result.code}")
        if result.code in ("withheld", "not_mobile") and not (self.state.get("entry") or {}).get("number"):
            return self.cannot_send(node, result.code, result.reason or "")
        return node.exits.get("cannot_send")

    def cannot_send(self, node: NodeSpec, code: str, reason: str) -> str | None:
        if node.param("ask_number"):
            self.event("sms", node, detail=f"携帯番号ヒアリング開始（{reason}）")
            self.state["entry"] = {"node": node.key, "tries": 0, "number": None}
            self.ask_number(node, ())
            return None
        self.event("sms", node, detail=f"送信不可: {reason or code}")
        return node.exits.get("cannot_send")

    def ask_number(self, node: NodeSpec, before: tuple) -> None:
        guidance = node.param("number_entry_guidance")
        prompt = Guidance(int(guidance)) if guidance else Say(msg.NUMBER_ENTRY_PROMPT)
        self.verbs.append(Gather(NUMBER_DIGITS, NUMBER_TIMEOUT_SECONDS, before + (prompt,), finish_on_key="#"))
        self.state["wait"] = {"node": node.key, "mode": "number"}

    def ask_confirm(self, node: NodeSpec, before: tuple) -> None:
        number = self.state["entry"]["number"]
        prompt = Say(msg.NUMBER_READBACK.format(digits=read_digits(number)))
        self.verbs.append(Gather(1, CONFIRM_TIMEOUT_SECONDS, before + (prompt,)))
        self.state["wait"] = {"node": node.key, "mode": "confirm"}

    def entry_failed(self, node: NodeSpec) -> bool:
        """Count one failed try of the number hearing; True when the tries are used up."""
        entry = self.state["entry"]
        entry["tries"] += 1
        return entry["tries"] >= node.max_tries

    def number_input(self, node: NodeSpec, given: Keys) -> str | None:
        digits = given.digits.rstrip("#")
        if not digits:
            self.event("timeout", node, detail="携帯番号の入力なし")
            return self.number_retry(node, Say(msg.NUMBER_TIMEOUT))
        check = self.ports.check_mobile(digits)
        problem = number_problem(digits, check)
        if problem:
            self.event("mis_entry", node, digits, detail=f"携帯番号エラー: {msg.NUMBER_PROBLEMS[problem]}")
            invalid = node.param("invalid_number_guidance")
            return self.number_retry(node, Guidance(int(invalid)) if invalid else Say(msg.NUMBER_PROBLEMS[problem]))
        self.event("digit", node, digits, detail="携帯番号入力")
        self.state["entry"].update(number=digits, e164=check.e164)
        self.ask_confirm(node, ())
        return None

    def number_retry(self, node: NodeSpec, why) -> str | None:
        if self.entry_failed(node):
            self.event("sms", node, detail="携帯番号ヒアリング: 入力回数の上限")
            return node.exits.get("cannot_send")
        self.ask_number(node, (why,))
        return None

    def confirm_input(self, node: NodeSpec, given: Keys) -> str | None:
        entry = self.state["entry"]
        if given.digits == "1":
            self.event("digit", node, "1", detail=f"番号確認: {entry['number']}")
            return self.send(node, entry["e164"])
        if given.digits == "2":
            self.event("digit", node, "2", detail="番号の入力し直し")
            entry["number"] = None
            self.ask_number(node, ())
            return None
        kind = "timeout" if not given.digits else "mis_entry"
        self.event(kind, node, given.digits, detail="番号確認")
        if self.entry_failed(node):
            self.event("sms", node, detail="携帯番号ヒアリング: 入力回数の上限")
            return node.exits.get("cannot_send")
        self.ask_confirm(node, (Say(msg.CONFIRM_AGAIN),))
        return None

    # --- PB menu (R-03) ---
    def menu_input(self, node: NodeSpec, given: Keys) -> str | None:
        digits = given.digits
        target = node.branches.get(digits) if digits else None
        if target:
            self.event("digit", node, digits, detail=f"→ {self.flow.node(target).label}")
            return target
        tries = self.state["tries"].get(node.key, 0) + 1
        self.state["tries"][node.key] = tries
        used_up = tries >= node.max_tries
        fallback = node.exits.get("fallback")
        after = f"リトライ上限 → {self.flow.node(fallback).label}" if used_up else "ガイダンスを再生し直し"
        if digits:
            self.event("mis_entry", node, digits, detail=f"該当する分岐なし（{tries}/{node.max_tries} 回目、{after}）")
            again = Guidance(node.mis_entry_guidance) if node.mis_entry_guidance else Say(msg.DEFAULT_MIS_ENTRY)
        else:
            self.event("timeout", node, detail=f"{node.timeout} 秒間入力なし（{tries}/{node.max_tries} 回目、{after}）")
            again = Guidance(node.timeout_guidance) if node.timeout_guidance else Say(msg.DEFAULT_TIMEOUT)
        if used_up:
            return fallback
        self.ask_menu(node, (again,))
        return None

    # --- transfer and voicemail results ---
    def dial_ended(self, node: NodeSpec, given: DialEnded) -> str | None:
        if given.status in ("completed", "answered"):
            self.event("transfer", node, detail=f"転送先が応答（通話 {given.seconds} 秒）")
            self.verbs.append(Hangup())
            self.outcome = "transferred"
            return None
        self.event("transfer", node, detail=f"転送先が応答せず（{given.status}）")
        return node.exits.get("no_answer")

    def recorded(self, node: NodeSpec, given: Recorded) -> None:
        if given.url:
            self.event("voicemail", node, detail=f"録音 {given.seconds} 秒: {given.url}")
            self.verbs += [Say(msg.VOICEMAIL_THANKS), Hangup()]
            self.outcome = "voicemail"
            self.recording = given
            return None
        self.event("voicemail", node, detail="録音なし")
        self.verbs += [Say(msg.VOICEMAIL_EMPTY), Hangup()]
        self.outcome = "completed"
        return None


# --- numbers ----------------------------------------------------------------------------------------------------
def number_problem(digits: str, check) -> str | None:
    """Why a keyed-in number cannot take an SMS (a key of messages.NUMBER_PROBLEMS), or None."""
    if check.ok and len(digits) == NUMBER_DIGITS:
        return None
    if digits.startswith("050"):
        return "ip_phone"
    if len(digits) != NUMBER_DIGITS:
        return "length"
    if digits[:3] in ("070", "080", "090") and digits[3] == "0":
        return "unassigned"
    return "not_mobile"


def read_digits(number: str) -> str:
    """090-1234-5678 read one digit at a time, with a longer pause between the usual groups."""
    groups = [number[:3], number[3:7], number[7:]] if len(number) == NUMBER_DIGITS else [number]
    return "、".join("・".join(msg.DIGIT_READINGS.get(d, d) for d in group) for group in groups if group)
