/* Corredora CRM web chat widget. Embed on a brokerage's site:
 *   <script src="https://<slug>.<domain>/static/js/widget.js" data-crm-host="https://<slug>.<domain>" defer></script>
 * No framework; talks to POST/GET /api/v1/webchat/messages/ and polls for replies. */
(function () {
  "use strict";
  var script = document.currentScript;
  var host = (script && script.dataset.crmHost) || (script && new URL(script.src).origin) || "";
  var endpoint = host + "/api/v1/webchat/messages/";
  var storeKey = "crm-webchat-session";
  var session = localStorage.getItem(storeKey);
  if (!session) {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    session = Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
    localStorage.setItem(storeKey, session);
  }
  var lastId = 0;
  var pollTimer = null;

  var css = ".crmw-btn{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;" +
    "background:#0f766e;color:#fff;display:grid;place-items:center;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}" +
    ".crmw-box{position:fixed;right:20px;bottom:86px;width:min(360px,calc(100vw - 40px));height:460px;background:#fff;" +
    "border-radius:12px;box-shadow:0 10px 30px rgba(0,0,0,.25);display:none;flex-direction:column;overflow:hidden;" +
    "font:14px/1.4 system-ui,sans-serif;z-index:2147483000}.crmw-box.open{display:flex}" +
    ".crmw-head{background:#0f766e;color:#fff;padding:12px 14px;font-weight:600}" +
    ".crmw-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}" +
    ".crmw-msg{max-width:80%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}" +
    ".crmw-in{align-self:flex-end;background:#0f766e;color:#fff}.crmw-out{align-self:flex-start;background:#fff;border:1px solid #e4e7eb}" +
    ".crmw-form{display:flex;border-top:1px solid #e4e7eb}.crmw-form input{flex:1;border:0;padding:12px;font:inherit}" +
    ".crmw-form button{border:0;background:#fff;color:#0f766e;font-weight:600;padding:0 14px;cursor:pointer}";
  var style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);

  var box = document.createElement("div");
  box.className = "crmw-box";
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-label", "Chat");
  box.innerHTML = '<div class="crmw-head">¿Buscas propiedad? Escríbenos</div><div class="crmw-log" aria-live="polite"></div>' +
    '<form class="crmw-form"><input name="text" autocomplete="off" maxlength="2000" placeholder="Escribe tu mensaje…" aria-label="Mensaje">' +
    '<button type="submit">Enviar</button></form>';
  var button = document.createElement("button");
  button.className = "crmw-btn";
  button.setAttribute("aria-label", "Abrir chat");
  button.innerHTML = '<svg width="26" height="26" viewBox="0 0 24 24" fill="none" stroke="currentColor" ' +
    'stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">' +
    '<path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/></svg>';
  document.body.appendChild(box);
  document.body.appendChild(button);
  var log = box.querySelector(".crmw-log");
  var form = box.querySelector("form");

  function show(message) {
    if (message.id <= lastId) return;
    lastId = message.id;
    var bubble = document.createElement("div");
    bubble.className = "crmw-msg " + (message.direction === "in" ? "crmw-in" : "crmw-out");
    bubble.textContent = message.text;
    log.appendChild(bubble);
    log.scrollTop = log.scrollHeight;
  }

  function poll() {
    fetch(endpoint + "?session_id=" + session + "&after_id=" + lastId)
      .then(function (r) { return r.ok ? r.json() : { results: [] }; })
      .then(function (body) { body.results.forEach(show); })
      .catch(function () {})
      .finally(function () { pollTimer = setTimeout(poll, box.classList.contains("open") ? 2000 : 15000); });
  }

  button.addEventListener("click", function () {
    box.classList.toggle("open");
    if (box.classList.contains("open")) {
      form.text.focus();
      clearTimeout(pollTimer);
      poll();
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = form.text.value.trim();
    if (!text) return;
    form.text.value = "";
    fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ session_id: session, text: text })
    }).then(function () { clearTimeout(pollTimer); poll(); });
  });
})();
