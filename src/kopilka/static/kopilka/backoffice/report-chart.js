// Draws the report's chart from the JSON the page carries in #report-chart:
// {type, stacked, labels, datasets: [{label, data}]}. Chart.js is shipped with Kopilka.
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("report-chart");
  var canvas = document.getElementById("report-canvas");
  if (!source || !canvas || !window.Chart) return;
  var spec = JSON.parse(source.textContent);
  var colours = ["#7c3aed", "#16a34a", "#f59e0b", "#dc2626", "#0ea5e9"];
  var chart = new window.Chart(canvas, {
    type: spec.type,
    data: {
      labels: spec.labels,
      datasets: spec.datasets.map(function (set, i) {
        return {
          label: set.label,
          data: set.data,
          backgroundColor: colours[i % colours.length],
          borderColor: colours[i % colours.length],
        };
      }),
    },
    options: {
      maintainAspectRatio: false,
      animation: false,
      scales: spec.stacked ? { x: { stacked: true }, y: { stacked: true } } : {},
    },
  });
  canvas.dataset.ready = String(chart.data.datasets.length);
});
