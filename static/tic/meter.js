// Power over Td against the subscribed power, redrawn every 10 s from the meter's chart.json.
(function () {
  "use strict";
  function start() {
    var canvas = document.getElementById("tic-power-chart");
    if (!canvas || typeof Chart === "undefined") return;
    var chart = new Chart(canvas, {
      type: "line",
      data: { datasets: [
        { label: canvas.dataset.labelPower, data: [], borderColor: "#0b5cad", pointRadius: 0, tension: 0.2 },
        { label: canvas.dataset.labelPs, data: [], borderColor: "#b3261e", borderDash: [6, 4], pointRadius: 0, stepped: true }
      ] },
      options: {
        animation: false, parsing: false, normalized: true,
        scales: {
          x: { type: "linear", ticks: { callback: function (v) { return new Date(v).toLocaleTimeString("fr-FR"); } } },
          y: { beginAtZero: true, title: { display: true, text: "" } }
        }
      }
    });
    function points(rows) { return rows.map(function (p) { return { x: Date.parse(p.x), y: p.y }; }); }
    function refresh() {
      fetch(canvas.dataset.url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body) return;
          // No power in the window: the note under the title says why, instead of empty axes.
          var empty = document.getElementById("tic-chart-empty");
          if (empty) { empty.hidden = body.power.length > 0; canvas.hidden = body.power.length === 0; }
          chart.data.datasets[0].data = points(body.power);
          chart.data.datasets[1].data = points(body.subscribed);
          chart.options.scales.y.title.text = body.unit;
          chart.update();
        });
    }
    refresh();
    setInterval(refresh, 10000);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
