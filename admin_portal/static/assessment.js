/*
 * Charts of the assessment dashboard (issue 20), drawn with the vendored Apache ECharts from /assessment/charts.json:
 * the children's ranking (bars; a click drills down to the child), the 5-year trend (line) and the subtree's treemap
 * (a click drills down). Every chart is aria-hidden: the tables beside them are the text alternative. No inline script
 * or style attribute (the Content-Security-Policy allows only the portal's own origin).
 */
(function () {
  "use strict";

  var INK = "#212529";

  function showEmpty(el, reason) {
    el.hidden = true;
    var note = el.parentNode.querySelector(".chart-empty");
    if (note) {
      note.textContent = "— " + reason;
      note.hidden = false;
    }
  }

  function drill(base, id) {
    var url = new URL(base, window.location.href);
    url.searchParams.set("unit", id);
    window.location.href = url.toString();
  }

  function fmt(v) {
    return v === null || v === undefined ? "—" : Number(v).toFixed(1);
  }

  var BUILD = {
    ranking: function (d) {
      return {
        height: Math.max(240, 60 + d.categories.length * 28),
        option: {
          aria: { enabled: false }, animation: false, color: ["#1f5fa8"], textStyle: { fontSize: 14, color: INK },
          tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: fmt },
          grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
          xAxis: { type: "value", max: 100, axisLabel: { color: INK } },
          yAxis: { type: "category", data: d.categories.slice().reverse(), axisLabel: { color: INK, width: 160, overflow: "truncate" } },
          series: [{ name: "得分", type: "bar", data: d.data.slice().reverse(),
            label: { show: true, position: "right", color: INK, formatter: function (p) { return fmt(p.value); } } }],
        },
        click: function (p, base) { drill(base, d.ids[d.ids.length - 1 - p.dataIndex]); },
      };
    },
    trend: function (d) {
      return {
        height: 260,
        option: {
          aria: { enabled: false }, animation: false, color: ["#2e7d32"], textStyle: { fontSize: 14, color: INK },
          tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: fmt },
          grid: { left: 8, right: 24, top: 16, bottom: 8, containLabel: true },
          xAxis: { type: "category", data: d.categories, axisLabel: { color: INK } },
          yAxis: { type: "value", max: 100, axisLabel: { color: INK } },
          series: [{ name: "得分", type: "line", connectNulls: false, data: d.data,
            label: { show: true, color: INK, formatter: function (p) { return fmt(p.value); } } }],
        },
      };
    },
    treemap: function (d) {
      return {
        height: 420,
        option: {
          aria: { enabled: false }, animation: false,
          tooltip: { renderMode: "richText", formatter: function (p) { return p.name + "：" + fmt(p.data.score); } },
          visualMap: { show: false, min: 0, max: 100, dimension: "score", inRange: { color: ["#b02a37", "#f0ad4e", "#2e7d32"] } },
          series: [{ type: "treemap", roam: false, nodeClick: false, breadcrumb: { show: false }, data: d.nodes,
            label: { color: "#fff", formatter: function (p) { return p.name + "\n" + fmt(p.data.score); } },
            levels: [{ itemStyle: { borderColor: "#fff", borderWidth: 2, gapWidth: 2 } }],
            colorMappingBy: "value" }],
        },
        click: function (p, base) { if (p.data && p.data.id) drill(base, p.data.id); },
      };
    },
  };

  function colourTreemap(nodes) {
    nodes.forEach(function (n) {
      var s = n.score === null || n.score === undefined ? null : n.score;
      n.itemStyle = { color: s === null ? "#6c757d" : s >= 80 ? "#2e7d32" : s >= 60 ? "#8a6d00" : "#b02a37" };
      if (n.children) colourTreemap(n.children);
    });
  }

  function draw(els, data) {
    els.forEach(function (el) {
      var kind = el.getAttribute("data-assessment-chart");
      var d = data[kind];
      if (!d || d.empty) return showEmpty(el, d ? d.empty : "暂无数据");
      if (kind === "treemap") colourTreemap(d.nodes);
      var built = BUILD[kind](d);
      if (kind === "treemap") delete built.option.visualMap;
      el.style.height = built.height + "px";
      var chart = window.echarts.init(el, null, { renderer: "canvas", locale: "ZH" });
      chart.setOption(built.option);
      if (built.click) chart.on("click", function (p) { built.click(p, data.url); });
      window.addEventListener("resize", function () { chart.resize(); });
      el.setAttribute("data-chart-ready", "1");
    });
  }

  function start() {
    var els = Array.prototype.slice.call(document.querySelectorAll("[data-assessment-chart]"));
    if (!els.length || !window.echarts) return;
    fetch(els[0].getAttribute("data-chart-source"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (data) { draw(els, data); })
      .catch(function () { els.forEach(function (el) { showEmpty(el, "图表暂时无法加载，请查看表格"); }); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
