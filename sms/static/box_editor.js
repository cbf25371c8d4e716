// Storage box editor: as the user types, ask the server (the authoritative rules) for the character
// count, the number of parts (the URL line appended when the text has no {url} included), the characters that
// cannot be sent and the text as a recipient reads it, and show them under the text.
(function () {
  "use strict";
  var body = document.getElementById("box-body");
  if (!body) { return; }
  var url = document.getElementById("box-url");
  var count = document.getElementById("char-count");
  var parts = document.getElementById("part-count");
  var problems = document.getElementById("text-problems");
  var meter = document.getElementById("text-meter");
  var preview = document.getElementById("sms-preview");
  var checkUrl = body.getAttribute("data-check-url");
  var timer = null;
  var sequence = 0;

  function line(text, cls) {
    var div = document.createElement("div");
    div.className = cls;
    div.textContent = text;
    return div;
  }

  function show(result) {
    count.textContent = result.length;
    parts.textContent = result.parts;
    meter.classList.toggle("over", result.length > result.max_length);
    problems.replaceChildren();
    (body.value.trim() ? result.errors : []).forEach(function (e) { problems.appendChild(line(e, "field-error")); });
    result.warnings.forEach(function (w) { problems.appendChild(line(w, "warn")); });
    if (result.replaced.length) {
      var pairs = result.replaced.map(function (p) { return p[0] + "→" + p[1]; }).join("、");
      problems.appendChild(line("保存時に置き換えます: " + pairs, "hint"));
    }
    body.setAttribute("aria-invalid", result.ok ? "false" : "true");
    if (preview) { preview.textContent = result.preview; }
  }

  function check() {
    var mine = ++sequence;
    window.postJSON(checkUrl, { text: body.value, url: url ? url.value : "" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) { if (result && mine === sequence) { show(result); } })
      .catch(function () { /* the server re-checks on save; a failed live check only delays the hint */ });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(check, 150);
  }

  body.addEventListener("input", schedule);
  if (url) { url.addEventListener("input", schedule); }
})();
