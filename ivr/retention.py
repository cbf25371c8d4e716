"""What ivr keeps and how it goes at the daily retention purge (R-52, core.retention): calls with their events,
voicemails and recorded transfers (a recording at Twilio is deleted there first, through Twilio's API), the call
simulator's recordings, and the audit entries that name a caller."""
from __future__ import annotations

import logging

from flask import Flask

from core import audit
from core.db import write_transaction
from core.models import AuditLog
from core.retention import Expiry, delete_rows, register_retention
from core.twilio import recordings
from ivr import simulator
from ivr.models import Call, CallEvent, CallRecording, FlowVersion, Voicemail
from ivr.voicemails import simulator_file_name

log = logging.getLogger("ivr.retention")
# Audit actions whose entries name a caller's number.
NUMBER_AUDIT_ACTIONS = ("ivr.voicemail.handled", "ivr.voicemail.reopened", "ivr.caller_rule.created",
                        "ivr.caller_rule.deleted")


def purge_calls(expiry: Expiry) -> int:
    """Calls by the day they started, with their events and voicemails. A call whose recording Twilio has not
    confirmed deleted stays until a later purge has it deleted (its URL is the only way to reach it)."""
    expired = Call.started_at < expiry.before
    waiting = delete_twilio_recordings(expired)
    if waiting:
        expired &= Call.id.not_in(waiting)
    return delete_rows(Call, expired, expiry, children=(CallEvent.call, Voicemail.call, CallRecording.call))


def purge_trial_versions(expiry: Expiry) -> int:
    """The simulator's trial versions (frozen drafts, number None) once as old as a call kept no longer, unless a
    call still kept ran on one: every simulator try of a different draft made one, and nothing else removed them."""
    kept_calls_ran_on = Call.select(Call.flow_version_id).where(Call.flow_version_id.is_null(False))
    with write_transaction():
        return (FlowVersion.delete()
                .where(FlowVersion.number.is_null() & (FlowVersion.created_at < expiry.before)
                       & FlowVersion.id.not_in(kept_calls_ran_on))
                .execute())


def delete_twilio_recordings(expired) -> list[int]:
    """Delete at Twilio the recordings of expiring calls (voicemails, recorded transfers); returns the calls to
    keep for now."""
    waiting: list[int] = []
    voicemails = Voicemail.select(Voicemail.call, Voicemail.url).join(Call).where(expired).order_by(Voicemail.id)
    transfers = (CallRecording.select(CallRecording.call, CallRecording.url).join(Call).where(expired)
                 .order_by(CallRecording.id))
    for call_id, url in [*voicemails.tuples(), *transfers.tuples()]:
        if simulator_file_name(url):
            continue  # the app's own file: swept once its call is gone
        if waiting:  # Twilio failed once in this run: the rest wait for the next run rather than time out too
            waiting.append(call_id)
            continue
        try:
            recordings.delete(url)
        except recordings.NotOurRecording as exc:  # nothing these credentials can delete: the row goes
            log.warning("call %s: recording %s not deleted: %s", call_id, url, exc)
        except recordings.RecordingUnavailable as exc:
            log.warning("call %s kept until Twilio deletes its recording %s: %s", call_id, url, exc)
            waiting.append(call_id)
    return waiting


def register(app: Flask) -> None:
    """In this order: the calls go first, so the simulator's sweep then finds their recordings orphaned."""
    register_retention(app, "ivr.calls", purge_calls, covers=(Call, CallEvent, Voicemail, CallRecording))
    register_retention(app, "ivr.simulator_recordings", lambda expiry: simulator.sweep_recordings())
    register_retention(app, "ivr.trial_versions", purge_trial_versions)
    register_retention(app, "ivr.audit", audit.expired_entries(*NUMBER_AUDIT_ACTIONS),
                       covers=(AuditLog.target, AuditLog.detail))
