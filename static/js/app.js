// Corredora CRM — small progressive enhancements, no framework.
(function () {
  "use strict";

  // Destructive actions ask first, in an accessible <dialog>.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (!button || button.dataset.confirmed) return;
    event.preventDefault();
    var dialog = document.createElement("dialog");
    dialog.innerHTML = '<p></p><menu><button class="btn btn-ghost" value="cancel">' +
      (document.documentElement.lang.startsWith("es") ? "Cancelar" : "Cancel") +
      '</button><button class="btn btn-danger" value="ok">' +
      (document.documentElement.lang.startsWith("es") ? "Confirmar" : "Confirm") + "</button></menu>";
    dialog.querySelector("p").textContent = button.dataset.confirm;
    document.body.appendChild(dialog);
    dialog.addEventListener("click", function (e) {
      var choice = e.target.closest("button");
      if (!choice) return;
      dialog.close();
      dialog.remove();
      if (choice.value === "ok") {
        button.dataset.confirmed = "1";
        button.click();
      }
    });
    dialog.showModal();
  });

  // Language picker submits on change.
  document.querySelectorAll("[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Long submits show progress and cannot be sent twice.
  document.querySelectorAll("form[data-busy-on-submit]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("[type=submit]");
      if (button) button.setAttribute("aria-busy", "true");
    });
  });

  // Live dashboard: one WebSocket per page, events re-dispatched as DOM events ("crm:<event>").
  var live = document.getElementById("live");
  if (live && window.WebSocket) {
    var connect = function (delay) {
      var scheme = location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + location.host + live.dataset.ws);
      socket.onopen = function () {
        delay = 1000;
        document.body.dataset.live = "on";
        // Events sent while the page loaded or the socket was down are gone: pages may catch up here.
        document.dispatchEvent(new CustomEvent("crm:connected"));
      };
      socket.onmessage = function (message) {
        var envelope = JSON.parse(message.data);
        document.dispatchEvent(new CustomEvent("crm:" + envelope.event, { detail: envelope }));
      };
      socket.onclose = function (event) {
        document.body.dataset.live = "off";
        if (event.code !== 4403) setTimeout(function () { connect(Math.min(delay * 2, 30000)); }, delay);
      };
    };
    // Page scripts, deferred after this one, listen for "crm:connected": open the socket once they
    // have all run (DOMContentLoaded), or one that opens while a page script still loads would
    // announce itself, and what happened meanwhile, to nobody.
    document.addEventListener("DOMContentLoaded", function () { connect(1000); });
  }
})();
