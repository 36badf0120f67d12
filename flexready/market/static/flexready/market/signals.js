// Charts of the market-signals page: data comes from json_script blocks, Chart.js is vendored.
(function () {
  "use strict";
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  var colours = { 0: "#2e7d32", 1: "#7cb342", 2: "#ef6c00", 3: "#c62828" };
  function line(id, labels, values, label, colour) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) { return; }
    new window.Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: [{ label: label, data: values, borderColor: colour, pointRadius: 0, stepped: true }] },
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
          label: "Niveau Ecowatt (0 décarboné, 1 normal, 2 orange, 3 rouge)",
          data: ecowatt.levels.map(function (v) { return Math.max(v, 0.2); }),
          backgroundColor: ecowatt.levels.map(function (v) { return colours[v]; })
        }]
      },
      options: { animation: false, scales: { y: { min: 0, max: 3, ticks: { stepSize: 1 } }, x: { ticks: { maxTicksLimit: 16 } } } }
    });
  }
  var supplier = data("supplier-data");
  if (supplier) {
    line("price-chart", supplier.labels, supplier.price, "Prix (€/kWh)", "#0b5cad");
    line("co2-chart", supplier.labels, supplier.co2, "Contenu CO2 (gCO2eq/kWh)", "#5b6475");
    line("power-chart", supplier.labels, supplier.power, "Puissance (kW)", "#7b1fa2");
  }
})();
