// Bulk-send pages: the recipient source switch, "+入力欄を追加", live character/part counts, the schedule
// checkbox, and the detail page polled while a send runs (progress bar, state, buttons and recipient rows).
// The server re-checks everything.
(function () {
  "use strict";

  // --- step 1: show only the chosen recipient source ---------------------------------------------------------------
  var recipientsForm = document.getElementById("recipients-form");
  if (recipientsForm) {
    var showSource = function () {
      var chosen = recipientsForm.querySelector("input[name=source]:checked");
      recipientsForm.querySelectorAll("section[data-source]").forEach(function (section) {
        section.hidden = !chosen || section.getAttribute("data-source") !== chosen.value;
      });
    };
    recipientsForm.querySelectorAll("input[name=source]").forEach(function (radio) {
      radio.addEventListener("change", showSource);
    });
    showSource();
    var all = document.getElementById("callers-all");
    if (all) {
      all.addEventListener("change", function () {
        recipientsForm.querySelectorAll("input[name=caller]").forEach(function (box) { box.checked = all.checked; });
      });
    }
  }

  // --- step 2: messages -----------------------------------------------------------------------------------------
  var form = document.getElementById("message-form");
  if (form) {
    var maxLength = parseInt(form.dataset.maxLength, 10);
    var maxMessages = parseInt(form.dataset.maxMessages, 10);
    var fields = document.getElementById("message-fields");
    var addButton = document.getElementById("add-message");

    var expandedLength = function (text, boxSelect) {
      var hasUrl = boxSelect && boxSelect.selectedOptions.length && boxSelect.selectedOptions[0].dataset.url;
      var length = Array.from(text.replace(/\r\n/g, "\n")).length;
      var count = function (needle) { return needle ? text.split(needle).length - 1 : 0; };
      if (hasUrl) {
        var urlLength = parseInt(form.dataset.urlLength, 10);
        var placed = count(form.dataset.urlPlaceholder);
        length += placed * (urlLength - form.dataset.urlPlaceholder.length);
        // a box URL with no {url} in the text is sent on a line of its own (sms.sending.url_line).
        if (!placed && text.trim()) { length += urlLength + (/\n$/.test(text.replace(/\r\n/g, "\n")) ? 0 : 1); }
      }
      length += count(form.dataset.optoutPlaceholder) * (parseInt(form.dataset.optoutLength, 10) - form.dataset.optoutPlaceholder.length);
      return length;
    };
    var parts = function (length) { return length === 0 ? 0 : (length <= 70 ? 1 : Math.ceil(length / 67)); };

    var refresh = function () {
      var items = fields.querySelectorAll(".message-field");
      items.forEach(function (field, i) {
        field.querySelector(".message-number").textContent = String(i + 1);
        var remove = field.querySelector(".remove-message");
        if (remove) { remove.hidden = items.length === 1; }
        var text = field.querySelector(".message-text").value;
        var length = expandedLength(text, field.querySelector(".box-select"));
        var counter = field.querySelector(".counter");
        counter.textContent = length + " / " + maxLength + " 文字・" + parts(length) + " 通分";
        counter.classList.toggle("over", length > maxLength);
      });
      if (addButton) { addButton.disabled = items.length >= maxMessages; }
      var need = document.getElementById("ticket-need");
      if (need && form.dataset.ticketsEnabled === "1") {
        var needed = items.length * parseInt(form.dataset.recipients, 10);
        var balance = parseInt(form.dataset.balance, 10);
        need.textContent = "使用チケット " + needed.toLocaleString() + " 枚（残り " + balance.toLocaleString() + " 枚）" +
          (needed > balance ? "：チケットが不足しています" : "");
        need.classList.toggle("field-error", needed > balance);
      }
    };

    var wire = function (field) {
      field.querySelector(".message-text").addEventListener("input", refresh);
      var select = field.querySelector(".box-select");
      select.addEventListener("change", function () {
        var option = select.selectedOptions[0];
        var textarea = field.querySelector(".message-text");
        // The box's text fills an empty field or replaces the text of the box chosen before; typed text stays.
        if (option && option.dataset.body !== undefined && (!textarea.value.trim() || textarea.dataset.fromBox === "1")) {
          textarea.value = option.dataset.body;
          textarea.dataset.fromBox = "1";
        }
        refresh();
      });
      var remove = field.querySelector(".remove-message");
      if (remove) {
        remove.addEventListener("click", function () { field.remove(); refresh(); });
      }
    };

    fields.querySelectorAll(".message-field").forEach(wire);
    if (addButton) {
      addButton.addEventListener("click", function () {
        if (fields.querySelectorAll(".message-field").length >= maxMessages) { return; }
        var copy = document.getElementById("message-template").content.firstElementChild.cloneNode(true);
        fields.appendChild(copy);
        wire(copy);
        refresh();
        copy.querySelector(".message-text").focus();
      });
    }

    var toggle = document.getElementById("schedule-toggle");
    var when = document.getElementById("schedule-field");
    var showWhen = function () {
      when.hidden = !toggle.checked;
      when.querySelector("input").required = toggle.checked;
    };
    toggle.addEventListener("change", showWhen);
    showWhen();
    refresh();
  }

  // --- detail: progress bar ----------------------------------------------------------------------------------------
  var box = document.getElementById("bulk-progress");
  if (box) {
    var bar = box.querySelector(".bulk-bar");
    var status = document.getElementById("bulk-status");
    var update = function (data) {
      var p = data.progress;
      var share = function (n) { return p.total ? (n * 100 / p.total) : 0; };
      bar.querySelector(".seg-delivered").style.width = share(p.delivered) + "%";
      bar.querySelector(".seg-sent").style.width = share(p.sent) + "%";
      bar.querySelector(".seg-failed").style.width = share(p.failed) + "%";
      bar.setAttribute("aria-valuenow", String(p.percent));
      ["delivered", "sent", "failed", "remaining", "total", "percent"].forEach(function (key) {
        var cell = box.querySelector("[data-field=" + key + "]");
        if (cell) { cell.textContent = String(p[key]); }
      });
      if (status) { status.textContent = data.status_label; }
      box.dataset.status = data.shown_status;
      box.dataset.remaining = String(p.remaining);
      // The buttons and the recipient rows of this page, rendered by the server as on the page itself.
      replace(document.getElementById("bulk-actions"), data.actions_html);
      replace(document.querySelector("#bulk-recipients tbody"), data.rows_html);
    };
    var replace = function (element, html) {
      if (element && typeof html === "string" && element.innerHTML !== html) { element.innerHTML = html; }
    };
    var finished = function () {
      // Nothing left to send and nothing waiting for a receipt: the bar will not move any more.
      return ["completed", "cancelled"].indexOf(box.dataset.status) >= 0 &&
        box.dataset.remaining === "0" && box.querySelector("[data-field=sent]").textContent === "0";
    };
    var poll = function () {
      if (finished()) { return; }
      fetch(box.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data) { update(data); } })
        .catch(function () { /* a missed poll is retried at the next tick */ })
        .then(function () { window.setTimeout(poll, 1500); });
    };
    window.setTimeout(poll, 1000);
  }
})();
