// The invitation page (/invite#<token>): the token is in the fragment, which browsers never send to a
// server; it is read here and only ever POSTed in a request body. The tab keeps it (sessionStorage), so
// the language switch, whose redirect drops the fragment, still finds it.
"use strict";
(function () {
  const KEY = "escuta-invitation";
  let token = decodeURIComponent(location.hash.replace(/^#/, ""));
  if (token) sessionStorage.setItem(KEY, token);
  else token = sessionStorage.getItem(KEY) || "";
  document.querySelectorAll('#invite input[name="token"]').forEach((el) => { el.value = token; });
  if (!token) {
    document.getElementById("invite-missing").hidden = false;
    document.querySelectorAll("#invite form").forEach((f) => { f.hidden = true; });
  }
})();
