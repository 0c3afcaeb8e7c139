// The compliance dashboard's ECharts charts, the pattern of web/charts.js: the data is a
// <script type="application/json"> block written by json_script (never executed); each chart
// element names its block and key:
//   <div data-chart="compliance-share" data-source="compliance-charts" data-key="rules">
//   <div data-chart="compliance-areas" data-source="compliance-charts" data-key="areas">
(function () {
  "use strict";
  if (!window.echarts) return;
  var colours = {met: "#2f7d6d", missed: "#b91c1c", no_data: "#8a8a8a", pending: "#5b7fb0", waived: "#c28a2c"};
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
    "compliance-share": function (el) {
      var data = source(el.dataset.source)[el.dataset.key];
      if (!data.categories.length) { el.parentNode.hidden = true; return; }
      mount(el, {
        tooltip: {trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; }},
        grid: {left: 50, right: 20, top: 20, bottom: 90},
        xAxis: {type: "category", data: data.categories, axisLabel: {rotate: 40}},
        yAxis: {type: "value", max: 100, axisLabel: {formatter: "{value}%"}},
        series: [{type: "bar", data: data.data, itemStyle: {color: colours.met}}]
      });
    },
    "compliance-areas": function (el) {
      var data = source(el.dataset.source)[el.dataset.key];
      if (!data.categories.length) { el.parentNode.hidden = true; return; }
      mount(el, {
        tooltip: {trigger: "axis"},
        legend: {top: 0},
        grid: {left: 40, right: 20, top: 40, bottom: 60},
        xAxis: {type: "category", data: data.categories, axisLabel: {rotate: 30}},
        yAxis: {type: "value", minInterval: 1},
        series: data.series.map(function (s) {
          return {name: s.name, type: "bar", stack: "all", data: s.data, itemStyle: {color: colours[s.key]}};
        })
      });
    }
  };
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var fn = draw[el.dataset.chart];
    if (fn) fn(el);
  });
})();
