(function () {
  "use strict";
  var source = document.getElementById("statistics-data");
  if (!source || typeof Chart === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  var lang = document.documentElement.lang || "fr";
  Chart.defaults.font.size = 14;
  Chart.defaults.color = "#1b1b1b";
  Chart.defaults.locale = lang;
  function options(wholeNumbers) {
    return {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: {legend: {display: false}},
      scales: {y: {beginAtZero: true, ticks: wholeNumbers ? {precision: 0} : {}}}
    };
  }
  new Chart(document.getElementById("chart-volumes"), {
    type: "bar",
    data: {labels: data.weeks, datasets: [{label: data.labels.volumes, data: data.volumes, backgroundColor: "#0b5cad"}]},
    options: options(true)
  });
  new Chart(document.getElementById("chart-resolve"), {
    type: "line",
    data: {labels: data.resolve_weeks, datasets: [{label: data.labels.resolve, data: data.resolve_median_h,
      borderColor: "#8a4b00", backgroundColor: "#8a4b00", spanGaps: true}]},
    options: options(false)
  });
})();
