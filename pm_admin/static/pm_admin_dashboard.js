// Draws every <canvas data-chart="{...}"> of the dashboard with Chart.js (served from /static/vendor).
(function () {
  "use strict";
  var palette = ["#4e79a7", "#59a14f", "#f28e2b", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"];
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = JSON.parse(canvas.getAttribute("data-chart"));
    new Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, i) {
          return {label: series.label, data: series.data, backgroundColor: palette[i % palette.length]};
        })
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: {stacked: spec.stacked},
          y: {stacked: spec.stacked, beginAtZero: true, ticks: {precision: 0}}
        }
      }
    });
  });
})();
