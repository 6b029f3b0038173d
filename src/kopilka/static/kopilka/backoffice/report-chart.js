// Draws the report's chart from the JSON the page carries in #report-chart:
// {type, unit, stacked, labels, datasets: [{label, data}]}. Chart.js is shipped with Kopilka;
// numbers.js (loaded first) formats the axis and the tooltips in the page's language.
document.addEventListener("DOMContentLoaded", function () {
  var source = document.getElementById("report-chart");
  var canvas = document.getElementById("report-canvas");
  if (!source || !canvas || !window.Chart) return;
  var spec = JSON.parse(source.textContent);
  var colours = ["#7c3aed", "#16a34a", "#f59e0b", "#dc2626", "#0ea5e9"];
  var numbers = window.kopilkaNumbers.chartOptions(spec.unit || "count");
  if (spec.stacked) {
    numbers.scales.x = { stacked: true };
    numbers.scales.y.stacked = true;
  }
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
    options: Object.assign(
      { maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false } },
      numbers
    ),
  });
  canvas.dataset.ready = String(chart.data.datasets.length);
  canvas.dataset.locale = numbers.locale;
});
