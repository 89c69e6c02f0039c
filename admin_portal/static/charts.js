/*
 * Charts of the portal (issue 11, workbench slice), drawn with the vendored Apache ECharts.
 *
 * Every element carrying data-chart-url gets a grouped horizontal bar chart from that JSON endpoint of the portal:
 *   {"title", "unit": "%", "categories": [unit names], "series": [{"name", "data": [number or null]}], "empty"}
 * "empty" is the reason there is nothing to draw: the chart is then replaced by 「— reason」 (never a row of 0 %).
 * The chart is aria-hidden; the table beside it (or linked from it) is the text alternative for screen readers.
 * No inline script or style attribute: the Content-Security-Policy allows only the portal's own origin, so the
 * tooltip renders into the canvas (renderMode "richText") instead of injecting styled HTML.
 */
(function () {
  "use strict";

  var COLOURS = ["#1f5fa8", "#2e7d32", "#b02a37", "#6f42c1"];

  function showEmpty(el, reason) {
    el.hidden = true;
    var note = el.parentNode.querySelector(".chart-empty");
    if (note) {
      note.textContent = "— " + reason;
      note.hidden = false;
    }
  }

  function option(data) {
    var categories = data.categories.slice().reverse(); // the total (first) on top
    return {
      aria: { enabled: false },
      animation: false,
      color: COLOURS,
      textStyle: { fontSize: 14, color: "#212529" },
      legend: { top: 0, textStyle: { fontSize: 14, color: "#212529" } },
      tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: function (v) {
        return v === null || v === undefined ? "—" : v + data.unit;
      } },
      grid: { left: 8, right: 32, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "value", max: data.unit === "%" ? 100 : null, axisLabel: { formatter: "{value}" + data.unit, color: "#212529" } },
      yAxis: { type: "category", data: categories, axisLabel: { color: "#212529", width: 160, overflow: "truncate" } },
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          data: s.data.slice().reverse(),
          label: { show: true, position: "right", fontSize: 12, color: "#212529", formatter: function (p) {
            return p.value === null || p.value === undefined ? "—" : p.value + data.unit;
          } },
        };
      }),
    };
  }

  function draw(el) {
    fetch(el.getAttribute("data-chart-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (data.empty) return showEmpty(el, data.empty);
        var rows = data.categories.length * data.series.length;
        el.style.height = Math.max(240, 60 + rows * 22) + "px";
        var chart = window.echarts.init(el, null, { renderer: "canvas", locale: "ZH" });
        chart.setOption(option(data));
        window.addEventListener("resize", function () { chart.resize(); });
        el.setAttribute("data-chart-ready", "1");
      })
      .catch(function () {
        showEmpty(el, "图表暂时无法加载，请查看表格");
      });
  }

  function start() {
    if (!window.echarts) return;
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart-url]"), draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
