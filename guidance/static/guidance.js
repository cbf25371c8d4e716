// Guidance pages: engine → voice choices, text counter, ordered voice file rows, sequence preview,
// bulk re-synthesis progress. Works without it too (plain forms), this only makes editing easier.
(function () {
  "use strict";

  // Show only the voices of the chosen engine; keep the choice when it belongs to that engine.
  function linkEngineAndVoice(scope) {
    var engine = scope.querySelector("[data-engine-select]");
    var voice = scope.querySelector("[data-voice-select]");
    if (!engine || !voice) { return; }
    function sync() {
      var groups = voice.querySelectorAll("optgroup");
      var selectedFits = false;
      groups.forEach(function (group) {
        var fits = !engine.value || group.getAttribute("data-engine") === engine.value;
        group.hidden = !fits;
        group.disabled = !fits;
        if (fits && voice.selectedOptions[0] && voice.selectedOptions[0].parentNode === group) { selectedFits = true; }
      });
      if (!selectedFits && engine.value) {
        var first = voice.querySelector('optgroup[data-engine="' + engine.value + '"] option');
        var blank = voice.querySelector('option[value=""]');
        (blank || first).selected = true;
      }
    }
    engine.addEventListener("change", sync);
    sync();
  }

  function sourceToggle(form) {
    var radios = form.querySelectorAll("input[name=source]");
    function sync() {
      var checked = form.querySelector("input[name=source]:checked");
      var source = checked ? checked.value : "tts";
      form.querySelectorAll("[data-for-source]").forEach(function (el) {
        el.hidden = el.getAttribute("data-for-source") !== source;
      });
    }
    radios.forEach(function (r) { r.addEventListener("change", sync); });
    sync();
  }

  function textCounter(form) {
    var text = form.querySelector("textarea[data-max-length]");
    var counter = form.querySelector("[data-counter]");
    if (!text || !counter) { return; }
    var max = parseInt(text.getAttribute("data-max-length"), 10);
    function sync() {
      counter.textContent = text.value.length + " / " + max + " 文字";
      counter.classList.toggle("over", text.value.length > max);
    }
    text.addEventListener("input", sync);
    sync();
  }

  // Plays URLs one after another in one <audio> element.
  function playSequence(player, urls, status) {
    var index = 0;
    function next() {
      if (index >= urls.length) {
        if (status) { status.textContent = "再生が終わりました。"; }
        player.onended = null;
        return;
      }
      if (status) { status.textContent = (index + 1) + " / " + urls.length + " を再生中"; }
      player.src = urls[index];
      index += 1;
      player.play().catch(function () { if (status) { status.textContent = "再生できませんでした。"; } });
    }
    player.onended = next;
    next();
  }

  function sequenceEditor(form) {
    var rows = form.querySelector("[data-rows]");
    var synthesized = form.querySelector("[data-synthesized]");
    function renumber() {
      rows.querySelectorAll("[data-row] select").forEach(function (select, i) {
        select.setAttribute("aria-label", "音声ファイル " + (i + 1));
      });
    }
    function limitToSynthesized() {
      var only = synthesized && synthesized.checked;
      rows.querySelectorAll("option[data-source]").forEach(function (option) {
        option.disabled = only && option.getAttribute("data-source") !== "tts";
      });
    }
    form.querySelector("[data-add-row]").addEventListener("click", function () {
      var last = rows.querySelector("[data-row]:last-child");
      var copy = last.cloneNode(true);
      copy.querySelector("select").value = "";
      rows.appendChild(copy);
      renumber();
      copy.querySelector("select").focus();
    });
    rows.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      var row = button.closest("[data-row]");
      if (button.hasAttribute("data-remove")) {
        if (rows.querySelectorAll("[data-row]").length > 1) { row.remove(); } else { row.querySelector("select").value = ""; }
      } else if (button.getAttribute("data-move") === "up" && row.previousElementSibling) {
        rows.insertBefore(row, row.previousElementSibling);
      } else if (button.getAttribute("data-move") === "down" && row.nextElementSibling) {
        rows.insertBefore(row.nextElementSibling, row);
      }
      renumber();
    });
    if (synthesized) { synthesized.addEventListener("change", limitToSynthesized); limitToSynthesized(); }
    var preview = form.querySelector("[data-preview]");
    preview.addEventListener("click", function () {
      var urls = [];
      rows.querySelectorAll("[data-row] select").forEach(function (select) {
        var option = select.selectedOptions[0];
        if (option && option.getAttribute("data-audio")) { urls.push(option.getAttribute("data-audio")); }
      });
      var status = form.querySelector("[data-preview-status]");
      if (!urls.length) { status.textContent = "再生できる音声ファイルが選ばれていません。"; return; }
      playSequence(document.getElementById("preview-player"), urls, status);
    });
  }

  // 試聴: the text and voice settings as they are in the form, synthesized by the server without saving, played
  // here from memory (a blob: URL). The button waits for one answer before it takes another press.
  function listenBeforeSaving(form) {
    var box = form.querySelector("[data-listen]");
    if (!box) { return; }
    var button = box.querySelector("[data-listen-button]");
    var status = box.querySelector("[data-listen-status]");
    var player = box.querySelector("audio");
    button.addEventListener("click", function () {
      var fields = {};
      ["text", "engine", "voice", "speed", "volume"].forEach(function (name) {
        var field = form.querySelector("[name=" + name + "]");
        fields[name] = field ? field.value : "";
      });
      button.disabled = true;
      status.classList.remove("field-error");
      status.textContent = "音声を作っています…";
      window.postJSON(box.getAttribute("data-url"), fields).then(function (response) {
        if (response.ok) { return response.blob(); }
        return response.json().catch(function () { return {}; }).then(function (data) {
          throw new Error((data.error && data.error.message) || "試聴の音声を作れませんでした（" + response.status + "）。");
        });
      }).then(function (audio) {
        if (player.src) { URL.revokeObjectURL(player.src); }
        player.src = URL.createObjectURL(audio);
        player.hidden = false;
        status.textContent = "試聴中です（まだ保存されていません）。";
        return player.play().catch(function () { status.textContent = "▶ を押すと再生します（まだ保存されていません）。"; });
      }).catch(function (error) {
        status.textContent = error.message;
        status.classList.add("field-error");
      }).then(function () { button.disabled = false; });
    });
  }

  function resynthProgress(box) {
    var url = box.getAttribute("data-url");
    function render(p) {
      box.querySelector(".bar").style.width = p.percent + "%";
      box.querySelector("[role=progressbar]").setAttribute("aria-valuenow", p.percent);
      box.querySelector("[data-count]").textContent = p.done + p.failed;
      box.querySelector("[data-failed]").textContent = p.failed;
      var list = box.querySelector("[data-errors]");
      list.innerHTML = "";
      p.errors.forEach(function (e) { var li = document.createElement("li"); li.textContent = e; list.appendChild(li); });
      box.querySelector("[data-status]").textContent = p.finished ? "完了しました。" : "音声を作り直しています…";
      if (!p.finished) { window.setTimeout(poll, 700); }
    }
    function poll() {
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(render)
        .catch(function () { window.setTimeout(poll, 2000); });
    }
    poll();
  }

  document.querySelectorAll("[data-voice-file-form]").forEach(function (form) {
    linkEngineAndVoice(form); sourceToggle(form); textCounter(form); listenBeforeSaving(form);
  });
  document.querySelectorAll(".bulk-form").forEach(linkEngineAndVoice);
  document.querySelectorAll("[data-guidance-form]").forEach(sequenceEditor);
  document.querySelectorAll("[data-resynth]").forEach(resynthProgress);
  document.querySelectorAll("[data-play-sequence]").forEach(function (button) {
    button.addEventListener("click", function () {
      var urls = JSON.parse(button.getAttribute("data-play-sequence"));
      if (urls.length) { playSequence(document.getElementById("preview-player"), urls, null); }
    });
  });
  var all = document.getElementById("check-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll('input[name=voice_file_ids]:not(:disabled)').forEach(function (box) { box.checked = all.checked; });
    });
  }
})();
