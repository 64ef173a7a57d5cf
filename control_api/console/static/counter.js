// The counter view: acceptance charts (Chart.js, shipped with the page) and the catalog CSV upload.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("chart-data").textContent);
  function bar(id, series) {
    const canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: series.labels,
        datasets: [{ label: data.label, data: series.rates, backgroundColor: "#2f6f4f", maxBarThickness: 28 }],
      },
      options: {
        indexAxis: "y", responsive: true, maintainAspectRatio: false, animation: false,
        scales: { x: { min: 0, max: 100 } },
        plugins: { legend: { display: false }, tooltip: { callbacks: {
          afterLabel: (ctx) => series.details[ctx.dataIndex],
        } } },
      },
    });
  }
  bar("chart-product", data.product);
  bar("chart-clerk", data.clerk);

  const form = document.getElementById("csv-form");
  if (!form) return;
  const fileError = document.getElementById("file-error");
  const progress = document.getElementById("csv-progress");
  const result = document.getElementById("csv-result");
  const errors = document.getElementById("csv-errors");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    fileError.hidden = true;
    errors.hidden = true;
    result.textContent = "";
    const file = document.getElementById("csv-file").files[0];
    if (!file) {
      fileError.textContent = form.dataset.choose;
      fileError.hidden = false;
      document.getElementById("csv-file").focus();
      return;
    }
    const skip = document.getElementById("csv-skip").checked;
    const xhr = new XMLHttpRequest();
    xhr.open("POST", window.escuta.withOrg("/catalog/import" + (skip ? "?skip_invalid=true" : "")));
    xhr.setRequestHeader("Content-Type", "text/csv");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("X-CSRF-Token", window.escuta.csrf);
    progress.hidden = false;
    progress.value = 0;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total); };
    xhr.onload = () => {
      progress.value = 100;
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      const rows = (body && (xhr.status === 200 ? body.errors : body.error && body.error.details)) || [];
      if (rows.length) {
        const tbody = errors.querySelector("tbody");
        tbody.replaceChildren();
        for (const r of rows) {
          const tr = document.createElement("tr");
          for (const v of [r.line, r.field || "", r.message]) {
            const td = document.createElement("td");
            td.textContent = v;
            tr.appendChild(td);
          }
          tbody.appendChild(tr);
        }
        errors.hidden = false;
      }
      if (xhr.status === 200) {
        result.textContent = form.dataset.done.replace("{created}", body.created).replace("{updated}", body.updated);
      } else {
        fileError.textContent = (body && body.error && body.error.message) || "HTTP " + xhr.status;
        fileError.hidden = false;
      }
    };
    xhr.send(file);
  });
})();
