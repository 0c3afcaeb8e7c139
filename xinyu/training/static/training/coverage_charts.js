// The training coverage page's ECharts charts (xinyu/training/coverage.py `charts`), the same
// pattern as web/charts.js: the data is a <script type="application/json"> block written by
// json_script (never executed); each chart element names its block and key:
//   <div data-chart="training-stack" data-source="coverage-charts" data-key="holders">
//   <div data-chart="training-target" data-source="coverage-charts" data-key="targets">
(function () {
  "use strict";
  if (!window.echarts) return;
  var sources = {};
  var colours = ["#2f7d6d", "#3b6ea5", "#c28a2c", "#8a8a8a"];
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
    "training-stack": function (el) {
      var data = source(el.dataset.source)[el.dataset.key];
      if (!data.categories.length) { el.parentNode.hidden = true; return; }
      mount(el, {
        tooltip: {trigger: "axis"},
        legend: {top: 0},
        grid: {left: 40, right: 20, top: 40, bottom: 60},
        xAxis: {type: "category", data: data.categories, axisLabel: {rotate: 30}},
        yAxis: {type: "value", minInterval: 1},
        series: data.series.map(function (s, i) {
          return {name: s.name, type: "bar", stack: "all", data: s.data, itemStyle: {color: colours[i % colours.length]}};
        })
      });
    },
    "training-target": function (el) {
      var data = source(el.dataset.source)[el.dataset.key];
      if (!data.categories.length) { el.parentNode.hidden = true; return; }
      mount(el, {
        tooltip: {trigger: "axis"},
        legend: {top: 0},
        grid: {left: 50, right: 20, top: 40, bottom: 30},
        xAxis: {type: "category", data: data.categories},
        yAxis: {type: "value", minInterval: 1},
        series: [
          {name: "已发 / Issued", type: "bar", data: data.done, itemStyle: {color: colours[0]}},
          {name: "目标 / Target", type: "bar", data: data.target, itemStyle: {color: "#d9d9d9"}}
        ]
      });
    }
  };
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var fn = draw[el.dataset.chart];
    if (fn) fn(el);
  });
})();
