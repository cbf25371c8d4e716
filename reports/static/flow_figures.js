// The flow picture's figures (reports.figures) laid over ivr's picture: each node's box is found by its id
// ("dg-" + node key) and gets a small panel of figures; the worst places are marked. Nothing else of the
// picture's layout is assumed, so the picture may change without this file.
(function () {
  "use strict";

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (text !== undefined) { el.textContent = text; }
    return el;
  }

  function panel(figures) {
    var box = element("span", "fg-figures");
    box.setAttribute("data-node", figures.key);
    box.appendChild(element("span", "fg-item fg-reached", "到達 " + figures.reached));
    figures.digits.forEach(function (d) {
      box.appendChild(element("span", "fg-item fg-digit", "「" + (d.digit || "空") + "」" + d.count));
    });
    if (figures.timeouts) { box.appendChild(element("span", "fg-item fg-timeout", "タイムアウト " + figures.timeouts)); }
    if (figures.mis_entries) { box.appendChild(element("span", "fg-item fg-mis", "入力ミス " + figures.mis_entries)); }
    if (figures.hangups) {
      var hangups = element("span", "fg-item fg-hangup", "途中放棄 " + figures.hangups + "（" + figures.hangup_rate + "%）");
      hangups.title = figures.places.map(function (p) {
        return p.part_label + (p.guidance_name ? ": " + p.guidance_name : "") + " " + p.count;
      }).join(" / ");
      box.appendChild(hangups);
    }
    if (figures.worst_rank) { box.appendChild(element("span", "fg-item fg-rank", "放棄 " + figures.worst_rank + "位")); }
    return box;
  }

  function lay(data) {
    Object.keys(data.nodes).forEach(function (key) {
      var figures = data.nodes[key];
      var node = document.getElementById("dg-" + key);
      if (!node) { return; }
      node.appendChild(panel(figures));
      if (figures.worst_rank) {
        node.classList.add("fg-worst");
        node.setAttribute("data-worst-rank", String(figures.worst_rank));
      }
    });
  }

  function start() {
    var source = document.getElementById("flow-figures-data");
    if (!source) { return; }
    lay(JSON.parse(source.textContent));
    document.body.setAttribute("data-figures-ready", "1");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
