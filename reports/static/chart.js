// Report charts drawn as SVG bars (no library, nothing from a CDN): daily calls and abandonment, daily SMS and
// clicks, calls by hour of the day. Each container names the JSON it draws (data-chart-source);
// redraws when the window is resized so the bars always fit the page.
(function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var HEIGHT = 280;
  var MARGIN = { top: 20, right: 52, bottom: 44, left: 52 };

  function node(name, attrs, parent, text) {
    var el = document.createElementNS(SVG_NS, name);
    Object.keys(attrs || {}).forEach(function (key) { el.setAttribute(key, attrs[key]); });
    if (text !== undefined) { el.textContent = text; }
    if (parent) { parent.appendChild(el); }
    return el;
  }

  // The smallest 1, 2 or 5 times a power of ten at or above `value`, so the axis has round ticks.
  function roundedMax(value) {
    if (value <= 0) { return 1; }
    var power = Math.pow(10, Math.floor(Math.log(value) / Math.LN10));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * power >= value) { return steps[i] * power; }
    }
    return 10 * power;
  }

  function shortDay(iso) {
    var parts = iso.split("-");
    return Number(parts[1]) + "/" + Number(parts[2]);
  }

  function percent(part, whole) {
    return whole ? (part * 100 / whole).toFixed(1) : "0.0";
  }

  // A chart is two counts per slot (a day or an hour of the day) drawn as overlapping bars, the second as a share
  // of the first drawn as a line on the right axis: calls and abandoned calls, SMS sent and SMS clicked.
  function draw(container, chart) {
    container.innerHTML = "";
    var count = chart.slots.length;
    if (!count) {
      container.textContent = "表示するデータがありません。";
      return;
    }
    var whole = chart.whole, part = chart.part, extra = chart.extra;
    var width = Math.max(container.clientWidth || 0, 480);
    var plotWidth = width - MARGIN.left - MARGIN.right;
    var plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
    // Counts are whole calls or messages: a tick step of at least 1 keeps 0.2-call labels off the axis.
    var step = Math.max(1, roundedMax(Math.max.apply(null, whole.values) / 5));
    var top = step * 5;
    var svg = node("svg", { viewBox: "0 0 " + width + " " + HEIGHT, width: "100%", height: HEIGHT,
                            "data-slots": count, class: "chart-svg" }, container);
    svg.setAttribute("data-" + chart.slot + "s", count);
    var y = function (value) { return MARGIN.top + plotHeight - value / top * plotHeight; };
    var yRate = function (rate) { return MARGIN.top + plotHeight - rate / 100 * plotHeight; };

    for (var tick = 0; tick <= 5; tick++) {
      var value = step * tick;
      node("line", { x1: MARGIN.left, x2: MARGIN.left + plotWidth, y1: y(value), y2: y(value), class: "grid" }, svg);
      node("text", { x: MARGIN.left - 6, y: y(value) + 4, class: "axis-label count-tick", "text-anchor": "end" }, svg,
           String(value));
      node("text", { x: MARGIN.left + plotWidth + 6, y: yRate(tick * 20) + 4, class: "axis-label rate" }, svg,
           (tick * 20) + "%");
    }

    var slot = plotWidth / count;
    var barWidth = Math.max(1, slot * 0.7);
    var labelEvery = Math.ceil(count / 12);
    var ratePoints = [];
    chart.slots.forEach(function (name, i) {
      var x = MARGIN.left + i * slot + (slot - barWidth) / 2;
      var total = whole.values[i];
      var share = part.values[i];
      var more = extra ? extra.values[i] : 0;
      var group = node("g", { class: chart.slot }, svg);
      group.setAttribute("data-" + chart.slot, name);
      var label = chart.slot === "hour" ? name + "時" : name;
      node("title", {}, group, label + " " + whole.name + " " + total + " 件 / " + part.name + " " + share + " 件 (" +
           percent(share, total) + "%)" + (extra ? " / " + extra.name + " " + more + " 件" : ""));
      node("rect", { x: x, y: y(total), width: barWidth, height: y(0) - y(total), class: "bar-" + whole.key }, group);
      node("rect", { x: x, y: y(share), width: barWidth, height: y(0) - y(share), class: "bar-" + part.key }, group);
      if (extra) {  // stacked on the part: callers who left through the retry limit, above those who hung up
        node("rect", { x: x, y: y(share + more), width: barWidth, height: y(share) - y(share + more),
                       class: "bar-" + extra.key }, group);
      }
      ratePoints.push((x + barWidth / 2) + "," + yRate(total ? share * 100 / total : 0));
      if (i % labelEvery === 0) {
        node("text", { x: x + barWidth / 2, y: MARGIN.top + plotHeight + 16, class: "axis-label",
                       "text-anchor": "middle" }, svg, chart.slot === "hour" ? String(name) : shortDay(name));
      }
    });
    node("polyline", { points: ratePoints.join(" "), class: "line-rate" }, svg);
    node("line", { x1: MARGIN.left, x2: MARGIN.left + plotWidth, y1: y(0), y2: y(0), class: "axis" }, svg);

    var legend = node("g", { class: "legend" }, svg);
    var items = [["key-" + whole.key, whole.name], ["key-" + part.key, part.name]];
    if (extra) { items.push(["key-" + extra.key, extra.name]); }
    items.push(["key-rate", chart.rate + " (右軸)"]);
    items.forEach(function (item, i) {
      var lx = MARGIN.left + i * 130;
      node("rect", { x: lx, y: HEIGHT - 16, width: 12, height: 12, class: item[0] }, legend);
      node("text", { x: lx + 16, y: HEIGHT - 6, class: "axis-label" }, legend, item[1]);
    });
  }

  function drawWhenResized(container, chart) {
    draw(container, chart);
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { draw(container, chart); }, 150);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart-source]"), function (container) {
      var source = document.getElementById(container.getAttribute("data-chart-source"));
      if (source) { drawWhenResized(container, JSON.parse(source.textContent)); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
