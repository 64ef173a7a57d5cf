// Charts of the clips and avatar views (Chart.js, shipped with the page): data from a JSON <script>.
"use strict";
(function () {
  const colors = ["#2f6f4f", "#23457a", "#8a3b12", "#6b2a7a", "#7a6a12", "#126b6b"];
  const base = { animation: false, responsive: true, maintainAspectRatio: false };
  const bursts = document.getElementById("bursts-data");
  if (bursts) {
    const d = JSON.parse(bursts.textContent);
    new window.Chart(document.getElementById("chart-bursts"), {
      type: "bar",
      data: { labels: d.labels, datasets: Object.entries(d.series).map(([name, values], i) => ({
        label: name, data: values, backgroundColor: colors[i % colors.length] })) },
      options: { ...base, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }
  const usage = document.getElementById("usage-data");
  if (usage) {
    const d = JSON.parse(usage.textContent);
    new window.Chart(document.getElementById("chart-usage"), {
      type: "bar",
      data: { labels: d.labels, datasets: [
        { label: d.credits_label, data: d.credits, backgroundColor: colors[0], yAxisID: "y" },
        { label: d.minutes_label, data: d.minutes, type: "line", borderColor: colors[1], yAxisID: "y1", pointRadius: 0 },
      ] },
      options: { ...base, scales: { y: { beginAtZero: true }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } },
    });
  }
})();
