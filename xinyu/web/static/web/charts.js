// ECharts charts. The data comes from <script type="application/json"> blocks written by
// Django's json_script filter (never executed); each chart element names its block:
//   <div data-chart="cluster" data-source="cluster-data">                rows [[label, count], ...]
//   <div data-chart="report" data-source="report-charts" data-key="grade" data-type="bar">
(function () {
  "use strict";
  if (!window.echarts) return;
  var sources = {};
  function source(id) {
    if (!(id in sources)) sources[id] = JSON.parse(document.getElementById(id).textContent);
    return sources[id];
  }
  function mount(el, option) {
    var chart = echarts.init(el);
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  var draw = {
    cluster: function (el) {
      var rows = source(el.dataset.source);
      mount(el, {
        grid: {left: 60, right: 20, top: 20, bottom: 30},
        xAxis: {type: "category", data: rows.map(function (r) { return r[0]; })},
        yAxis: {type: "value"},
        tooltip: {},
        series: [{type: "bar", data: rows.map(function (r) { return r[1]; }), itemStyle: {color: "#2f7d6d"}}]
      });
    },
    report: function (el) {
      var chart = source(el.dataset.source)[el.dataset.key];
      var type = el.dataset.type;
      if (!chart.categories.length) { el.parentNode.hidden = true; return; }
      mount(el, {
        tooltip: {trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; }},
        legend: {top: 0},
        grid: {left: 50, right: 20, top: 40, bottom: 30},
        xAxis: {type: "category", data: chart.categories},
        yAxis: {type: "value", max: type === "bar" ? 100 : null, axisLabel: {formatter: "{value}%"}},
        series: chart.series.map(function (s) {
          return {name: s.name, type: type, stack: type === "bar" ? "all" : null, data: s.data,
            itemStyle: {color: s.colour}, lineStyle: {color: s.colour}};
        })
      });
    }
  };
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var fn = draw[el.dataset.chart];
    if (fn) fn(el);
  });
})();
