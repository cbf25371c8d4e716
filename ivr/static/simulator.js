// Browser call simulator: plays Twilio's part. Every request goes through the app's simulator
// endpoints, which sign it like Twilio and pass it to the real webhooks; the TwiML that comes back is
// interpreted here verb by verb (Play, Say, Pause, Gather with its timeout, Redirect, Dial, Record,
// Hangup, Reject), so staff hear exactly what a caller would. The log tells staff what happened in words
// (「1 を押しました」「切断しました」): no URLs, request bodies or TwiML tags.
(function () {
  "use strict";
  var root = document.getElementById("simulator");
  if (!root) { return; }
  var urls = { start: root.dataset.start, send: root.dataset.send, hangup: root.dataset.hangup, call: root.dataset.call,
               recording: root.dataset.recording };
  var $ = function (id) { return document.getElementById(id); };
  var call = null;       // {sid, startedAt, generation, ended, captions, numbers}
  var waiting = null;    // what a key press or a panel button goes to: {onKey, abort}
  var playing = null;    // {stop} of the audio or speech now playing

  // --- log and screen ------------------------------------------------------------------------------
  function log(kind, text, data) {
    var item = document.createElement("li");
    item.className = "sim-" + kind;
    item.textContent = text;
    Object.keys(data || {}).forEach(function (key) { item.dataset[key] = data[key]; });
    $("sim-log").appendChild(item);
    item.scrollIntoView({ block: "nearest" });
    return item;
  }
  function status(text) { $("sim-status").textContent = text; }
  function caption(text) { $("sim-caption").textContent = text || ""; }
  function showDigits(text) { $("sim-digits").textContent = text || ""; }
  function setKeypad(enabled) {
    Array.prototype.forEach.call($("sim-keypad").querySelectorAll("button"), function (b) { b.disabled = !enabled; });
  }
  function showError(text) { $("sim-error").textContent = text || ""; }

  // --- talking to the app ----------------------------------------------------------------------------
  function post(url, body) {
    return window.postJSON(url, body).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error((data.error && data.error.message) || failed(response)); }
        return data;
      });
    });
  }

  function failed(response) { return "サーバーとの通信に失敗しました（" + response.status + "）"; }

  function send(action, params) {
    var generation = call.generation;
    return post(urls.send, { call_sid: call.sid, url: action, params: params }).then(function (data) {
      if (!call || call.ended || generation !== call.generation) { return; }
      Object.assign(call.captions, data.captions || {});
      Object.assign(call.numbers, data.numbers || {});
      refreshRecord();
      return run(data.twiml);
    }).catch(function (err) { fail(err.message); });
  }

  function refreshRecord() {
    if (!call) { return Promise.resolve(); }
    return fetch(urls.call.replace("__sid__", call.sid), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(renderRecord)
      .catch(function () { /* the next refresh shows it */ });
  }

  function renderRecord(data) {
    if (!data || !data.events) { return; }
    var rows = $("sim-events");
    rows.innerHTML = "";
    data.events.forEach(function (e) {
      var tr = document.createElement("tr");
      tr.className = "ev-" + e.kind;
      var recorded = e.kind === "voicemail" && /https?:\/\/\S+\/simulator\/recordings\/\S+/.exec(e.detail || "");
      // A recording's address is for the player below, not for reading.
      var detail = (e.detail || "").replace(/\s*:?\s*https?:\/\/\S+/g, "");
      [[e.at, "nowrap"], [e.kind_label, "nowrap"], [e.node, ""], [e.digits, "nowrap"], [detail, "detail"]]
        .forEach(function (cell) {
          var td = document.createElement("td");
          td.textContent = cell[0] || "";
          if (cell[1]) { td.className = cell[1]; }
          tr.appendChild(td);
        });
      if (recorded) {  // the voicemail this page recorded, to listen to at once
        var player = document.createElement("audio");
        player.controls = true;
        player.preload = "none";
        player.src = recorded[0];
        player.className = "sim-recording";
        tr.lastChild.appendChild(player);
      }
      rows.appendChild(tr);
    });
    var list = $("sim-sms");
    list.innerHTML = "";
    if (!data.sms.length) {
      var none = document.createElement("li");
      none.className = "empty";
      none.textContent = "まだありません";
      list.appendChild(none);
    }
    data.sms.forEach(function (m) {
      var item = document.createElement("li");
      item.className = "sim-sms-item";
      var head = document.createElement("div");
      head.className = "sim-sms-head";
      head.textContent = "宛先 " + m.to + "（" + (m.box_number ? "蓄積BOX " + m.box_number + "・" : "") +
        (m.state_label || "") + "）";
      var body = document.createElement("pre");
      body.textContent = m.body;
      item.appendChild(head);
      item.appendChild(body);
      list.appendChild(item);
    });
    $("sim-outcome").textContent = data.outcome_label + (data.abandoned_node ? "（" + data.abandoned_node + "）" : "");
  }

  // --- playing sound ---------------------------------------------------------------------------------
  function stopPlaying() {
    if (playing) { playing.stop(); }
    if (window.speechSynthesis) { window.speechSynthesis.cancel(); }
  }

  function play(url) {
    var text = call.captions[url] || "";
    log("play", text ? "ガイダンス『" + text + "』を再生" : "ガイダンスを再生", { url: url });
    caption(text);
    return new Promise(function (resolve) {
      var audio = new Audio(url);
      var finished = false;
      var guard = setTimeout(done, 180000);
      function done() {
        if (finished) { return; }
        finished = true;
        clearTimeout(guard);
        audio.pause();
        if (playing && playing.audio === audio) { playing = null; }
        resolve();
      }
      playing = { audio: audio, stop: done };
      audio.addEventListener("ended", done);
      audio.addEventListener("error", function () {
        log("error", "ガイダンスの音声を再生できませんでした" + (text ? "（『" + text + "』）" : "")); done();
      });
      audio.play().catch(function () {
        // The browser refused to play (no user gesture yet): wait as long as the audio lasts.
        log("error", "ブラウザーが自動再生を許可しませんでした。ページをクリックしてから発信してください。");
        audio.addEventListener("loadedmetadata", function () { setTimeout(done, audio.duration * 1000); });
        setTimeout(done, 3000);
      });
    });
  }

  function say(text) {
    log("say", "案内『" + text + "』を読み上げ");
    caption(text);
    return new Promise(function (resolve) {
      var finished = false;
      var speak = $("sim-speech").checked && window.speechSynthesis && window.SpeechSynthesisUtterance;
      // About how long a person takes to say it; the limit when speech synthesis is missing or silent.
      var estimate = Math.min(20000, 500 + text.length * 140);
      var guard = setTimeout(done, speak ? estimate * 2 : estimate);
      function done() {
        if (finished) { return; }
        finished = true;
        clearTimeout(guard);
        if (playing && playing.speech) { playing = null; }
        resolve();
      }
      playing = { speech: true, stop: function () { if (window.speechSynthesis) { window.speechSynthesis.cancel(); } done(); } };
      if (speak) {
        var utterance = new window.SpeechSynthesisUtterance(text);
        utterance.lang = "ja-JP";
        utterance.onend = done;
        utterance.onerror = done;
        window.speechSynthesis.speak(utterance);
      }
    });
  }

  function speakAll(elements, stillWanted) {
    var chain = Promise.resolve();
    elements.forEach(function (el) {
      chain = chain.then(function () {
        if (!stillWanted()) { return; }
        return speakOne(el);
      });
    });
    return chain;
  }

  function speakOne(el) {
    if (el.tagName === "Play") { return play(el.textContent.trim()); }
    if (el.tagName === "Say") { return say(el.textContent.trim()); }
    if (el.tagName === "Pause") { return sleep(parseFloat(el.getAttribute("length") || "1") * 1000); }
    return Promise.resolve();
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  // --- verbs that wait ---------------------------------------------------------------------------------
  // Resolves with the digits, null when it timed out without input (Twilio then runs the next verb),
  // or undefined when the call ended meanwhile.
  function gather(el) {
    var numDigits = parseInt(el.getAttribute("numDigits") || "0", 10);
    var timeout = parseFloat(el.getAttribute("timeout") || "5");
    var finishOnKey = el.hasAttribute("finishOnKey") ? el.getAttribute("finishOnKey") : "#";
    log("gather", "ボタンの入力を待っています（" + (numDigits ? numDigits + " 桁" : "桁数の指定なし") + "・" + timeout +
        " 秒" + (finishOnKey ? "・最後に " + finishOnKey + " を押す" : "") + "）");
    return new Promise(function (resolve) {
      var digits = "";
      var timer = null;
      var finished = false;
      var interrupted = false;
      var listens = (el.getAttribute("input") || "").indexOf("speech") >= 0;  // a menu that also takes speech
      function finish(value) {
        if (finished) { return; }
        finished = true;
        clearTimeout(timer);
        waiting = null;
        setKeypad(false);
        $("sim-say").hidden = true;
        resolve(value);
      }
      function arm() {
        clearTimeout(timer);
        timer = setTimeout(function () {
          if (!digits) { log("timeout", "入力がありませんでした（タイムアウト・" + timeout + " 秒）"); }
          finish(digits || null);
        }, timeout * 1000);
      }
      waiting = {
        onKey: function (key) {
          if (!interrupted) { interrupted = true; stopPlaying(); }
          if (finishOnKey && key === finishOnKey) { finish(digits || null); return; }
          digits += key;
          showDigits(digits);
          if (numDigits && digits.length >= numDigits) { finish(digits); } else { arm(); }
        },
        onSay: listens ? function (said, confidence) {
          if (!interrupted) { interrupted = true; stopPlaying(); }
          log("speech", "「" + said + "」と話しました（信頼度 " + confidence + "）");
          finish({ SpeechResult: said, Confidence: confidence });
        } : null,
        abort: function () { finish(undefined); }
      };
      if (listens) { $("sim-say").hidden = false; log("gather", "音声でも答えられます（話す言葉を入力して「話す」）"); }
      showDigits("");
      setKeypad(true);
      status("通話中（入力待ち）");
      var prompts = Array.prototype.slice.call(el.children);
      speakAll(prompts, function () { return !finished && !interrupted; }).then(function () {
        if (!finished) { caption(""); arm(); }
      });
    });
  }

  var DIAL_RESULTS = { "completed": "転送先が応答しました", "no-answer": "転送先が応答しませんでした",
                       "busy": "転送先は話し中でした" };

  function dial(el) {
    var dialled = el.textContent.trim();
    var number = call.numbers[dialled] || dialled;
    var timeout = parseFloat(el.getAttribute("timeout") || "30");
    log("dial", number + " に転送しています（" + timeout + " 秒呼び出します）");
    $("sim-dial-number").textContent = number;
    $("sim-dial").hidden = false;
    status("転送中");
    var started = Date.now();
    // A recorded transfer (通話録音): the tester's microphone stands for the conversation.
    var recording = el.getAttribute("record") ? startMicrophone() : null;
    if (recording) { log("dial", "この転送は録音されます（転送先が応答してからの会話）"); }
    return new Promise(function (resolve) {
      var timer = setTimeout(function () { finish("no-answer"); }, timeout * 1000);
      function finish(result) {
        clearTimeout(timer);
        waiting = null;
        $("sim-dial").hidden = true;
        $("sim-record").removeAttribute("data-microphone");
        var seconds = Math.max(1, Math.round((Date.now() - started) / 1000));
        var outcome = result && { DialCallStatus: result, DialCallDuration: String(seconds) };
        if (result) { log("dial", DIAL_RESULTS[result] || "転送が終わりました"); }
        if (!recording || result !== "completed") {
          if (recording) { recording.then(function (mic) { if (mic) { mic.cancel(); } }); }
          resolve(outcome);
          return;
        }
        recording.then(function (mic) { return mic ? mic.stop() : silentWav(seconds); })
          .then(uploadRecording)
          .then(function (url) { return reportRecording(el.getAttribute("recordingStatusCallback"), url, seconds); })
          .then(function () { log("dial", "通話の録音を保存しました（" + seconds + " 秒）"); resolve(outcome); })
          .catch(function (err) { fail("録音を保存できませんでした: " + err.message); resolve(outcome); });
      }
      waiting = { onKey: function () {}, onDial: finish, abort: function () { finish(null); } };
    });
  }

  function record(el) {
    var max = parseFloat(el.getAttribute("maxLength") || "120");
    log("record", "ピーという音のあと録音を始めました（最長 " + max + " 秒）");
    $("sim-record-max").textContent = max;
    $("sim-record").hidden = false;
    status("録音中");
    var started = Date.now();
    var microphone = startMicrophone();
    return new Promise(function (resolve) {
      var timer = setTimeout(function () { finish("stop"); }, max * 1000);
      function finish(how) {
        clearTimeout(timer);
        waiting = null;
        $("sim-record").hidden = true;
        $("sim-record").removeAttribute("data-microphone");
        if (!how || how === "silent") {
          microphone.then(function (mic) { if (mic) { mic.cancel(); } });
          if (how) { log("record", "何も録音せずに終えました"); }
          resolve(how ? null : undefined);
          return;
        }
        var seconds = Math.max(1, Math.round((Date.now() - started) / 1000));
        log("record", "録音を終えました（" + seconds + " 秒）");
        microphone.then(function (mic) { return mic ? mic.stop() : silentWav(seconds); })
          .then(uploadRecording)
          .then(function (url) { resolve({ RecordingUrl: url, RecordingDuration: String(seconds) }); })
          .catch(function (err) { fail("録音を保存できませんでした: " + err.message); resolve(undefined); });
      }
      waiting = { onKey: function (key) { if (key === "#") { finish("stop"); } }, onRecord: finish,
                  abort: function () { finish(null); } };
    });
  }

  // The tester's microphone while a <Record> runs; null (and a note) where the page may not use one: browsers
  // allow it on https and localhost only.
  function startMicrophone() {
    var unavailable = "マイクを使えないため、無音の録音を送ります（https または localhost で開くとマイクで録音できます）";
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      return Promise.resolve(noMicrophone(unavailable));
    }
    return navigator.mediaDevices.getUserMedia({ audio: true }).then(function (stream) {
      var recorder = new MediaRecorder(stream);
      var parts = [];
      recorder.ondataavailable = function (e) { if (e.data.size) { parts.push(e.data); } };
      recorder.start();
      $("sim-record").setAttribute("data-microphone", "recording");  // tells the tester (and tests) sound is kept
      function release() { stream.getTracks().forEach(function (track) { track.stop(); }); }
      return {
        stop: function () {
          return new Promise(function (done) {
            recorder.onstop = function () { release(); done(new Blob(parts, { type: recorder.mimeType })); };
            recorder.stop();
          });
        },
        cancel: function () { recorder.onstop = release; recorder.stop(); }
      };
    }).catch(function () { return noMicrophone(unavailable); });
  }

  function noMicrophone(reason) {
    log("record", reason);
    $("sim-record").setAttribute("data-microphone", "none");
    return null;
  }

  // `seconds` of 8 kHz 16-bit mono silence as a WAV file.
  function silentWav(seconds) {
    var samples = 8000 * seconds;
    var view = new DataView(new ArrayBuffer(44 + samples * 2));
    function ascii(offset, text) { for (var i = 0; i < text.length; i++) { view.setUint8(offset + i, text.charCodeAt(i)); } }
    ascii(0, "RIFF"); view.setUint32(4, 36 + samples * 2, true); ascii(8, "WAVE"); ascii(12, "fmt ");
    view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
    view.setUint32(24, 8000, true); view.setUint32(28, 16000, true); view.setUint16(32, 2, true);
    view.setUint16(34, 16, true); ascii(36, "data"); view.setUint32(40, samples * 2, true);
    return new Blob([view.buffer], { type: "audio/wav" });
  }

  // What Twilio posts to recordingStatusCallback once a recorded transfer's recording is ready.
  function reportRecording(callback, url, seconds) {
    return post(urls.send, { call_sid: call.sid, url: callback,
                             params: { RecordingUrl: url, RecordingDuration: String(seconds),
                                       RecordingStatus: "completed", RecordingChannels: "2" } });
  }

  function uploadRecording(blob) {
    var form = new FormData();
    form.append("call_sid", call.sid);
    form.append("audio", blob, "voicemail");
    return fetch(urls.recording, { method: "POST", credentials: "same-origin",
                                   headers: { "X-CSRFToken": window.csrfToken }, body: form })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) { throw new Error((data.error && data.error.message) || failed(response)); }
          return data.url;
        });
      });
  }

  // --- the interpreter ---------------------------------------------------------------------------------
  function run(xml) {
    var generation = ++call.generation;
    stopPlaying();
    var doc = new DOMParser().parseFromString(xml, "text/xml");
    var verbs = Array.prototype.slice.call(doc.documentElement.children);
    var index = 0;
    function alive() { return call && !call.ended && generation === call.generation; }
    function next() {
      if (!alive()) { return Promise.resolve(); }
      if (index >= verbs.length) { return end("completed", "案内が終わり、通話が終了しました"); }
      var el = verbs[index++];
      switch (el.tagName) {
        case "Play": case "Say": case "Pause":
          status("通話中");
          return speakOne(el).then(next);
        case "Gather":
          return gather(el).then(function (digits) {
            if (!alive() || digits === undefined) { return; }
            if (digits === null) { return next(); }
            if (typeof digits === "object") { return send(el.getAttribute("action"), digits); }  // spoken
            return send(el.getAttribute("action"), { Digits: digits });
          });
        case "Redirect":
          return send(el.textContent.trim(), {});
        case "Dial":
          return dial(el).then(function (result) {
            if (alive() && result) { return send(el.getAttribute("action"), result); }
          });
        case "Record":
          return record(el).then(function (result) {
            if (!alive() || result === undefined) { return; }
            if (result === null) { return next(); }
            return send(el.getAttribute("action"), result);
          });
        case "Hangup":
          return end("completed", "切断しました");
        case "Reject":
          return end("busy", "着信を拒否しました（発信者番号設定の着信拒否）");
        default:
          log("error", "シミュレーターで再現できない動作があったため、飛ばしました");
          return next();
      }
    }
    return next();
  }

  // --- starting and ending -----------------------------------------------------------------------------
  function startCall() {
    showError("");
    $("sim-log").innerHTML = "";
    $("sim-events").innerHTML = "";
    var body = { to: $("sim-to").value, from: $("sim-from").value, withheld: $("sim-withheld").checked,
                 draft: $("sim-draft").checked };
    $("sim-call").disabled = true;
    status("発信中…");
    return post(urls.start, body).then(function (data) {
      call = { sid: data.call_sid, startedAt: Date.now(), generation: 0, ended: false, captions: data.captions || {},
               numbers: data.numbers || {} };
      root.dataset.callSid = call.sid;
      root.dataset.state = "active";
      $("sim-hangup").disabled = false;
      var dialled = $("sim-to").selectedOptions[0];
      log("call", (body.withheld ? "非通知" : body.from) + " から " + (dialled ? dialled.textContent : body.to) +
          " に発信しました");
      refreshRecord();
      return run(data.twiml);
    }).catch(function (err) {
      $("sim-call").disabled = false;
      status("待機中");
      fail(err.message);
    });
  }

  function end(how, message) {
    if (!call || call.ended) { return Promise.resolve(); }
    call.ended = true;
    call.generation++;
    if (waiting && waiting.abort) { waiting.abort(); }
    waiting = null;
    stopPlaying();
    setKeypad(false);
    caption("");
    log("end", message);
    status("通話終了");
    $("sim-hangup").disabled = true;
    $("sim-call").disabled = false;
    var seconds = Math.round((Date.now() - call.startedAt) / 1000);
    return post(urls.hangup, { call_sid: call.sid, status: how, seconds: seconds })
      .then(function (data) { renderRecord(data); root.dataset.state = "ended"; })
      .catch(function (err) { fail(err.message); });
  }

  function fail(message) {
    showError(message);
    log("error", message);
  }

  function press(key) {
    if (!waiting) { return; }
    log("key", key + " を押しました");
    waiting.onKey(key);
  }

  $("sim-call").addEventListener("click", startCall);
  $("sim-hangup").addEventListener("click", function () { end("completed", "発信者が電話を切りました"); });
  $("sim-keypad").addEventListener("click", function (event) {
    var key = event.target.getAttribute("data-key");
    if (key) { press(key); }
  });
  document.addEventListener("keydown", function (event) {
    if (/^[0-9*#]$/.test(event.key) && waiting && event.target.tagName !== "INPUT") { press(event.key); }
  });
  $("sim-say").addEventListener("submit", function (event) {
    event.preventDefault();
    var said = $("sim-say-text").value.trim();
    if (said && waiting && waiting.onSay) { waiting.onSay(said, $("sim-say-confidence").value || "0.9"); }
  });
  $("sim-dial").addEventListener("click", function (event) {
    var result = event.target.getAttribute("data-dial");
    if (result && waiting && waiting.onDial) { waiting.onDial(result); }
  });
  $("sim-record-stop").addEventListener("click", function () { if (waiting && waiting.onRecord) { waiting.onRecord("stop"); } });
  $("sim-record-silent").addEventListener("click", function () { if (waiting && waiting.onRecord) { waiting.onRecord("silent"); } });
  window.addEventListener("beforeunload", function () {
    if (call && !call.ended) {
      fetch(urls.hangup, {
        method: "POST", credentials: "same-origin", keepalive: true,
        headers: { "Content-Type": "application/json", "X-CSRFToken": window.csrfToken },
        body: JSON.stringify({ call_sid: call.sid, status: "completed", seconds: Math.round((Date.now() - call.startedAt) / 1000) })
      });
    }
  });
})();
