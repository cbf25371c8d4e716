"""Staff pages for storage boxes (メッセージ蓄積 → SMS送信情報設定, R-20): list, create, detail/save, test send,
and the JSON check the editor calls as the user types. The delivery log, outbox and opt-out pages are
sms.log_views' routes; sms.init_app puts both groups on the one `sms` blueprint.
"""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from core import audit, clock
from core.config import setting
from core.inputs import InputError, int_or, json_request, parse_int
from core.pagination import paginate
from core.routes import Routes
from core.security import role_required
from sms import visibility
from sms.models import MAX_BOX_NUMBER, Message, StorageBox
from sms.rules import URL_PATTERN
from sms.sending import check_template, preview, queue_box

routes = Routes()

MESSAGES = {
    "number_required": "蓄積BOX番号を入力してください。",
    "number_format": "蓄積BOX番号は 1〜9999 の半角数字で入力してください。",
    "number_taken": "蓄積BOX番号 {number} は既に使われています。",
    "name_required": "蓄積BOX名を入力してください。",
    "name_length": "蓄積BOX名は 100 文字以内で入力してください。",
    "url_format": "URL は http:// または https:// で始まる形式で入力してください。",
    "url_length": "URL は 1000 文字以内で入力してください。",
    "created": "蓄積BOX {number}「{name}」を作成しました。",
    "saved": "蓄積BOX {number} を保存しました。",
    "unchanged": "変更はありません。",
    "replaced": "送信できる文字に置き換えました: {pairs}",
    "test_sent": "{number} 宛にテスト送信しました（状態: {state}）。配信履歴で確認できます。",
    "test_refused": "テスト送信できません: {reason}",
}


@routes.route("/boxes")
@role_required("staff")
def boxes():
    query = StorageBox.select().order_by(StorageBox.number)
    q = request.args.get("q", "").strip()
    if q:
        condition = StorageBox.name.contains(q) | StorageBox.body.contains(q)
        number = int_or(q, 0, maximum=MAX_BOX_NUMBER + 1)
        if 1 <= number <= MAX_BOX_NUMBER:
            condition |= StorageBox.number == number
        query = query.where(condition)
    page = paginate(query, request.args.get("page", 1), setting("web.page_size"))
    return render_template("sms/boxes.html", page=page, q=q)


@routes.route("/boxes/new", methods=["GET", "POST"])
@role_required("staff")
def box_new():
    form = request.form
    if request.method == "GET":
        return render_template("sms/box_form.html", box=None, form={}, errors=[], check=check_template(""),
                               preview="")
    checked = check_template(form.get("body", ""), form.get("url", "").strip())
    errors = new_box_errors(form) + box_content_errors(form, checked)
    if errors:
        return render_template("sms/box_form.html", box=None, form=form, errors=errors, check=checked,
                               preview=preview(form.get("body", ""), form.get("url", "").strip())), 400
    now = clock.now()
    box = StorageBox.create(number=int(form["number"]), name=form["name"].strip(), body=checked.text,
                            url=form.get("url", "").strip(), created_at=now, updated_at=now,
                            updated_by=current_user.username)
    audit.record("box.created", f"蓄積BOX {box.number}", {"name": box.name, "body": box.body, "url": box.url})
    flash(MESSAGES["created"].format(number=box.number, name=box.name), "success")
    flash_replacements(checked)
    return redirect(url_for("sms.box_detail", number=box.number))


@routes.route("/boxes/<int:number>", methods=["GET", "POST"])
@role_required("staff")
def box_detail(number: int):
    box = StorageBox.get_or_none(StorageBox.number == number)
    if box is None:
        return render_template("error.html", status=404, message=f"蓄積BOX {number} は登録されていません。",
                               detail=""), 404
    if request.method == "GET":
        form = {"body": box.body, "url": box.url}
        return render_template("sms/box_form.html", box=box, form=form, errors=[], check=check_template(box.body, box.url),
                               preview=preview(box.body, box.url), recent=recent_messages(box))
    # Number and name are fixed at creation (004): whatever the form carries for them is ignored.
    form = request.form
    url = form.get("url", "").strip()
    checked = check_template(form.get("body", ""), url)
    errors = box_content_errors(form, checked)
    if errors:
        return render_template("sms/box_form.html", box=box, form=form, errors=errors, check=checked,
                               preview=preview(form.get("body", ""), url), recent=recent_messages(box)), 400
    changes = {k: [old, new] for k, old, new in (("body", box.body, checked.text), ("url", box.url, url)) if old != new}
    if changes:
        StorageBox.update(body=checked.text, url=url, updated_at=clock.now(), updated_by=current_user.username).where(
            StorageBox.id == box.id).execute()
        audit.record("box.updated", f"蓄積BOX {box.number}", changes)
        flash(MESSAGES["saved"].format(number=box.number), "success")
        flash_replacements(checked)
    else:
        flash(MESSAGES["unchanged"], "info")
    return redirect(url_for("sms.box_detail", number=box.number))


@routes.route("/boxes/<int:number>/test", methods=["POST"])
@role_required("staff")
def box_test_send(number: int):
    """テスト送信: the saved box to one number, sent at once through the normal outbox."""
    from sms.outbox import dispatch_now

    to = request.form.get("to", "").strip()
    result = queue_box(number, to, source="ui", created_by=current_user.username)
    if not result.ok:
        flash(MESSAGES["test_refused"].format(reason=result.reason), "error")
        box = StorageBox.get_or_none(StorageBox.number == number)
        if box is None:
            return redirect(url_for("sms.boxes"))
        form = {"body": box.body, "url": box.url}
        return render_template("sms/box_form.html", box=box, form=form, errors=[], test_to=to,
                               check=check_template(box.body, box.url), preview=preview(box.body, box.url),
                               recent=recent_messages(box)), 400
    dispatch_now(result.message_id)
    message = Message.get_by_id(result.message_id)
    audit.record("box.test_sent", f"蓄積BOX {number}", {"to": message.to_number, "message_id": message.id})
    flash(MESSAGES["test_sent"].format(number=to, state=message.state_label), "success")
    return redirect(url_for("sms.box_detail", number=number))


@routes.route("/check", methods=["POST"])
@role_required("staff")
@json_request
def check_text_json(data: dict):
    """The editor's live check: characters, parts, offending and special characters (server rules)."""
    text = data.get("text") if isinstance(data.get("text"), str) else ""
    url = data.get("url") if isinstance(data.get("url"), str) else ""
    checked = check_template(text, url.strip())
    return jsonify({
        "length": checked.length, "parts": checked.parts, "max_length": checked.max_length,
        "offending": list(checked.offending), "special": list(checked.special),
        "replaced": [list(pair) for pair in checked.replaced], "errors": list(checked.errors),
        "warnings": list(checked.warnings), "ok": checked.ok, "preview": preview(text, url.strip()),
    })


# --- helpers ----------------------------------------------------------------------------------------------
def new_box_errors(form) -> list[str]:
    errors = []
    raw = form.get("number", "").strip()
    try:
        number = parse_int(raw, "蓄積BOX番号", minimum=1, maximum=MAX_BOX_NUMBER)
    except InputError:
        errors.append(MESSAGES["number_format"])
    else:
        if number is None:
            errors.append(MESSAGES["number_required"])
        elif StorageBox.select().where(StorageBox.number == number).exists():
            errors.append(MESSAGES["number_taken"].format(number=number))
    name = form.get("name", "").strip()
    if not name:
        errors.append(MESSAGES["name_required"])
    elif len(name) > 100:
        errors.append(MESSAGES["name_length"])
    return errors


def box_content_errors(form, checked) -> list[str]:
    errors = [f"本文: {e}" for e in checked.errors]
    url = form.get("url", "").strip()
    if url and not URL_PATTERN.match(url):
        errors.append(MESSAGES["url_format"])
    elif len(url) > 1000:
        errors.append(MESSAGES["url_length"])
    return errors


def flash_replacements(checked) -> None:
    if checked.replaced:
        pairs = "、".join(f"{a}→{b}" for a, b in checked.replaced)
        flash(MESSAGES["replaced"].format(pairs=pairs), "info")


def recent_messages(box: StorageBox, limit: int = 10):
    """The box's latest sends the user may read (sms.visibility)."""
    query = visibility.readable(Message.select().where(Message.box_number == box.number), current_user)
    return list(query.order_by(Message.id.desc()).limit(limit))
