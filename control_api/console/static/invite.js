// The invitation page (/invite#<token>): the token is in the fragment, which browsers never send to a
// server; it is read here and only ever POSTed in a request body. It stays in the address bar, so a reload
// or the language switch (a redirect keeps the fragment) still finds it.
"use strict";
(function () {
  const token = decodeURIComponent(location.hash.replace(/^#/, ""));
  document.querySelectorAll('#invite input[name="token"]').forEach((el) => { el.value = token; });
  if (!token) {
    document.getElementById("invite-missing").hidden = false;
    document.querySelectorAll("#invite form").forEach((f) => { f.hidden = true; });
  }
})();
