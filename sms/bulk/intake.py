"""The recipient step as a service: what the user gave (callers ticked, numbers pasted, a CSV and its column)
becomes a draft's recipients, or comes back with the errors and what the page needs to ask again.

No Flask here: the view turns the request into a `RecipientEntry` and renders the `Intake` it gets back. A CSV
whose phone column cannot be found is kept (sms.bulk.uploads), so choosing the column does not mean uploading it
again; it is discarded as soon as a draft is made from it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from core import audit
from sms.bulk import sends, uploads
from sms.bulk.models import BulkSend
from sms.bulk.recipients import CsvError, parse_pasted, read_csv

SOURCES = ("csv", "paste", "callers")


@dataclass(frozen=True)
class RecipientEntry:
    """The recipient form as submitted."""

    source: str = "csv"
    pasted: str = ""
    chosen: tuple[str, ...] = ()          # caller numbers ticked
    column: str = ""                      # the phone column chosen (1-based number or title), "" for automatic
    file_data: bytes | None = None        # a file uploaded with this request
    file_name: str = ""
    upload_token: str = ""                # a file kept from an earlier request
    upload_name: str = ""


@dataclass(frozen=True)
class Reading:
    """Candidates read from the entry, with a description of where they came from and the rows left out."""

    candidates: list
    detail: str
    broken: list = field(default_factory=list)
    empty: list = field(default_factory=list)
    field_names: tuple[str, ...] = ()     # the CSV's columns usable as {title} (差し込み)


@dataclass(frozen=True)
class Intake:
    """What the step came to: a draft (send) or errors, with the kept upload and the columns to choose from."""

    send: BulkSend | None = None
    errors: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    upload_token: str = ""
    upload_name: str = ""

    @property
    def ok(self) -> bool:
        return self.send is not None


def take_recipients(entry: RecipientEntry, send: BulkSend | None, actor: str) -> Intake:
    """A new draft (send None) or new recipients for `send`; refusals come back as errors, nothing raised."""
    try:
        reading = read_entry(entry)
        found = sends.build_recipients(reading.candidates)
        if send is None:
            send = sends.create_draft(found, source=entry.source, actor=actor, source_detail=reading.detail,
                                      broken=reading.broken, empty=reading.empty, field_names=reading.field_names)
            audit.record("bulk.draft_created", send.label, {"recipients": send.recipient_count, "source": send.source})
        else:
            send = sends.replace_recipients(send, found, source=entry.source, actor=actor,
                                            source_detail=reading.detail, broken=reading.broken, empty=reading.empty,
                                            field_names=reading.field_names)
    except sends.BulkError as error:
        return Intake(errors=tuple(error.errors), **kept_upload(entry))
    except UnusableCsv as error:
        return Intake(errors=(error.message,), columns=tuple(error.columns), upload_token=error.token,
                      upload_name=error.name)
    uploads.discard(entry.upload_token)
    return Intake(send=send)


def kept_upload(entry: RecipientEntry) -> dict:
    """The file kept from an earlier request, offered again when this one is refused for another reason."""
    if entry.source == "csv" and entry.file_data is None and uploads.read(entry.upload_token) is not None:
        return {"upload_token": entry.upload_token, "upload_name": entry.upload_name}
    return {}


def read_entry(entry: RecipientEntry) -> Reading:
    """Candidates from the chosen source, with where they came from and the CSV rows that could not be used."""
    if entry.source == "callers":
        if not entry.chosen:
            raise sends.BulkError("着信履歴から配信する電話番号を 1 件以上選んでください。")
        return Reading(parse_pasted("\n".join(entry.chosen)), f"着信履歴から {len(entry.chosen)} 件を選択")
    if entry.source == "paste":
        if not entry.pasted.strip():
            raise sends.BulkError("電話番号を貼り付けてください（1 行に 1 件）。")
        return Reading(parse_pasted(entry.pasted), "電話番号の貼り付け")
    if entry.source != "csv":
        raise sends.BulkError("配信先の指定方法を選んでください。")
    return read_upload(entry)


def read_upload(entry: RecipientEntry) -> Reading:
    data, name, token = uploaded_file(entry)
    try:
        table = read_csv(data, entry.column or None)
    except CsvError as error:
        # keep the file when a column is to be chosen, so the user need not upload it again
        kept = (token or uploads.keep(data)) if error.columns else token
        raise UnusableCsv(error, kept, name if kept else "") from error
    return Reading(table.candidates, f"{name}（{table.encoding_label}、{table.column_label}）", table.broken,
                   table.skipped, table.field_names)


def uploaded_file(entry: RecipientEntry) -> tuple[bytes, str, str]:
    """(bytes, file name, token of the kept file or "")."""
    if entry.file_data is not None and entry.file_name:
        return entry.file_data, entry.file_name, ""
    data = uploads.read(entry.upload_token)
    if data is not None:
        return data, entry.upload_name or "CSV", entry.upload_token
    raise sends.BulkError("CSV ファイルを選んでください。")


class UnusableCsv(CsvError):
    """The file cannot be read as it is; `token`/`name` say where it is kept for the next request."""

    def __init__(self, error: CsvError, token: str, name: str):
        super().__init__(error.message, error.columns)
        self.token = token
        self.name = name


def summary_sentence(send: BulkSend) -> str:
    """The flash after the step: how many recipients, and what was left out."""
    parts = [f"配信先 {send.recipient_count:,} 名"]
    for label, count in (("重複", send.duplicate_count), ("携帯電話番号ではない", send.invalid_count),
                         ("配信停止", send.optout_count), ("読み取れない行", send.broken_count)):
        if count:
            parts.append(f"{label} {count:,} 件")
    return "、".join(parts) + "。"
