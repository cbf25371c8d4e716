"""Outbound channels: the protocol every way of reaching a person implements, and the channel registry.

A channel is a medium ("sms" today; LINE, e-mail or an outbound call could follow); a provider carries it
(Twilio's Messages API, or the built-in simulator). The package that owns a channel's outbox registers it in
its init_app with a factory returning the provider the settings choose; the outbox's dispatcher then speaks
only this protocol and never asks which provider it has:

- `send` once per attempt; the dispatcher stores the result before anything else happens;
- `find_sent` after a crash between a send and storing its result: what the provider accepted since then;
- receipts come pushed (the provider calls a webhook of the owning package) or pulled: `due_receipts` is asked
  on every dispatch run and returns what the provider holds (the simulator plays back its planned receipts);
  a provider with pushed receipts returns [].

Statuses are Twilio's words (queued, sending, sent, delivered, undelivered, failed): another provider maps its
own onto them, so the outbox's status rules (sms.statuses) apply unchanged.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flask import Flask

from core import registry

REGISTRY = "channels"


@dataclass(frozen=True)
class SendOutcome:
    sid: str | None                 # the provider's id when it accepted the message
    status: str = ""                # first status from the provider's answer (no receipt comes for it)
    http_status: int | None = None  # on error: HTTP status (None: network error)
    error_code: int | None = None   # on error: provider error code
    detail: str = ""


@dataclass(frozen=True)
class SentRecord:
    sid: str
    status: str
    body: str
    created_at: dt.datetime  # naive Tokyo time


@dataclass(frozen=True)
class DeliveryReceipt:
    sid: str
    status: str
    error_code: int | None = None


class Channel(Protocol):
    """A provider of one channel, as the outbox uses it."""

    name: str  # stored with each message it sent ("twilio", "simulator")

    def send(self, to: str, body: str, attempt_seq: int = 0) -> SendOutcome:
        """Hand one attempt over (`attempt_seq` 0 is the first send, n the n-th resend)."""

    def find_sent(self, to: str, body: str, since: dt.datetime) -> list[SentRecord]:
        """What was accepted for `to` with this body since `since`, newest first (crash reconciliation)."""

    def due_receipts(self, now: dt.datetime) -> list[DeliveryReceipt]:
        """Receipts the provider holds that are due now, each handed out once; [] when receipts are pushed."""


def register_channel(app: Flask, kind: str, provider: Callable[[], Channel]) -> None:
    """Say that `kind` ("sms") can be sent; `provider()` returns the provider the settings choose."""
    registry.add(app, REGISTRY, kind, provider)


def open_channel(kind: str) -> Channel:
    """The configured provider of `kind` (KeyError when no package registered it)."""
    return registry.entries(REGISTRY)[kind]()

