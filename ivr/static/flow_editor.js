// Call-flow editor: the flow picture (plain SVG) is the editor. A node chosen on the picture or in the list of
// nodes opens its panel; every change goes to the draft, saved to the server as a whole after a short pause.
// The server answers with the problems publishing would refuse, each pointed at a node and a field: the picture
// marks the node, the panel the field. Node IDs are made here (menu1, sms2…); targets are chosen, never typed.
// Each node is a <g class="fe-node" data-node-id="…">, so other layers (figures per node) can find it.
(function () {
  "use strict";
  var root = document.getElementById("flow-editor");
  if (!root) { return; }
  var data = JSON.parse(document.getElementById("fe-data").textContent);
  var flow = data.flow;
  var DEFAULTS = data.defaults;  // 設定画面の「新しいメニューの…」
  var issues = data.issues || [];
  var selected = null;
  var saveTimer = null;
  var saving = null;
  var dirty = false;
  var SVG = "http://www.w3.org/2000/svg";
  var W = 176, H = 60, GAP_X = 84, GAP_Y = 28, PAD = 16;
  var EXIT_ORDER = ["next", "open", "closed", "cannot_send", "no_answer", "target", "fallback"];
  var KEYPAD = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#"];
  var NAMES = { menu: "メニュー", play: "案内", sms: "SMS送信", transfer: "転送", voicemail: "留守番電話",
                hours: "営業時間の確認", goto: "メニューへ移動", hangup: "終話" };
  var $ = function (id) { return document.getElementById(id); };

  // --- the flow as data ---------------------------------------------------------------------------------
  function nodeByKey(key) {
    for (var i = 0; i < flow.nodes.length; i++) { if (flow.nodes[i].key === key) { return flow.nodes[i]; } }
    return null;
  }
  function labelOf(node) { return node.name || data.kinds[node.kind] || node.key; }
  function isNamedExit(name) { return Object.prototype.hasOwnProperty.call(data.exit_labels, name); }
  function digitExits(node) {
    return Object.keys(node.exits).filter(function (k) { return !isNamedExit(k); }).sort(function (a, b) {
      return a.length - b.length || KEYPAD.indexOf(a) - KEYPAD.indexOf(b) || (a < b ? -1 : 1);
    });
  }
  function namedExits(node) {
    var allowed = data.required_exits[node.kind] || [];
    return EXIT_ORDER.filter(function (name) { return allowed.indexOf(name) >= 0; });
  }
  // [{name, text, target}] in drawing order: digits (menus), then the kind's named exits.
  function exitsOf(node) {
    var out = [];
    if (node.kind === "menu") {
      digitExits(node).forEach(function (d) { out.push({ name: d, text: d, target: node.exits[d] }); });
    }
    namedExits(node).forEach(function (n) { out.push({ name: n, text: data.exit_labels[n], target: node.exits[n] || "" }); });
    return out;
  }
  function newKey(kind) {
    var n = 1;
    while (nodeByKey(kind + n)) { n++; }
    return kind + n;
  }
  function newNode(kind) {
    var key = newKey(kind);
    var count = flow.nodes.filter(function (n) { return n.kind === kind; }).length;
    var node = { key: key, kind: kind, name: NAMES[kind] + (count ? " " + (count + 1) : ""), guidance: null,
                 timeout_guidance: null, mis_entry_guidance: null, digits: DEFAULTS.digits,
                 timeout: DEFAULTS.timeout, max_tries: DEFAULTS.max_tries, max_mis_entries: DEFAULTS.max_mis_entries,
                 exits: {}, params: {} };
    setKindDefaults(node);
    flow.nodes.push(node);
    if (!flow.entry) { flow.entry = key; }
    return node;
  }
  function setKindDefaults(node) {
    var p = node.params;
    if (node.kind === "sms" && p.box_number === undefined) {
      p.box_number = data.boxes.length ? data.boxes[0].id : null;
      p.ask_number = false;
    }
    if (node.kind === "transfer" && p.number === undefined) { p.number = ""; p.timeout = DEFAULTS.transfer_timeout; }
    if (node.kind === "voicemail" && p.max_seconds === undefined) { p.max_seconds = DEFAULTS.max_seconds; }
    if (node.kind === "hours" && !p.hours) {
      p.hours = { weekdays: [0, 1, 2, 3, 4], open: "09:00", close: "18:00", closed_on_holidays: true };
    }
  }
  function changeKind(node, kind) {
    node.kind = kind;
    var allowed = data.required_exits[kind] || [];
    Object.keys(node.exits).forEach(function (name) {
      var keep = isNamedExit(name) ? allowed.indexOf(name) >= 0 : kind === "menu";
      if (!keep) { delete node.exits[name]; }
    });
    setKindDefaults(node);
  }
  function removeNode(node) {
    flow.nodes = flow.nodes.filter(function (n) { return n !== node; });
    flow.nodes.forEach(function (n) {
      Object.keys(n.exits).forEach(function (name) { if (n.exits[name] === node.key) { n.exits[name] = ""; } });
    });
    if (flow.entry === node.key) { flow.entry = flow.nodes.length ? flow.nodes[0].key : ""; }
  }
  function nextDigit(node) {
    var used = Object.keys(node.exits);
    var digits = Math.max(1, node.digits || 1);
    if (digits === 1) { return KEYPAD.filter(function (d) { return used.indexOf(d) < 0; })[0] || ""; }
    for (var n = 1; n < 10000; n++) {
      var text = String(n);
      while (text.length < digits) { text = "0" + text; }
      if (used.indexOf(text) < 0) { return text; }
    }
    return "";
  }
  function issuesFor(key) { return issues.filter(function (i) { return i.node === key; }); }

  // --- drawing ----------------------------------------------------------------------------------------------
  function layout() {
    var depth = {};
    var queue = [];
    if (nodeByKey(flow.entry)) { depth[flow.entry] = 0; queue.push(flow.entry); }
    var order = [];
    while (queue.length) {
      var key = queue.shift();
      order.push(key);
      exitsOf(nodeByKey(key)).forEach(function (e) {
        if (e.target && nodeByKey(e.target) && !(e.target in depth)) { depth[e.target] = depth[key] + 1; queue.push(e.target); }
      });
    }
    var deepest = order.length ? Math.max.apply(null, order.map(function (k) { return depth[k]; })) : -1;
    flow.nodes.forEach(function (n) { if (!(n.key in depth)) { depth[n.key] = deepest + 1; order.push(n.key); } });
    var rows = {};
    var at = {};
    order.forEach(function (key) {
      var column = depth[key];
      rows[column] = (rows[column] || 0) + 1;
      at[key] = { x: PAD + column * (W + GAP_X), y: PAD + (rows[column] - 1) * (H + GAP_Y) };
    });
    var columns = Object.keys(rows).length;
    var tallest = Math.max.apply(null, [1].concat(Object.keys(rows).map(function (c) { return rows[c]; })));
    return { at: at, width: PAD * 2 + columns * W + Math.max(0, columns - 1) * GAP_X + 60,
             height: PAD * 2 + tallest * (H + GAP_Y) };
  }

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function draw() {
    var svg = $("fe-svg");
    var pos = layout();
    svg.textContent = "";
    svg.setAttribute("viewBox", "0 0 " + pos.width + " " + pos.height);
    svg.setAttribute("width", pos.width);
    svg.setAttribute("height", pos.height);
    var defs = el("defs");
    var marker = el("marker", { id: "fe-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7",
                                markerHeight: "7", orient: "auto-start-reverse" });
    marker.appendChild(el("path", { d: "M0,0 L10,5 L0,10 z", "class": "fe-arrowhead" }));
    defs.appendChild(marker);
    svg.appendChild(defs);
    var edges = el("g", { "class": "fe-edges" });
    var nodes = el("g", { "class": "fe-nodes" });
    svg.appendChild(edges);
    svg.appendChild(nodes);
    flow.nodes.forEach(function (node) {
      var from = pos.at[node.key];
      var exits = exitsOf(node);
      exits.forEach(function (exit, i) {
        var y1 = from.y + (exits.length > 1 ? 10 + i * (H - 20) / (exits.length - 1) : H / 2);
        var x1 = from.x + W;
        var to = exit.target ? pos.at[exit.target] : null;
        var group = el("g", { "class": "fe-edge" + (to ? "" : " fe-edge-missing"), "data-from": node.key,
                              "data-exit": exit.name });
        if (to) {
          var x2 = to.x, y2 = to.y + H / 2;
          var bend = Math.max(40, Math.abs(x2 - x1) / 2);
          group.appendChild(el("path", { d: "M" + x1 + "," + y1 + " C" + (x1 + bend) + "," + y1 + " " + (x2 - bend) +
                                             "," + y2 + " " + x2 + "," + y2, "marker-end": "url(#fe-arrow)" }));
        } else {
          group.appendChild(el("path", { d: "M" + x1 + "," + y1 + " h24" }));
          group.appendChild(el("text", { x: x1 + 28, y: y1 + 4, "class": "fe-missing-text" }, "行き先なし"));
        }
        group.appendChild(el("text", { x: x1 + 4, y: y1 - 3, "class": "fe-edge-label" }, exit.text));
        edges.appendChild(group);
      });
      nodes.appendChild(nodeBox(node, from));
    });
    drawList();
    drawIssues();
  }

  function nodeBox(node, at) {
    var problems = issuesFor(node.key);
    var classes = "fe-node fe-" + node.kind + (node.key === selected ? " fe-selected" : "") +
                  (problems.length ? " fe-has-issue" : "") + (node.key === flow.entry ? " fe-entry" : "");
    var label = labelOf(node) + "（" + (data.kinds[node.kind] || node.kind) + "）" +
                (problems.length ? "、要確認 " + problems.length + " 件" : "");
    var g = el("g", { "class": classes, "data-node-id": node.key, tabindex: "0", role: "button",
                      "aria-label": label + " を編集", transform: "translate(" + at.x + "," + at.y + ")" });
    g.appendChild(el("title", {}, label));
    g.appendChild(el("rect", { width: W, height: H, rx: "8", ry: "8" }));
    g.appendChild(el("text", { x: "10", y: "18", "class": "fe-kind" },
                     (node.key === flow.entry ? "開始・" : "") + (data.kinds[node.kind] || node.kind).replace(/（.*）/, "")));
    g.appendChild(el("text", { x: "10", y: "40", "class": "fe-name" }, clip(labelOf(node), 11)));
    if (problems.length) {
      g.appendChild(el("circle", { cx: W - 12, cy: "12", r: "9", "class": "fe-issue-dot" }));
      g.appendChild(el("text", { x: W - 12, y: "16", "class": "fe-issue-mark", "text-anchor": "middle" }, "!"));
    }
    return g;
  }
  function clip(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }

  function drawList() {
    var list = $("fe-list");
    list.textContent = "";
    flow.nodes.forEach(function (node) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "fe-list-node" + (node.key === selected ? " fe-selected" : "");
      button.dataset.nodeId = node.key;
      var problems = issuesFor(node.key).length;
      button.textContent = (node.key === flow.entry ? "開始: " : "") + labelOf(node) + "（" +
                           (data.kinds[node.kind] || node.kind).replace(/（.*）/, "") + "）";
      if (problems) {
        var badge = document.createElement("span");
        badge.className = "badge danger";
        badge.textContent = "要確認 " + problems + " 件";
        button.appendChild(document.createTextNode(" "));
        button.appendChild(badge);
      }
      if (node.key === selected) { button.setAttribute("aria-current", "true"); }
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function drawIssues() {
    var box = $("fe-issues");
    box.textContent = "";
    if (!issues.length) {
      var ok = document.createElement("p");
      ok.className = "fe-ok";
      ok.textContent = "問題はありません。公開できます。";
      box.appendChild(ok);
      return;
    }
    var head = document.createElement("p");
    head.textContent = "公開の前に直す点（" + issues.length + " 件）:";
    box.appendChild(head);
    var list = document.createElement("ul");
    issues.forEach(function (issue) {
      var item = document.createElement("li");
      if (issue.node && nodeByKey(issue.node)) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link";
        button.dataset.nodeId = issue.node;
        button.textContent = labelOf(nodeByKey(issue.node)) + ": " + issue.problem;
        item.appendChild(button);
      } else {
        item.textContent = issue.problem || issue.message;
      }
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  // --- the panel ------------------------------------------------------------------------------------------------
  function select(key, focusPanel) {
    selected = key;
    draw();
    renderPanel();
    if (focusPanel) { $("fe-panel").focus(); }
  }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else if (k in node && k !== "list") { node[k] = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function field(name, labelText, control, extra) {
    var id = "fe-f-" + name.replace(/[^A-Za-z0-9_-]/g, "_");
    control.id = control.id || id;
    return h("div", { className: "fe-field", "data-field": name }, [
      h("label", { htmlFor: control.id, text: labelText }), control, extra || null,
      h("p", { className: "field-error", role: "alert" })]);
  }

  function changed(redrawPanel) {
    dirty = true;
    scheduleSave();
    draw();
    if (redrawPanel) { renderPanel(); }
  }

  function numberInput(value, onValue, min, max) {
    var input = h("input", { type: "number", value: value, min: min, max: max, inputMode: "numeric" });
    input.addEventListener("input", function () {
      var n = parseInt(input.value, 10);
      onValue(isNaN(n) ? 0 : n);
      changed(false);
    });
    return input;
  }

  function textInput(value, onValue, attrs) {
    var input = h("input", Object.assign({ type: "text", value: value || "" }, attrs || {}));
    input.addEventListener("input", function () { onValue(input.value); changed(false); });
    return input;
  }

  function targetSelect(node, current, onTarget) {
    var s = h("select", {});
    s.appendChild(h("option", { value: "", text: "（行き先を選ぶ）" }));
    var existing = h("optgroup", { label: "既存のノード" });
    flow.nodes.forEach(function (n) {
      if (n === node) { return; }
      existing.appendChild(h("option", { value: n.key, text: labelOf(n), selected: n.key === current }));
    });
    s.appendChild(existing);
    var fresh = h("optgroup", { label: "新しいノードを作る" });
    Object.keys(data.kinds).forEach(function (kind) {
      fresh.appendChild(h("option", { value: "new:" + kind, text: "新しい" + data.kinds[kind].replace(/（.*）/, "") }));
    });
    s.appendChild(fresh);
    s.addEventListener("change", function () {
      var value = s.value;
      if (value.indexOf("new:") === 0) {
        value = newNode(value.slice(4)).key;
      }
      onTarget(value);
      changed(true);
      var again = document.querySelector('#fe-panel [data-focus-after="' + s.dataset.focusAfter + '"]');
      if (again) { again.focus(); }
    });
    return s;
  }

  function guidanceField(node, name, labelText) {
    var s = h("select", {});
    s.appendChild(h("option", { value: "", text: "（なし）" }));
    data.guidance.forEach(function (g) {
      s.appendChild(h("option", { value: String(g.id), text: g.label, selected: node[name] === g.id }));
    });
    s.addEventListener("change", function () { node[name] = s.value ? parseInt(s.value, 10) : null; changed(false); });
    var listen = h("button", { type: "button", className: "fe-listen", text: "▶ 聞く" });
    listen.setAttribute("aria-label", labelText + "を聞く");
    listen.addEventListener("click", function () {
      var g = data.guidance.filter(function (x) { return x.id === node[name]; })[0];
      if (!g) { say(box, "ガイダンスを選ぶか、下で文章を入力してください。"); return; }
      playUrls(g.audio.slice(), box);
    });
    var text = h("textarea", { rows: 2, maxLength: 500, placeholder: "新しいガイダンスの文章（例: お電話ありがとうございます。）" });
    text.setAttribute("aria-label", labelText + "の文章");
    var preview = h("button", { type: "button", text: "▶ 文章を試聴" });
    var create = h("button", { type: "button", text: "この文章で作って使う" });
    var note = h("span", { className: "hint", role: "status" });
    preview.addEventListener("click", function () {
      if (!text.value.trim()) { say(box, "文章を入力してください。"); return; }
      say(box, "音声を作っています…");
      window.postJSON(data.urls.preview, { text: text.value }).then(function (r) {
        if (!r.ok) { return r.json().then(function (d) { throw new Error(d.error && d.error.message); }); }
        return r.blob();
      }).then(function (blob) { say(box, ""); playUrls([URL.createObjectURL(blob)], box); })
        .catch(function (err) { say(box, err.message || "試聴できませんでした。"); });
    });
    create.addEventListener("click", function () {
      if (!text.value.trim()) { say(box, "文章を入力してください。"); return; }
      create.disabled = true;
      say(box, "ガイダンスを作っています…");
      window.postJSON(data.urls.guidance, { text: text.value, field: name, node_kind: node.kind, node_name: labelOf(node) })
        .then(function (r) { return r.json().then(function (d) { if (!r.ok) { throw new Error(d.error.message); } return d; }); })
        .then(function (g) {
          if (!data.guidance.some(function (x) { return x.id === g.id; })) { data.guidance.push(g); }
          node[name] = g.id;
          changed(true);
          var again = document.querySelector('#fe-panel [data-field="' + name + '"] select');
          if (again) { again.focus(); }
        })
        .catch(function (err) { create.disabled = false; say(box, err.message || "作成できませんでした。"); });
    });
    var typed = h("details", { className: "fe-typed" }, [h("summary", { text: "文章を入力して新しく作る" }), text,
                                                          h("div", { className: "actions" }, [preview, create])]);
    var box = field(name, labelText, s, h("div", {}, [listen, note, typed]));
    box.note = note;
    return box;
  }
  function say(box, text) { box.querySelector("span[role=status]").textContent = text; }

  function playUrls(urls, box) {
    var audio = $("fe-audio");
    if (!urls.length) { say(box, "このガイダンスには音声がありません。"); return; }
    audio.onended = function () { if (urls.length) { audio.src = urls.shift(); audio.play(); } else { say(box, ""); } };
    audio.src = urls.shift();
    say(box, "再生中…");
    audio.play().catch(function () { say(box, "再生できませんでした。"); });
  }

  function renderPanel() {
    var panel = $("fe-panel");
    panel.textContent = "";
    var node = nodeByKey(selected);
    if (!node) {
      panel.appendChild(h("p", { className: "empty", text: "図または一覧からノードを選んでください。" }));
      return;
    }
    panel.appendChild(h("h2", { text: labelOf(node) }));
    panel.appendChild(h("ul", { className: "fe-node-issues" }));
    panel.appendChild(field("name", "名前", textInput(node.name, function (v) { node.name = v; }, { maxLength: 100 })));
    var kind = h("select", {});
    Object.keys(data.kinds).forEach(function (k) {
      kind.appendChild(h("option", { value: k, text: data.kinds[k], selected: node.kind === k }));
    });
    kind.addEventListener("change", function () { changeKind(node, kind.value); changed(true); });
    panel.appendChild(field("kind", "種類", kind));
    kindFields(node).forEach(function (f) { panel.appendChild(f); });
    exitFields(node).forEach(function (f) { panel.appendChild(f); });
    var actions = h("div", { className: "actions" });
    if (node.key !== flow.entry) {
      var entry = h("button", { type: "button", text: "開始ノードにする" });
      entry.addEventListener("click", function () { flow.entry = node.key; changed(true); });
      actions.appendChild(entry);
    }
    var remove = h("button", { type: "button", className: "danger", text: "このノードを削除" });
    remove.addEventListener("click", function () {
      if (!window.confirm("ノード「" + labelOf(node) + "」を削除しますか？ここへの分岐は行き先なしになります。")) { return; }
      removeNode(node);
      selected = null;
      changed(true);
    });
    actions.appendChild(remove);
    panel.appendChild(actions);
    markFields();
  }

  function kindFields(node) {
    var out = [];
    var p = node.params;
    if (node.kind === "menu") {
      out.push(guidanceField(node, "guidance", "振り分けガイダンス【PB】"));
      out.push(guidanceField(node, "timeout_guidance", "入力タイムアウト時ガイダンス"));
      out.push(guidanceField(node, "mis_entry_guidance", "入力ミス時ガイダンス"));
      out.push(h("div", { className: "grid3" }, [
        field("digits", "桁数", numberInput(node.digits, function (v) { node.digits = v; }, 1, 20)),
        field("timeout", "入力タイムアウト（秒）", numberInput(node.timeout, function (v) { node.timeout = v; }, 1, 60)),
        field("max_tries", "タイムアウトの上限回数", numberInput(node.max_tries, function (v) { node.max_tries = v; }, 1, 10)),
        field("max_mis_entries", "入力ミスの上限回数",
              numberInput(node.max_mis_entries, function (v) { node.max_mis_entries = v; }, 1, 10))]));
      out.push(branchFields(node));
    } else if (["play", "sms", "transfer", "voicemail", "hangup"].indexOf(node.kind) >= 0) {
      var labels = { play: "ガイダンス", sms: "送信完了ガイダンス", transfer: "転送前のガイダンス",
                     voicemail: "録音前のガイダンス", hangup: "切断前のガイダンス" };
      out.push(guidanceField(node, "guidance", labels[node.kind]));
    }
    if (node.kind === "sms") {
      var box = h("select", {});
      box.appendChild(h("option", { value: "", text: "（選択）" }));
      data.boxes.forEach(function (b) { box.appendChild(h("option", { value: String(b.id), text: b.label, selected: p.box_number === b.id })); });
      box.addEventListener("change", function () { p.box_number = box.value ? parseInt(box.value, 10) : null; changed(false); });
      out.push(field("box_number", "蓄積BOX", box));
      var ask = h("input", { type: "checkbox", checked: !!p.ask_number });
      ask.addEventListener("change", function () { p.ask_number = ask.checked; changed(false); });
      out.push(field("ask_number", "非通知・固定電話からは携帯番号を入力してもらう", ask));
    }
    if (node.kind === "transfer") {
      out.push(field("transfer_number", "転送先電話番号", textInput(p.number, function (v) { p.number = v; },
                                                                { type: "tel", placeholder: "03-1234-5678" })));
      out.push(field("transfer_timeout", "呼び出し時間（秒）", numberInput(p.timeout, function (v) { p.timeout = v; }, 5, 120)));
    }
    if (node.kind === "voicemail") {
      out.push(field("max_seconds", "録音時間（秒）", numberInput(p.max_seconds, function (v) { p.max_seconds = v; }, 5, 600)));
    }
    if (node.kind === "hours") { out.push(hoursFields(p.hours)); }
    return out;
  }

  function hoursFields(hours) {
    var days = h("div", { className: "weekdays" });
    data.weekdays.forEach(function (label, i) {
      var box = h("input", { type: "checkbox", checked: hours.weekdays.indexOf(i) >= 0 });
      box.addEventListener("change", function () {
        hours.weekdays = hours.weekdays.filter(function (d) { return d !== i; });
        if (box.checked) { hours.weekdays.push(i); hours.weekdays.sort(); }
        changed(false);
      });
      days.appendChild(h("label", { className: "check" }, [box, document.createTextNode(label)]));
    });
    var holidays = h("input", { type: "checkbox", checked: !!hours.closed_on_holidays });
    holidays.addEventListener("change", function () { hours.closed_on_holidays = holidays.checked; changed(false); });
    return h("fieldset", { className: "fe-field", "data-field": "hours" }, [h("legend", { text: "営業時間" }), days,
      h("div", { className: "grid3" }, [
        h("label", { text: "営業開始" }, [textInput(hours.open, function (v) { hours.open = v; }, { placeholder: "09:00" })]),
        h("label", { text: "営業終了" }, [textInput(hours.close, function (v) { hours.close = v; }, { placeholder: "18:00" })]),
        h("label", { className: "check" }, [holidays, document.createTextNode("祝日・会社休業日は休み")])]),
      h("p", { className: "field-error", role: "alert" })]);
  }

  function branchFields(node) {
    var box = h("fieldset", { className: "fe-field fe-branches", "data-field": "branches" },
                [h("legend", { text: "押された番号と行き先" })]);
    digitExits(node).forEach(function (digit) {
      var input = h("input", { type: "text", value: digit, maxLength: 20, inputMode: "numeric", size: 3 });
      input.setAttribute("aria-label", "番号（" + digit + "）");
      input.addEventListener("change", function () {
        var value = input.value.trim();
        if (!value || value === digit) { input.value = digit; return; }
        if (Object.prototype.hasOwnProperty.call(node.exits, value)) {
          row.querySelector(".field-error").textContent = "番号「" + value + "」は既にあります。";
          input.value = digit;
          return;
        }
        node.exits[value] = node.exits[digit];
        delete node.exits[digit];
        changed(true);
      });
      var target = targetSelect(node, node.exits[digit], function (v) { node.exits[digit] = v; });
      target.dataset.focusAfter = "branch:" + digit;
      target.setAttribute("data-focus-after", "branch:" + digit);
      target.setAttribute("aria-label", digit + " を押したときの行き先");
      var drop = h("button", { type: "button", className: "link danger", text: "削除" });
      drop.setAttribute("aria-label", "番号 " + digit + " の分岐を削除");
      drop.addEventListener("click", function () { delete node.exits[digit]; changed(true); });
      var row = h("div", { className: "fe-branch", "data-field": "branch:" + digit }, [
        input, h("span", { text: " を押したら → " }), target, drop, h("p", { className: "field-error", role: "alert" })]);
      box.appendChild(row);
    });
    var add = h("button", { type: "button", className: "fe-add-digit", text: "+ 番号を追加" });
    add.addEventListener("click", function () {
      var digit = nextDigit(node);
      if (!digit) { return; }
      node.exits[digit] = "";
      changed(true);
      var select = document.querySelector('#fe-panel [data-field="branch:' + digit + '"] select');
      if (select) { select.focus(); }
    });
    box.appendChild(add);
    box.appendChild(h("p", { className: "field-error", role: "alert" }));
    return box;
  }

  function exitFields(node) {
    return namedExits(node).map(function (name) {
      var s = targetSelect(node, node.exits[name] || "", function (v) { node.exits[name] = v; });
      s.setAttribute("data-focus-after", "exit:" + name);
      return field("exit:" + name, data.exit_labels[name] + "の行き先", s);
    });
  }

  // Problems of the selected node, next to their fields; those about the node as a whole at the top.
  function markFields() {
    var panel = $("fe-panel");
    Array.prototype.forEach.call(panel.querySelectorAll("[data-field]"), function (f) {
      f.classList.remove("has-error");
      var message = f.querySelector(":scope > .field-error");
      if (message) { message.textContent = ""; }
      Array.prototype.forEach.call(f.querySelectorAll(":scope > input, :scope > select"), function (c) {
        c.removeAttribute("aria-invalid");
      });
    });
    var top = panel.querySelector(".fe-node-issues");
    if (!top) { return; }
    top.textContent = "";
    issuesFor(selected).forEach(function (issue) {
      var target = issue.field && panel.querySelector('[data-field="' + issue.field + '"]');
      if (!target && issue.field && issue.field.indexOf("branch:") === 0) {
        target = panel.querySelector('[data-field="branches"]');
      }
      if (target) {
        target.classList.add("has-error");
        var message = target.querySelector(":scope > .field-error");
        if (message) { message.textContent = (message.textContent ? message.textContent + " " : "") + issue.problem; }
        var control = target.querySelector(":scope > input, :scope > select");
        if (control) { control.setAttribute("aria-invalid", "true"); }
      } else {
        top.appendChild(h("li", { className: "field-error", text: issue.problem }));
      }
    });
  }

  // --- saving -------------------------------------------------------------------------------------------------------
  function status(text) { $("fe-saved").textContent = text; }
  function scheduleSave() {
    status("未保存の変更があります…");
    if (saveTimer) { clearTimeout(saveTimer); }
    saveTimer = setTimeout(save, 500);
  }
  function save() {
    if (saveTimer) { clearTimeout(saveTimer); saveTimer = null; }
    if (saving) { return saving.then(function () { return dirty ? save() : null; }); }
    dirty = false;
    status("下書きを保存しています…");
    saving = window.postJSON(data.urls.save, { flow: flow }).then(function (r) {
      return r.json().then(function (d) {
        if (!r.ok) { throw new Error((d.error && d.error.message) || "保存できませんでした。"); }
        return d;
      });
    }).then(function (d) {
      issues = d.issues;
      $("fe-state").textContent = "下書きあり（未公開）";
      $("fe-state").classList.add("warn");
      status("下書きを保存しました（" + d.saved_at + "）");
      draw();
      markFields();
    }).catch(function (err) {
      dirty = true;
      status(err.message || "保存できませんでした。");
    }).then(function () { saving = null; });
    return saving;
  }
  function flushThen(go) {
    return function (event) {
      if (!dirty && !saving) { return; }
      event.preventDefault();
      var target = event.currentTarget;
      save().then(function () { if (!dirty) { go(target); } });
    };
  }

  // --- events -----------------------------------------------------------------------------------------------------
  function nodeIdOf(event) {
    var hit = event.target.closest("[data-node-id]");
    return hit ? hit.getAttribute("data-node-id") : null;
  }
  $("fe-svg").addEventListener("click", function (event) {
    var key = nodeIdOf(event);
    if (key) { select(key, true); }
  });
  $("fe-svg").addEventListener("keydown", function (event) {
    var key = nodeIdOf(event);
    if (key && (event.key === "Enter" || event.key === " ")) { event.preventDefault(); select(key, true); }
  });
  [$("fe-list"), $("fe-issues")].forEach(function (box) {
    box.addEventListener("click", function (event) {
      var key = nodeIdOf(event);
      if (key) { select(key, true); }
    });
  });
  $("fe-panel").addEventListener("keydown", function (event) {
    if (event.key === "Escape" && selected) {
      var back = document.querySelector('#fe-list [data-node-id="' + selected + '"]');
      if (back) { back.focus(); }
    }
  });
  $("fe-publish-form").addEventListener("submit", flushThen(function (form) { form.submit(); }));
  $("fe-try").addEventListener("click", flushThen(function (link) { window.location.href = link.href; }));
  window.addEventListener("beforeunload", function (event) { if (dirty) { event.preventDefault(); } });
  window.flowEditor = { flow: function () { return flow; }, issues: function () { return issues; } };

  var first = issues.filter(function (i) { return i.node; })[0];
  selected = null;
  draw();
  if (first && document.querySelector(".flash-error")) { select(first.node, false); }
})();
