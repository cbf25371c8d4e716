"""The call engine: (flow, call state, input) → the next step (verbs for Twilio, events for the call log, the new
state, the outcome when the call ends).

Nothing here touches Flask, the database or Twilio. The outside world reaches the engine through `Ports`
(the clock, the holiday calendar, the mobile-number check and the SMS queue), so every decision is tested as
a plain function. Webhooks (ivr.calls) read the state, call `start`/`resume`, store the result and render its
verbs as TwiML (ivr.twiml).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from core import phone
from ivr import messages as msg
from ivr.hours import Hours, is_open
from ivr.number_entry import NUMBER_DIGITS, number_problem, read_digits
from ivr.spec import FlowError, FlowSpec, NodeSpec
from ivr.state import CallState, NumberEntry, Wait, WaitMode
from ivr.verbs import (
    At,
    Dial,
    DialEnded,
    Gather,
    Guidance,
    Hangup,
    Input,
    Keys,
    Prompt,
    Record,
    Recorded,
    Say,
    Verb,
)

MAX_HOPS = 64
# The flow-level guard: menus count their tries per visit (R-09b), so a menu whose retry-limit branch leads back
# to itself would ask a silent caller for ever; after this many timeouts and mis-entries in one call it ends.
MAX_CALL_FAILURES = 30
NUMBER_TIMEOUT_SECONDS = 10
CONFIRM_TIMEOUT_SECONDS = 6


@dataclass(frozen=True)
class Event:
    """One line of the call log (ivr.models.CallEvent)."""

    kind: str
    node_key: str = ""
    node_name: str = ""
    digits: str = ""
    detail: str = ""


@dataclass
class Step:
    verbs: list[Verb]
    state: CallState
    events: list[Event]
    outcome: str | None
    last_node: NodeSpec | None
    recording: Recorded | None = None  # the voicemail this step received, kept for staff to hear


@dataclass
class Ports:
    """The engine's view of the world; the webhook gives real ones, tests give fakes."""

    now: dt.datetime
    holiday_name: Callable[[dt.date], str | None]
    check_mobile: Callable[[str], Any]           # core.phone.check_mobile: .ok, .e164, .reason, .code, .withheld
    send_sms: Callable[[int, str, str], Any]     # (box, to, idempotency suffix) → .ok, .code, .reason
    # (menu node, what the caller said, confidence) → the digit of the choice named, or None (ivr.speech)
    match_speech: Callable[[NodeSpec, str, float | None], str | None] | None = None


def start(flow: FlowSpec, state: CallState, ports: Ports, entry: str | None = None) -> Step:
    """The first step of a call: walk from the entry node until the caller must act."""
    run = Run(flow, state, ports)
    run.walk(entry if entry in flow.nodes else flow.entry)
    return run.finish()


def resume(flow: FlowSpec, state: CallState, given: Input, ports: Ports) -> Step:
    """The step after the caller acted (or a timeout, a transfer ended, a recording ended)."""
    if state.wait is None:
        raise FlowError("入力を待っていない通話に入力がありました。")
    run = Run(flow, state, ports)
    node = flow.node(state.wait.node)
    run.last = node
    handler = RESUMED_BY[state.wait.mode]
    run.state.wait = None
    run.walk(handler(run, node, given))
    return run.finish()


def hangup_outcome(outcome: str | None, state: CallState) -> tuple[str, bool]:
    """(outcome, abandoned?) when the call ended: an end node's outcome stands, a call that left a menu through
    its retry-limit branch is リトライ上限 whatever came after, else it depends on the wait."""
    if outcome:
        return outcome, False
    if state.retry_limited:
        return "retry_limit", False
    mode = state.wait.mode if state.wait else None
    if mode == "dial":
        return "transferred", False
    if mode == "record":
        return "voicemail", False
    return "abandoned", True


class Run:
    """One pass of the engine: collects verbs, events and state changes."""

    def __init__(self, flow: FlowSpec, state: CallState, ports: Ports):
        self.flow = flow
        self.state = state.copy()  # the caller's state is never changed
        self.ports = ports
        self.verbs: list[Verb] = []
        self.events: list[Event] = []
        self.outcome: str | None = None
        self.last: NodeSpec | None = None
        self.recording: Recorded | None = None
        self.first = state.wait is None  # start(): the call's first document

    def finish(self) -> Step:
        if self.state.wait is None and self.outcome is None:
            self.verbs.append(Hangup())
            self.outcome = "completed"
        if self.outcome and self.outcome != "error" and self.state.retry_limited:
            self.outcome = "retry_limit"  # R-04a: left a menu through its retry-limit branch, whatever came after
        return Step(self.verbs, self.state, self.events, self.outcome, self.last, self.recording)

    def event(self, kind: str, node: NodeSpec, digits: str = "", detail: str = "") -> None:
        self.events.append(Event(kind, node.key, node.label, digits, detail))

    def wait_at(self, node: NodeSpec, mode: WaitMode) -> None:
        self.state.wait = Wait(node.key, mode)

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
        self.state.enter_menu(node.key)
        self.ask_menu(node, ())

    def ask_menu(self, node: NodeSpec, before: tuple[Prompt, ...]) -> None:
        prompts = before + (Guidance(node.guidance, At(node.key, "menu_prompt")),) if node.guidance else before
        keywords = node.param("keywords") or {}
        hints = ",".join(word for words in keywords.values() for word in words)
        self.verbs.append(Gather(node.digits, node.timeout, prompts, at=At(node.key, "input_wait"), hints=hints))
        self.wait_at(node, "menu")

    def enter_play(self, node: NodeSpec) -> str:
        self.say_guidance(node, "greeting" if self.opening() else "guidance")
        return node.exits.get("next")

    def opening(self) -> bool:
        """The call's first document, before any menu: what plays is its greeting."""
        return self.first and not any(isinstance(verb, Gather) for verb in self.verbs)

    def enter_goto(self, node: NodeSpec) -> str:
        return node.exits.get("target")

    def enter_hours(self, node: NodeSpec) -> str:
        opened, why = is_open(Hours.from_params(node.params), self.ports.now, self.ports.holiday_name)
        self.events[-1] = Event("node", node.key, node.label, "", f"{msg.KIND_LABELS['hours']}: {why}")
        return node.exits.get("open" if opened else "closed")

    def enter_hangup(self, node: NodeSpec) -> None:
        self.say_guidance(node, "closing")
        self.verbs.append(Hangup())
        self.outcome = "completed"

    def enter_transfer(self, node: NodeSpec) -> None:
        self.say_guidance(node, "transfer")
        number = str(node.param("number", ""))
        record = bool(node.param("record"))
        if record:  # the caller hears that the call is recorded before it is put through
            notice, at = node.param("record_notice_guidance"), At(node.key, "recording_notice")
            self.verbs.append(Guidance(int(notice), at) if notice else Say(msg.RECORDING_NOTICE, at))
        self.verbs.append(Dial(number, int(node.param("timeout", 30)), at=At(node.key, "dialing"), record=record))
        self.event("transfer", node, detail=f"転送発信: {phone.display(number)}{'（録音あり）' if record else ''}")
        self.wait_at(node, "dial")

    def enter_voicemail(self, node: NodeSpec) -> None:
        self.say_guidance(node, "voicemail_prompt")
        self.verbs.append(Record(int(node.param("max_seconds", 120)), at=At(node.key, "recording")))
        self.wait_at(node, "record")

    def enter_sms(self, node: NodeSpec) -> str | None:
        check = self.ports.check_mobile(self.state.caller)
        if not check.ok:
            code = "withheld" if check.withheld else "not_mobile"
            return self.cannot_send(node, code, check.reason or "")
        return self.send(node, check.e164)

    def say_guidance(self, node: NodeSpec, part: str) -> None:
        if node.guidance:
            self.verbs.append(Guidance(node.guidance, At(node.key, part)))

    # --- SMS and mobile-number hearing (R-09) ---
    def send(self, node: NodeSpec, to: str) -> str | None:
        box = int(node.param("box_number"))
        result = self.ports.send_sms(box, to, node.key)
        if result.ok:
            self.event("sms", node, detail=f"蓄積BOX {box} を {phone.display(to)} へ送信受付")
            self.say_guidance(node, "sms_result")
            return node.exits.get("next")
        self.event("sms", node, detail=f"送信不可: {result.reason or result.code}")
        if result.code in ("withheld", "not_mobile") and not (self.state.entry and self.state.entry.number):
            return self.cannot_send(node, result.code, result.reason or "")
        return node.exits.get("cannot_send")

    def cannot_send(self, node: NodeSpec, code: str, reason: str) -> str | None:
        if node.param("ask_number"):
            self.event("sms", node, detail=f"携帯番号ヒアリング開始（{reason}）")
            self.state.entry = NumberEntry(node.key)
            self.ask_number(node, ())
            return None
        self.event("sms", node, detail=f"送信不可: {reason or code}")
        return node.exits.get("cannot_send")

    def ask_number(self, node: NodeSpec, before: tuple[Prompt, ...]) -> None:
        guidance = node.param("number_entry_guidance")
        at = At(node.key, "number_entry")
        prompt = Guidance(int(guidance), at) if guidance else Say(msg.NUMBER_ENTRY_PROMPT, at)
        self.verbs.append(Gather(NUMBER_DIGITS, NUMBER_TIMEOUT_SECONDS, before + (prompt,), finish_on_key="#",
                                 at=At(node.key, "input_wait")))
        self.wait_at(node, "number")

    def ask_confirm(self, node: NodeSpec, before: tuple[Prompt, ...]) -> None:
        prompt = Say(msg.NUMBER_READBACK.format(digits=read_digits(self.state.entry.number)),
                     At(node.key, "number_readback"))
        self.verbs.append(Gather(1, CONFIRM_TIMEOUT_SECONDS, before + (prompt,), at=At(node.key, "input_wait")))
        self.wait_at(node, "confirm")

    def entry_failed(self, node: NodeSpec) -> bool:
        """Count one failed try of the number hearing; True when the tries are used up."""
        entry = self.state.entry = replace(self.state.entry, tries=self.state.entry.tries + 1)
        return entry.tries >= node.max_tries

    def number_input(self, node: NodeSpec, given: Keys) -> str | None:
        digits = given.digits.rstrip("#")
        if not digits:
            self.event("timeout", node, detail="携帯番号の入力なし")
            return self.number_retry(node, Say(msg.NUMBER_TIMEOUT, At(node.key, "number_error")))
        check = self.ports.check_mobile(digits)
        problem = number_problem(digits, check)
        if problem:
            self.event("mis_entry", node, digits, detail=f"携帯番号エラー: {msg.NUMBER_PROBLEMS[problem]}")
            invalid = node.param("invalid_number_guidance")
            at = At(node.key, "number_error")
            return self.number_retry(node, Guidance(int(invalid), at) if invalid
                                     else Say(msg.NUMBER_PROBLEMS[problem], at))
        self.event("digit", node, digits, detail="携帯番号入力")
        self.state.entry = replace(self.state.entry, number=digits, e164=check.e164)
        self.ask_confirm(node, ())
        return None

    def number_retry(self, node: NodeSpec, why: Prompt) -> str | None:
        if self.entry_failed(node):
            self.event("sms", node, detail="携帯番号ヒアリング: 入力回数の上限")
            return node.exits.get("cannot_send")
        self.ask_number(node, (why,))
        return None

    def confirm_input(self, node: NodeSpec, given: Keys) -> str | None:
        entry = self.state.entry
        if given.digits == "1":
            self.event("digit", node, "1", detail=f"番号確認: {entry.number}")
            return self.send(node, entry.e164)
        if given.digits == "2":
            self.event("digit", node, "2", detail="番号の入力し直し")
            self.state.entry = replace(entry, number=None)
            self.ask_number(node, ())
            return None
        kind = "timeout" if not given.digits else "mis_entry"
        self.event(kind, node, given.digits, detail="番号確認")
        if self.entry_failed(node):
            self.event("sms", node, detail="携帯番号ヒアリング: 入力回数の上限")
            return node.exits.get("cannot_send")
        self.ask_confirm(node, (Say(msg.CONFIRM_AGAIN, At(node.key, "number_readback")),))
        return None

    # --- PB menu (R-03, R-09b) ---
    def menu_input(self, node: NodeSpec, given: Keys) -> str | None:
        digits, heard = given.digits, ""
        if given.said is not None:  # a spoken answer: the choice it names, if any (no match is a mis-entry)
            digits = (self.ports.match_speech(node, given.said, given.confidence) if self.ports.match_speech
                      else None) or ""
            sure = "不明" if given.confidence is None else f"{given.confidence:.2f}"
            heard = f"音声「{given.said}」（信頼度 {sure}）"
        target = node.branches.get(digits) if digits else None
        if target:
            kind, shown = ("speech", f"{heard} → ") if heard else ("digit", "→ ")
            self.event(kind, node, digits, detail=f"{shown}{self.flow.node(target).label}")
            return target
        missed = bool(digits or heard)  # keys or words that name no choice; nothing at all is a timeout
        kind = "mis_entry" if missed else "timeout"
        counts, limit = (self.state.misses, node.max_mis_entries) if missed else (self.state.tries, node.max_tries)
        tries = counts[node.key] = counts.get(node.key, 0) + 1
        self.state.failures += 1
        used_up = tries >= limit
        fallback = node.exits.get("fallback")
        after = f"リトライ上限 → {self.flow.node(fallback).label}" if used_up else "ガイダンスを再生し直し"
        if missed:
            self.event(kind, node, digits,
                       detail=f"{heard + ': ' if heard else ''}該当する分岐なし（入力ミス {tries}/{limit} 回目、{after}）")
            again = (Guidance(node.mis_entry_guidance, At(node.key, kind)) if node.mis_entry_guidance
                     else Say(msg.DEFAULT_MIS_ENTRY, At(node.key, kind)))
        else:
            self.event(kind, node, detail=f"{node.timeout} 秒間入力なし（タイムアウト {tries}/{limit} 回目、{after}）")
            again = (Guidance(node.timeout_guidance, At(node.key, kind)) if node.timeout_guidance
                     else Say(msg.DEFAULT_TIMEOUT, At(node.key, kind)))
        if self.state.failures >= MAX_CALL_FAILURES:
            return self.too_many_failures(node)
        if used_up:
            self.state.retry_limited = True
            return fallback
        self.ask_menu(node, (again,))
        return None

    def too_many_failures(self, node: NodeSpec) -> None:
        """The flow-level guard: the caller has been asked again too often in this call; end it politely."""
        self.event("error", node, detail=f"通話全体の再入力が上限（{MAX_CALL_FAILURES} 回）に達したため終了")
        self.state.retry_limited = True
        self.verbs += [Say(msg.TOO_MANY_FAILURES, At(node.key, "closing")), Hangup()]
        self.outcome = "retry_limit"

    # --- transfer and voicemail results ---
    def dial_ended(self, node: NodeSpec, given: DialEnded) -> str | None:
        if given.status in ("completed", "answered"):
            self.event("transfer", node, detail=f"転送先が応答（通話 {given.seconds} 秒）")
            self.verbs.append(Hangup())
            self.outcome = "transferred"
            return None
        status = msg.DIAL_STATUS_LABELS.get(given.status, given.status)
        self.event("transfer", node, detail=f"転送先が応答せず（{status}）")
        return node.exits.get("no_answer")

    def recorded(self, node: NodeSpec, given: Recorded) -> None:
        if given.url:
            self.event("voicemail", node, detail=f"録音 {given.seconds} 秒: {given.url}")
            self.verbs += [Say(msg.VOICEMAIL_THANKS, At(node.key, "closing")), Hangup()]
            self.outcome = "voicemail"
            self.recording = given
        else:
            self.event("voicemail", node, detail="録音なし")
            self.verbs += [Say(msg.VOICEMAIL_EMPTY, At(node.key, "closing")), Hangup()]
            self.outcome = "completed"


# Wait mode → what takes the input the next webhook brings (read by ivr.verbs.input_from_params).
RESUMED_BY: dict[WaitMode, Callable[[Run, NodeSpec, Input], str | None]] = {
    "menu": Run.menu_input, "number": Run.number_input, "confirm": Run.confirm_input,
    "dial": Run.dial_ended, "record": Run.recorded,
}
