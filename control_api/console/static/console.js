// Escuta console: live updates (server-sent events) and forms that call the JSON API.
// The session is in HttpOnly cookies; unsafe requests carry the CSRF token from the page's <meta>.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const actingFor = document.body.dataset.actingFor;

  function withOrg(path) {
    if (!actingFor) return path;
    return path + (path.includes("?") ? "&" : "?") + "orgId=" + encodeURIComponent(actingFor);
  }

  async function api(method, path, body, contentType) {
    const headers = { "X-CSRF-Token": csrf, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = contentType || "application/json";
    const res = await fetch(withOrg(path), {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : (contentType ? body : JSON.stringify(body)),
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return { ok: res.ok, status: res.status, data };
  }
  window.escuta = { api, withOrg, csrf };

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, k) => (values[k] !== undefined ? String(values[k]) : m));
  }
  function errorText(data, status) {
    const msg = (data && data.error && data.error.message) || "HTTP " + status;
    return fill(document.body.dataset.error || "{message}", { message: msg });
  }

  // --- forms bound to an API route: data-api="METHOD /path/{field}", data-json="a,b" ---
  function clearErrors(form) {
    form.querySelectorAll(".field-error, .form-error").forEach((el) => { el.hidden = true; el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    form.querySelectorAll(".once").forEach((el) => { el.hidden = true; });  // a secret shown before is gone
  }
  function showErrors(form, data, status) {
    let placed = false;
    const details = (data && data.error && Array.isArray(data.error.details)) ? data.error.details : [];
    for (const d of details) {
      const name = (d.field || "").split(".")[0];
      const slot = name && form.querySelector('.field-error[data-for="' + name + '"]');
      if (slot) {
        slot.textContent = d.problem || d.message || "";
        slot.hidden = false;
        const input = form.querySelector('[name="' + name + '"]');
        if (input) {
          if (!slot.id && input.id) slot.id = input.id + "-error";
          input.setAttribute("aria-invalid", "true");
          if (slot.id) input.setAttribute("aria-describedby", slot.id);
          input.focus();
        }
        placed = true;
      }
    }
    if (!placed) {
      const msg = data && data.error && data.error.message || "";
      const m = /^(\w+):/.exec(msg);
      const slot = m && form.querySelector('.field-error[data-for="' + m[1] + '"]');
      const target = slot || form.querySelector(".form-error");
      if (target) { target.textContent = slot ? msg.slice(m[0].length).trim() : errorText(data, status); target.hidden = false; }
    }
  }
  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.api) return;
    ev.preventDefault();
    clearErrors(form);
    const [method, pathTemplate] = form.dataset.api.split(" ");
    const values = {};
    for (const el of form.elements) {
      if (!el.name) continue;
      values[el.name] = el.hasAttribute("data-list")
        ? el.value.split(/\s+/).map((s) => s.trim()).filter(Boolean) : el.value;
    }
    for (const el of form.querySelectorAll("[required]")) {
      if (!el.value.trim()) {
        const slot = form.querySelector('.field-error[data-for="' + el.name + '"]');
        if (slot) { slot.textContent = el.validationMessage || "?"; slot.hidden = false; el.setAttribute("aria-invalid", "true"); el.focus(); return; }
      }
    }
    const path = pathTemplate.replace(/\{(\w+)\}/g, (m, k) => encodeURIComponent(values[k] || ""));
    let body;
    if (form.dataset.json !== undefined) {
      body = {};
      for (const k of form.dataset.json.split(",").filter(Boolean)) body[k] = values[k];
    }
    const res = await api(method, path, body);
    if (!res.ok) { showErrors(form, res.data, res.status); return; }
    if (form.dataset.once) {
      const data = Object.assign({}, res.data);
      if (data.ttlSeconds) data.ttlMinutes = Math.round(data.ttlSeconds / 60);
      if (data.link) data.url = location.origin + data.link;  // an invitation: the link to pass on
      form.reset();
      const out = form.querySelector(".once");
      const text = out.querySelector("[data-once-text]") || out;
      text.textContent = fill(form.dataset.once, data);
      out.querySelectorAll("[data-once-value]").forEach((el) => { el.value = fill(el.dataset.onceValue, data); });
      out.hidden = false;
      out.setAttribute("tabindex", "-1");
      out.focus();
      return;
    }
    if (form.dataset.next) { location.assign((res.data && res.data.next) || form.dataset.next); return; }
    location.reload();
  });
  // A one-time secret's copy button: data-copy="<id of the input holding it>".
  document.addEventListener("click", async (ev) => {
    const button = ev.target.closest("button[data-copy]");
    if (!button) return;
    const input = document.getElementById(button.dataset.copy);
    input.select();
    try { await navigator.clipboard.writeText(input.value); } catch (e) { document.execCommand("copy"); }
    button.textContent = button.dataset.copied;
  });
  document.addEventListener("click", async (ev) => {
    const button = ev.target.closest("button[data-api]");
    if (!button || button.form) return;
    if (button.hasAttribute("data-confirm") && !window.confirm(document.body.dataset.confirm)) return;
    const [method, path] = button.dataset.api.split(" ");
    const res = await api(method, path);
    if (!res.ok) { window.alert(errorText(res.data, res.status)); return; }
    location.reload();
  });

  // --- live updates: /console/events (server-sent events) ---
  const live = document.querySelector("[data-events]");
  if (live && window.EventSource) {
    const source = new EventSource(live.dataset.events);
    let lost = false;
    function fragment(html) {
      const t = document.createElement("template");
      t.innerHTML = html.trim();
      return t.content.firstElementChild;
    }
    function recount() {
      const rooms = document.getElementById("rooms");
      if (!rooms) return;
      const n = rooms.children.length;
      document.getElementById("room-count").textContent = n;
      document.getElementById("no-rooms").hidden = n > 0;
    }
    function setState(which) {
      const state = document.getElementById("live-state");
      if (state) state.textContent = state.dataset[which];
    }
    // Events may have been missed while the stream was down: fetch the page again and swap its content.
    async function resync() {
      const res = await fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!res.ok) { location.reload(); return; }
      const doc = new DOMParser().parseFromString(await res.text(), "text/html");
      const fresh = doc.querySelector("main");
      if (fresh) document.querySelector("main").innerHTML = fresh.innerHTML;
      setState("ok");
    }
    source.addEventListener("open", () => {
      if (lost) { lost = false; resync(); } else setState("ok");
    });
    source.addEventListener("error", () => { lost = true; setState("retry"); });
    source.addEventListener("room", (e) => {
      const msg = JSON.parse(e.data);
      const node = fragment(msg.html);
      const old = document.getElementById("room-" + msg.id);
      const rooms = document.getElementById("rooms");
      if (old) old.replaceWith(node); else if (rooms) rooms.prepend(node);
      recount();
    });
    source.addEventListener("room-gone", (e) => {
      const old = document.getElementById("room-" + JSON.parse(e.data).id);
      if (old) old.remove();
      recount();
    });
    for (const part of ["transcript", "recommendations", "feedback", "participants"]) {
      source.addEventListener(part, (e) => {
        const box = document.getElementById(part);
        if (box) box.innerHTML = JSON.parse(e.data).html;
      });
    }
    source.addEventListener("reload", () => { source.close(); location.reload(); });
  }
})();
