// Corredora CRM — the pipeline kanban. Cards are dragged between stages (HTML5 drag and drop) and the
// move goes to the pipeline API. app.js turns WebSocket events into "crm:<event>" DOM events; they carry
// ids only, so every open board asks the server for the lead's card as its user may see it, and moves it.
(function () {
  "use strict";

  var board = document.getElementById("kanban");
  if (!board) return;
  var dialog = document.getElementById("close-dialog");
  var notice = document.getElementById("kanban-notice");
  var perStage = Number(board.dataset.perStage);
  var numbers = new Intl.NumberFormat(document.documentElement.lang || "es-CL");
  var pending = {}; // lead id → its last card refresh: answers about one lead apply in order
  var dragged = null;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function urlFor(template, id) { return template.replace("/0/", "/" + id + "/"); }
  function column(stage) { return board.querySelector('.kcol[data-stage="' + stage + '"]'); }
  function cardOf(id) { return board.querySelector('.kcard[data-lead-id="' + id + '"]'); }

  function say(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  // --- counts and placement ---------------------------------------------------------------
  function setCount(stage, value) {
    var count = column(stage).querySelector("[data-count]");
    count.dataset.count = Math.max(0, value);
    count.textContent = numbers.format(count.dataset.count);
  }

  function bump(stage, delta) {
    setCount(stage, Number(column(stage).querySelector("[data-count]").dataset.count) + delta);
  }

  // Best score first, as the server orders them. False when the card would fall below the column's
  // last shown card of a full column (the server would not show it either).
  function place(card, stage) {
    var list = column(stage).querySelector(".kcol-list");
    var score = Number(card.dataset.score);
    var others = Array.prototype.filter.call(list.querySelectorAll(".kcard"), function (other) { return other !== card; });
    var next = others.find(function (other) { return Number(other.dataset.score) < score; });
    if (!next && others.length >= perStage) {
      card.remove();
      return false;
    }
    list.insertBefore(card, next || null);
    card.dataset.stage = stage;
    return true;
  }

  // --- moving a card ----------------------------------------------------------------------
  function move(card, stage, closeReason) {
    var from = card.dataset.stage;
    say("");
    place(card, stage);
    bump(from, -1);
    bump(stage, 1);
    fetch(urlFor(board.dataset.moveUrl, card.dataset.leadId), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ stage: stage, close_reason: closeReason }),
    }).then(function (response) {
      if (response.ok) return;
      return response.json().catch(function () { return {}; }).then(function (body) {
        throw new Error(body.error ? body.error.message : "");
      });
    }).catch(function (error) {
      place(card, from);
      bump(stage, -1);
      bump(from, 1);
      say(error.message || board.dataset.error);
    });
  }

  function askCloseReason(stage) {
    return new Promise(function (resolve) {
      var field = dialog.querySelector("textarea");
      field.value = "";
      dialog.returnValue = "";
      dialog.querySelector("[data-close-stage]").textContent = column(stage).querySelector("h2").textContent;
      dialog.addEventListener("close", function () {
        resolve(dialog.returnValue === "ok" ? field.value.trim() : "");
      }, { once: true });
      dialog.showModal();
    });
  }

  function clearTargets() {
    board.querySelectorAll(".kcol.is-target").forEach(function (col) { col.classList.remove("is-target"); });
  }

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest(".kcard");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.leadId);
    card.classList.add("is-dragging");
  });

  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    clearTargets();
  });

  board.addEventListener("dragover", function (event) {
    var col = event.target.closest(".kcol");
    if (!col || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!col.classList.contains("is-target")) {
      clearTargets();
      col.classList.add("is-target");
    }
  });

  board.addEventListener("drop", function (event) {
    var col = event.target.closest(".kcol");
    if (!col || !dragged) return;
    event.preventDefault();
    clearTargets();
    var card = dragged, stage = col.dataset.stage;
    if (stage === card.dataset.stage) return;
    if (!col.hasAttribute("data-closed")) {
      move(card, stage, "");
      return;
    }
    askCloseReason(stage).then(function (reason) {
      if (reason) move(card, stage, reason);
    });
  });

  // --- live: another person (or this page) changed a lead ----------------------------------
  function apply(answer) {
    var card = cardOf(answer.lead_id);
    if (answer.html) {
      var template = document.createElement("template");
      template.innerHTML = answer.html.trim();
      var fresh = template.content.firstElementChild;
      if (card) card.replaceWith(fresh);
      place(fresh, answer.stage);
    } else if (card) {
      card.remove();
    }
    Object.keys(answer.counts).forEach(function (stage) { setCount(stage, answer.counts[stage]); });
  }

  function refresh(data) {
    var id = data.lead_id;
    pending[id] = (pending[id] || Promise.resolve()).then(function () {
      return fetch(urlFor(board.dataset.cardUrl, id), { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      }).then(apply);
    }).catch(function () {});
  }

  ["stage_changed", "lead_updated", "lead_assigned"].forEach(function (name) {
    document.addEventListener("crm:" + name, function (event) { refresh(event.detail.data); });
  });
})();
