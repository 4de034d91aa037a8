// Draws each chart spec on the page with Chart.js (static/vendor/chartjs). Without
// JavaScript, or if Chart.js fails to load, the table beside each chart is the chart.
(function () {
  "use strict";
  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("script[data-chart-spec]").forEach(function (node) {
      var spec = JSON.parse(node.textContent);
      var canvas = document.getElementById("chart-" + spec.id);
      if (!canvas || canvas.dataset.drawn) { return; }
      canvas.dataset.drawn = "1";
      canvas.hidden = false;
      var stacked = !!spec.stacked;
      new window.Chart(canvas, {
        type: spec.kind,
        data: {
          labels: spec.labels,
          datasets: spec.datasets.map(function (s) { return { label: s.label, data: s.data }; })
        },
        options: {
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          scales: spec.kind === "doughnut" ? {} : {
            x: { stacked: stacked },
            y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 } }
          }
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
  document.addEventListener("htmx:afterSwap", draw);
})();
