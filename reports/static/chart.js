// Daily calls and abandonment drawn as an SVG bar chart (no library, nothing from a CDN).
// Reads the series the page embeds in #report-chart-data and draws into #report-chart;
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
    if (value <= 0) { return 5; }
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

  function draw(container, data) {
    container.innerHTML = "";
    var count = data.days.length;
    if (!count) {
      container.textContent = "表示するデータがありません。";
      return;
    }
    var width = Math.max(container.clientWidth || 0, 480);
    var plotWidth = width - MARGIN.left - MARGIN.right;
    var plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
    var top = roundedMax(Math.max.apply(null, data.calls));
    var svg = node("svg", { viewBox: "0 0 " + width + " " + HEIGHT, width: "100%", height: HEIGHT,
                            "data-days": count, class: "chart-svg" }, container);
    var y = function (value) { return MARGIN.top + plotHeight - value / top * plotHeight; };
    var yRate = function (rate) { return MARGIN.top + plotHeight - rate / 100 * plotHeight; };

    for (var tick = 0; tick <= 5; tick++) {
      var value = top * tick / 5;
      node("line", { x1: MARGIN.left, x2: MARGIN.left + plotWidth, y1: y(value), y2: y(value), class: "grid" }, svg);
      node("text", { x: MARGIN.left - 6, y: y(value) + 4, class: "axis-label", "text-anchor": "end" }, svg,
           String(Math.round(value * 10) / 10));
      node("text", { x: MARGIN.left + plotWidth + 6, y: yRate(tick * 20) + 4, class: "axis-label rate" }, svg,
           (tick * 20) + "%");
    }

    var slot = plotWidth / count;
    var barWidth = Math.max(1, slot * 0.7);
    var labelEvery = Math.ceil(count / 12);
    var ratePoints = [];
    data.days.forEach(function (day, i) {
      var x = MARGIN.left + i * slot + (slot - barWidth) / 2;
      var calls = data.calls[i];
      var abandoned = data.abandoned[i];
      var retried = (data.retry_limit || [])[i] || 0;
      var group = node("g", { class: "day", "data-day": day }, svg);
      node("title", {}, group, day + " 着信 " + calls + " 件 / 途中放棄 " + abandoned + " 件 (" +
           percent(abandoned, calls) + "%) / リトライ上限 " + retried + " 件");
      node("rect", { x: x, y: y(calls), width: barWidth, height: y(0) - y(calls), class: "bar-calls" }, group);
      node("rect", { x: x, y: y(abandoned), width: barWidth, height: y(0) - y(abandoned), class: "bar-abandoned" }, group);
      node("rect", { x: x, y: y(abandoned + retried), width: barWidth, height: y(abandoned) - y(abandoned + retried),
                     class: "bar-retry" }, group);
      ratePoints.push((x + barWidth / 2) + "," + yRate(calls ? abandoned * 100 / calls : 0));
      if (i % labelEvery === 0) {
        node("text", { x: x + barWidth / 2, y: MARGIN.top + plotHeight + 16, class: "axis-label",
                       "text-anchor": "middle" }, svg, shortDay(day));
      }
    });
    node("polyline", { points: ratePoints.join(" "), class: "line-rate" }, svg);
    node("line", { x1: MARGIN.left, x2: MARGIN.left + plotWidth, y1: y(0), y2: y(0), class: "axis" }, svg);

    var legend = node("g", { class: "legend" }, svg);
    var items = [["key-calls", "着信数"], ["key-abandoned", "途中放棄"], ["key-retry", "リトライ上限"],
                 ["key-rate", "途中放棄率 (右軸)"]];
    items.forEach(function (item, i) {
      var lx = MARGIN.left + i * 130;
      node("rect", { x: lx, y: HEIGHT - 16, width: 12, height: 12, class: item[0] }, legend);
      node("text", { x: lx + 16, y: HEIGHT - 6, class: "axis-label" }, legend, item[1]);
    });
  }

  function start() {
    var container = document.getElementById("report-chart");
    var source = document.getElementById("report-chart-data");
    if (!container || !source) { return; }
    var data = JSON.parse(source.textContent);
    draw(container, data);
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () { draw(container, data); }, 150);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
