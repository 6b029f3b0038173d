// Numbers on charts as the page's language writes them (the <html lang> Django sets):
// Intl.NumberFormat groups thousands with a no-break space in Russian and Ukrainian and puts
// "%" after a space, the same as the server's kopilka.numfmt. Units: "money" and "points"
// (two decimals), "percent" (values in percent units: 30 is 30 %), "count".
(function () {
  var locale = (document.documentElement.lang || "ru").toLowerCase();
  var options = {
    money: { minimumFractionDigits: 2, maximumFractionDigits: 2 },
    points: { minimumFractionDigits: 2, maximumFractionDigits: 2 },
    percent: { style: "percent", maximumFractionDigits: 2 },
    count: { maximumFractionDigits: 0 },
  };
  var axisOptions = {
    money: { maximumFractionDigits: 2 },
    points: { maximumFractionDigits: 2 },
    percent: { style: "percent", maximumFractionDigits: 2 },
    count: { maximumFractionDigits: 0 },
  };
  function formatter(unit, forAxis) {
    var format = new Intl.NumberFormat(locale, (forAxis ? axisOptions : options)[unit] || {});
    return function (value) {
      return format.format(unit === "percent" ? value / 100 : value);
    };
  }
  // Chart.js options that format the y axis and the tooltips for `unit`.
  function chartOptions(unit) {
    var tick = formatter(unit, true);
    var full = formatter(unit, false);
    return {
      locale: locale,
      scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return tick(v); } } } },
      plugins: {
        tooltip: {
          callbacks: {
            label: function (ctx) {
              return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + full(ctx.parsed.y);
            },
          },
        },
      },
    };
  }
  window.kopilkaNumbers = { locale: locale, formatter: formatter, chartOptions: chartOptions };
})();
