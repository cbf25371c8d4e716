// Flow editor: show the fields of each node's kind, add nodes from the template, keep the list of
// node IDs (offered in every "行き先" field) in step with what is typed.
(function () {
  "use strict";
  var form = document.getElementById("flow-form");
  if (!form) { return; }
  var nodes = document.getElementById("nodes");
  var template = document.getElementById("node-template");
  var keys = document.getElementById("node-keys");

  function showKindFields(card) {
    var kind = card.querySelector("[data-node-kind]").value;
    Array.prototype.forEach.call(card.querySelectorAll("[data-kinds]"), function (el) {
      var kinds = el.getAttribute("data-kinds").split(/\s+/).filter(Boolean);
      el.hidden = kinds.indexOf(kind) < 0;
    });
  }

  function refreshKeys() {
    keys.innerHTML = "";
    Array.prototype.forEach.call(nodes.querySelectorAll("[data-node]"), function (card) {
      var key = card.querySelector("[data-node-key]").value.trim();
      var name = card.querySelector("input[name$='-name']").value.trim();
      card.querySelector("[data-node-title]").textContent = name || key || "（新規）";
      if (key) {
        var option = document.createElement("option");
        option.value = key;
        option.textContent = name;
        keys.appendChild(option);
      }
    });
  }

  function nextIndex() {
    var highest = -1;
    Array.prototype.forEach.call(nodes.querySelectorAll("[data-node-key]"), function (input) {
      var match = /^nodes-(\d+)-key$/.exec(input.name);
      if (match) { highest = Math.max(highest, parseInt(match[1], 10)); }
    });
    return highest + 1;
  }

  function addNode() {
    var html = template.innerHTML.replace(/__i__/g, String(nextIndex()));
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var card = holder.querySelector("[data-node]");
    nodes.appendChild(card);
    showKindFields(card);
    card.querySelector("[data-node-key]").focus();
  }

  nodes.addEventListener("change", function (event) {
    var card = event.target.closest("[data-node]");
    if (card && event.target.matches("[data-node-kind]")) { showKindFields(card); }
  });
  nodes.addEventListener("input", function (event) {
    if (event.target.matches("[data-node-key], input[name$='-name']")) { refreshKeys(); }
  });
  // Deleting nodes happens on save: ask first, naming them, so a stray tick does not remove a menu.
  form.addEventListener("submit", function (event) {
    var names = [];
    Array.prototype.forEach.call(nodes.querySelectorAll("[data-node]"), function (card) {
      var box = card.querySelector("input[name$='-delete']");
      if (box && box.checked) { names.push("「" + card.querySelector("[data-node-title]").textContent + "」"); }
    });
    if (names.length && !window.confirm("ノード " + names.join("・") + " を削除して保存しますか？")) {
      event.preventDefault();
    }
  });
  document.getElementById("add-node").addEventListener("click", addNode);
  Array.prototype.forEach.call(nodes.querySelectorAll("[data-node]"), showKindFields);
})();
