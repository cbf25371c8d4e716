"""R-52: the 90-day promise holds for every table and file with a phone number or message text.

The columns come from the models themselves (every text column of every table the packages define): each must
be classified below, so a new table or column fails here until someone says whether it holds a phone number or
message text; those that do must be emptied by a registered retention target (core.retention), unless SPEC
says to keep them.
"""
import importlib
import pkgutil

from peewee import CharField, TextField

from core.db import BaseModel
from core.retention import retention_targets

PACKAGES = ("core", "guidance", "sms", "ivr", "reports", "notify")

# Columns that may hold a caller's or recipient's phone number, or the text of a message sent to someone.
HOLDS_NUMBER_OR_TEXT = {
    "audit_log": "target detail",                  # some actions name a number (optout.*, ivr.voicemail.*, …)
    "sms_message": "to_number body",
    "sms_optout": "number",
    "sms_carrier_cache": "number",
    "bulk_send": "message1 message2 source_detail",  # source_detail names the uploaded file
    "bulk_recipient": "to_number raw fields problem",  # fields: the CSV's 差し込み values (names); problem quotes them
    "bulk_skipped": "raw",
    "ivr_caller_rule": "number",
    "ivr_call": "from_number state last_response",  # state and the TwiML keep a number the caller keyed in
    "ivr_call_event": "digits detail",
    "ivr_voicemail": "url",                         # where the caller's recorded voice is
    "ivr_call_recording": "url",                    # where a recorded transfer is
    "call_path": "csv_line",                        # the call's CSV line, caller number included
    "notify_event": "facts",                        # the caller's or recipient's number the notice names
    "notify_delivery": "last_error",                # a receiver's answer might quote the notice
}
# Kept beyond the retention period on purpose: they are what the platform must remember, not records.
KEPT_ON_PURPOSE = {
    ("sms_optout", "number"): "R-24: an opted-out number is never sent to again",
    ("ivr_caller_rule", "number"): "R-09a: a block or routing rule staff set up lasts until they remove it",
}
# Text columns that hold neither (names, labels, states, ids, hashes, staff-written templates and guidance).
HOLDS_NEITHER = {
    "user": "username display_name password_hash role",
    "api_token": "label token_hash prefix created_by",
    "audit_log": "actor ip action",
    "company_holiday": "name",
    "ip_allow_rule": "scope cidr note",
    "scheduler_lease": "name holder",
    "job_run": "job_id last_result",
    "login_throttle": "client",  # a client's address, for the login throttle
    "voice_file": "name source text engine voice synth_key audio_hash original_filename updated_by",
    "guidance": "name kind updated_by",
    "resynth_job": "status voice_file_ids engine voice errors created_by",
    "sms_box": "name body url updated_by",
    "sms_message": "state error_message provider provider_sid source call_sid created_by idempotency_key "
                   "optout_token claimed_by carrier",
    "sms_carrier_cache": "carrier carrier_name network",
    "sms_billing_close": "billing",
    "sms_attempt": "claimed_by outcome provider_sid provider_status",
    "sms_receipt": "provider_sid provider_status note",
    "sms_short_link": "code target_url",
    "sms_optout": "via note",
    "sms_ticket_entry": "reason actor",
    "sms_simulated_receipt": "provider_sid status",
    "bulk_send": "title status source via created_by confirmed_by cancelled_by field_names",  # field_names: the CSV's column headings
    "bulk_recipient": "state1 state2",
    "bulk_skipped": "kind reason",
    "ivr_flow": "name number description entry_key revision updated_by",  # number: the company's own
    "ivr_node": "key name kind exits params",
    "ivr_flow_version": "body digest created_by",  # body: nodes as ivr_node's; numbers are the company's own
    "ivr_flow_draft": "body updated_by",
    "ivr_caller_rule": "action node_key note",
    "ivr_call": "call_sid to_number outcome last_node_key last_node_name abandoned_node_key "
                "abandoned_node_name status abandoned_part abandoned_guidance_name timeline",
    # to_number: the company's number that was dialled; timeline: node keys, parts, guidance ids and seconds
    "ivr_call_event": "kind node_key node_name",
    "ivr_voicemail": "node_name handled_by",
    "ivr_call_recording": "recording_sid",
    "daily_stat": "dialled",
    "daily_abandon": "dialled node_key node_name part guidance_name",
    "daily_choice": "dialled node_key node_name kind digits",  # menu digits, counted
    "daily_hour": "dialled",
    "live_snapshot": "going menus figures",  # call ids, a digest, and the daily_* figures of days not published yet
    "call_path": "path",
    "notify_destination": "name kind target secret events quiet_start quiet_end pause_reason updated_by",
    "notify_event": "kind",
    "notify_delivery": "state claimed_by",
}
# Places outside the database, and the target that empties each.
FILES = {
    "CSV files uploaded for bulk sends (var/bulk_uploads)": "sms.bulk.uploads",
    "recordings made in the call simulator": "ivr.simulator_recordings",
    "voicemail recordings kept at Twilio (deleted through its API)": "ivr.calls",
}


def project_models() -> list[type[BaseModel]]:
    for package in PACKAGES:
        for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            importlib.import_module(module.name)
    found, todo = [], list(BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        todo.extend(model.__subclasses__())
        if model.__module__.split(".")[0] in PACKAGES:
            found.append(model)
    return found


def text_columns() -> set[tuple[str, str]]:
    return {(model._meta.table_name, field.column_name) for model in project_models()
            for field in model._meta.sorted_fields if isinstance(field, (CharField, TextField))}


def listed(table: dict[str, str]) -> set[tuple[str, str]]:
    return {(name, column) for name, columns in table.items() for column in columns.split()}


def test_every_text_column_is_classified():
    personal, neither = listed(HOLDS_NUMBER_OR_TEXT), listed(HOLDS_NEITHER)
    assert not personal & neither
    unclassified = text_columns() - personal - neither
    assert not unclassified, ("say whether these hold a phone number or message text (and, if so, register a "
                              f"retention target): {sorted(unclassified)}")
    assert not (personal | neither) - text_columns(), "classified columns that no model has any more"


def test_every_column_with_a_number_or_text_has_a_retention_target(app):
    covered = {(field.model._meta.table_name, field.column_name) for target in retention_targets(app)
               for field in target.covers}
    missing = listed(HOLDS_NUMBER_OR_TEXT) - covered - set(KEPT_ON_PURPOSE)
    assert not missing, f"no retention target deletes these: {sorted(missing)}"
    assert not set(KEPT_ON_PURPOSE) & covered


def test_every_file_with_a_number_or_voice_has_a_retention_target(app):
    names = {target.name for target in retention_targets(app)}
    assert set(FILES.values()) <= names
