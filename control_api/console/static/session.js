// A session's levels (dBFS) per participant, with the coach's feedback marked on the same clock (Chart.js).
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("levels-data").textContent);
  const colors = ["#2f6f4f", "#23457a", "#8a3b12", "#6b2a7a", "#7a6a12", "#126b6b"];
  const datasets = Object.entries(data.series).map(([who, points], i) => ({
    label: who, data: points.map(([x, y]) => ({ x, y })), borderColor: colors[i % colors.length],
    pointRadius: 0, borderWidth: 1.5, type: "line",
  }));
  datasets.push({
    label: "feedback", type: "scatter", pointStyle: "triangle", pointRadius: 6, backgroundColor: "#a12a2a",
    data: data.feedback.map((f) => ({ x: f.x, y: -3, type: f.type, who: f.who })),
  });
  new window.Chart(document.getElementById("chart-levels"), {
    type: "line",
    data: { datasets },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
      scales: { x: { type: "linear", title: { display: true, text: "s" } }, y: { max: 0, title: { display: true, text: "dBFS" } } },
      plugins: { tooltip: { callbacks: { label: (ctx) => ctx.raw.type
        ? ctx.raw.type + (ctx.raw.who ? " · " + ctx.raw.who : "") : ctx.dataset.label + ": " + ctx.raw.y + " dBFS" } } },
    },
  });
})();
