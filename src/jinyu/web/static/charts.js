/* Draws the console's charts with Apache ECharts (served by the app from the npm package, see echarts.min.js).
   Each <figure class="chart-box"> carries its data in <script type="application/json" class="chart-data">:
   data, not code, so the Content-Security-Policy (no inline script) holds. Without JavaScript, or if ECharts
   is missing, the table under the chart stays open and the page reads the same. */
(function () {
  "use strict";
  var COLOURS = ["#b3282d", "#1f5fa8", "#2e7d32", "#c77700", "#6a3d9a", "#00838f", "#795548", "#546e7a"];
  var PARTY = { borrower: "#b3282d", related: "#c77700", outside: "#546e7a" };

  function bar(d) {
    return {
      height: 40 + 28 * d.labels.length,
      option: {
        grid: { left: 8, right: 120, top: 8, bottom: 8, containLabel: true },
        xAxis: { type: "value", show: false },
        yAxis: { type: "category", data: d.labels, inverse: true, axisTick: { show: false } },
        tooltip: { trigger: "item", formatter: function (p) { return esc(p.name) + ": " + esc(d.texts[p.dataIndex]); } },
        series: [{
          type: "bar", data: d.values, itemStyle: { color: COLOURS[0] }, barMaxWidth: 18,
          label: { show: true, position: "right", formatter: function (p) { return d.texts[p.dataIndex]; } }
        }]
      }
    };
  }

  function line(d) {
    return {
      height: 300 + 22 * Math.ceil(d.series.length / 3),
      option: {
        color: COLOURS,
        legend: { bottom: 0, type: "scroll" },
        grid: { left: 8, right: 24, top: 16, bottom: 40 + 12 * Math.ceil(d.series.length / 3), containLabel: true },
        xAxis: { type: "category", data: d.x },
        yAxis: d.log ? { type: "log", logBase: 10 } : { type: "value" },
        tooltip: { trigger: "axis", formatter: function (ps) {
          return ps.map(function (p) {
            return esc(p.seriesName) + " " + esc(p.name) + ": " + esc(d.series[p.seriesIndex].texts[p.dataIndex]);
          }).join("<br>");
        } },
        series: d.series.map(function (s) {
          var values = d.log ? s.values.map(function (v) { return v !== null && v > 0 ? v : null; }) : s.values;
          return { type: "line", name: s.name, data: values, connectNulls: false, symbolSize: 5 };
        })
      }
    };
  }

  function graph(d) {
    var top = Math.max.apply(null, d.links.map(function (l) { return l.value; }).concat([1]));
    var shown = {};
    d.nodes.forEach(function (n) { shown[n.id] = n.shown; });
    return {
      height: 380,
      option: {
        tooltip: { formatter: function (p) {
          return p.dataType === "edge" ? esc(shown[p.data.source]) + " → " + esc(shown[p.data.target]) + ": " + esc(p.data.text)
            : esc(p.data.shown);
        } },
        series: [{
          type: "graph", layout: "force", roam: true, draggable: true,
          force: { repulsion: 260, edgeLength: [90, 160] },
          edgeSymbol: ["none", "arrow"], edgeSymbolSize: 9,
          label: { show: true, position: "bottom", fontSize: 11, formatter: function (p) { return p.data.short; } },
          edgeLabel: { show: true, fontSize: 10, formatter: function (p) { return p.data.text; } },
          data: d.nodes.map(function (n) {
            return {
              id: n.id, name: n.id, account: n.account, shown: n.shown,
              short: shorten(n.account) + (n.name ? "\n" + n.name : ""),
              symbolSize: n.party === "outside" ? 16 : 24, itemStyle: { color: PARTY[n.party] || COLOURS[1] }
            };
          }),
          links: d.links.map(function (l) {
            return { source: l.source, target: l.target, text: l.text, lineStyle: { width: 1 + 5 * l.value / top, curveness: 0.15 } };
          })
        }]
      }
    };
  }

  function shorten(s) { return s.length > 14 ? s.slice(0, 6) + "…" + s.slice(-6) : s; }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }

  var BUILD = { bar: bar, line: line, graph: graph };

  function draw(box) {
    var holder = box.querySelector(".echart");
    var source = box.querySelector("script.chart-data");
    if (!holder || !source) { return; }
    var d = JSON.parse(source.textContent);
    var build = BUILD[d.type];
    if (!build) { return; }
    var spec = build(d);
    holder.style.height = spec.height + "px";
    var chart = window.echarts.init(holder, null, { renderer: "canvas" });
    chart.setOption(spec.option);
    window.addEventListener("resize", function () { chart.resize(); });
    box.classList.add("drawn");
    var table = box.querySelector("details.chart-table");
    if (table) { table.removeAttribute("open"); }
  }

  function start() {
    if (!window.echarts) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("figure.chart-box"), draw);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
