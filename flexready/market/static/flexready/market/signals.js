// Charts of the market-signals page: data comes from json_script blocks, Chart.js is vendored.
// Legends are the canvases' translated labels (data-legend, else aria-label), so the page's
// language reaches the charts without a JavaScript catalogue.
(function () {
  "use strict";
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var colours = { 0: "#2e7d32", 1: "#7cb342", 2: "#ef6c00", 3: "#c62828" };
  function legend(canvas) {
    return canvas.dataset.legend || canvas.getAttribute("aria-label") || "";
  }
  function line(id, labels, values, colour) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) { return; }
    new window.Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: [{ label: legend(canvas), data: values, borderColor: colour, pointRadius: 0, stepped: true }] },
      options: { animation: false, scales: { x: { ticks: { maxTicksLimit: 16 } } } }
    });
  }
  var ecowatt = data("ecowatt-data");
  var canvas = document.getElementById("ecowatt-chart");
  if (ecowatt && canvas && window.Chart) {
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: ecowatt.labels,
        datasets: [{
          label: legend(canvas),
          data: ecowatt.levels.map(function (v) { return Math.max(v, 0.2); }),
          backgroundColor: ecowatt.levels.map(function (v) { return colours[v]; })
        }]
      },
      options: { animation: false, scales: { y: { min: 0, max: 3, ticks: { stepSize: 1 } }, x: { ticks: { maxTicksLimit: 16 } } } }
    });
  }
  var supplier = data("supplier-data");
  if (supplier) {
    line("price-chart", supplier.labels, supplier.price, "#0b5cad");
    line("co2-chart", supplier.labels, supplier.co2, "#5b6475");
    line("power-chart", supplier.labels, supplier.power, "#7b1fa2");
  }
})();
