// Corredora CRM — the agenda. Appointments are dragged (HTML5 drag and drop) onto a time cell of the
// week; the move goes to the agenda's JSON endpoint, which calls the reschedule service. A refused move
// leaves the appointment where it was and says why. app.js turns WebSocket events into "crm:<event>" DOM
// events: on any appointment event the visible days are fetched again from the server. While dragging,
// holding the appointment over "Semana siguiente"/"Semana anterior" shows that week, to drop it there.
(function () {
  "use strict";

  var root = document.getElementById("agenda");
  if (!root) return;
  var notice = document.getElementById("agenda-notice");
  var apptDialog = document.getElementById("appt-dialog");
  var bookDialog = document.getElementById("book-dialog");
  var lang = document.documentElement.lang || "es-CL";
  // Times as the brokerage's clock shows them, whatever the browser's time zone.
  var zone = { timeZone: root.dataset.tz, hourCycle: "h23" };
  var whenFormat = new Intl.DateTimeFormat(lang, Object.assign({ weekday: "long", day: "numeric", month: "long",
    hour: "2-digit", minute: "2-digit" }, zone));
  var timeFormat = new Intl.DateTimeFormat(lang, Object.assign({ hour: "2-digit", minute: "2-digit" }, zone));
  var current = null; // the appointment button whose dialog is open
  var dragged = null;
  var refreshing = null;
  var refreshQueued = null;

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function say(text, kind) {
    notice.textContent = text || "";
    notice.hidden = !text;
    notice.className = "agenda-notice" + (kind ? " is-" + kind : "");
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || root.dataset.error);
        return data;
      });
    });
  }

  function actionUrl(id, action) {
    return root.dataset.actionUrl.replace("/0/", "/" + id + "/").replace("/accion/", "/" + action + "/");
  }

  // --- the visible days, fetched again ---------------------------------------------------------
  // One fetch at a time; what asks while one is on its way (another change, the next week) gets one
  // more fetch after it, so the days shown are never older than the last change announced.
  function refresh() {
    if (refreshing) {
      refreshQueued = refreshQueued || refreshing.catch(function () {}).then(function () {
        refreshQueued = null;
        return refresh();
      });
      return refreshQueued;
    }
    var url = new URL(location.href);
    url.searchParams.set("parcial", "1");
    refreshing = fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(root.dataset.error);
      return response.text();
    }).then(function (html) {
      root.innerHTML = html;
      root.dataset.refreshed = String(Date.now());
      syncToolbar();
    }).finally(function () { refreshing = null; });
    return refreshing;
  }

  // The toolbar (outside the refreshed board) follows the days shown.
  function syncToolbar() {
    var board = root.querySelector("[data-board]");
    if (!board) return;
    document.querySelectorAll("[data-nav]").forEach(function (link) {
      var url = new URL(link.href);
      url.searchParams.set("fecha", board.dataset[link.dataset.nav]);
      link.href = url.pathname + url.search;
    });
    var range = document.querySelector("[data-agenda-range]");
    if (range) range.textContent = board.dataset.range;
    var anchor = document.querySelector("[data-agenda-anchor]");
    if (anchor) anchor.value = board.dataset.anchor;
  }

  // Show the previous or next week (or day) in place, without leaving the page (a drag goes on).
  function go(edge) {
    var board = root.querySelector("[data-board]");
    if (!board) return Promise.resolve();
    var url = new URL(location.href);
    url.searchParams.set("fecha", board.dataset[edge]);
    history.replaceState(null, "", url);
    return refresh();
  }

  ["appointment_created", "appointment_updated", "availability_updated", "connected"].forEach(function (name) {
    document.addEventListener("crm:" + name, function () { refresh().catch(function () {}); });
  });

  // --- details and actions ---------------------------------------------------------------------
  function fill(dialog, data) {
    dialog.querySelectorAll("[data-f]").forEach(function (el) { el.textContent = data[el.dataset.f] || ""; });
    dialog.querySelectorAll("[data-f-href]").forEach(function (el) { el.href = data[el.dataset.fHref] || "#"; });
    dialog.querySelectorAll("[data-if]").forEach(function (el) { el.hidden = !data[el.dataset.if]; });
    var error = dialog.querySelector("[data-dialog-error]");
    error.hidden = true;
  }

  function dialogError(dialog, message) {
    var error = dialog.querySelector("[data-dialog-error]");
    error.textContent = message;
    error.hidden = false;
  }

  function openAppointment(button) {
    current = button;
    var d = button.dataset;
    fill(apptDialog, {
      lead: d.lead, statusLabel: d.statusLabel, type: d.type, agent: d.agent, place: d.place, notes: d.notes,
      leadUrl: d.leadUrl,
      when: whenFormat.format(new Date(d.start)) + " – " + timeFormat.format(new Date(d.end)),
    });
    apptDialog.querySelector(".badge").className = "badge st-" + d.status;
    var active = d.status === "scheduled" || d.status === "confirmed";
    apptDialog.querySelectorAll("[data-active]").forEach(function (el) { el.hidden = !active; });
    apptDialog.querySelectorAll("[data-when]").forEach(function (el) {
      el.hidden = el.dataset.when === "scheduled" ? d.status !== "scheduled" : !d.started;
    });
    apptDialog.querySelector("[name=start]").value = d.local;
    apptDialog.querySelector("[name=reason]").value = "";
    apptDialog.showModal();
  }

  function act(action, body) {
    return post(actionUrl(current.dataset.appointment, action), body).then(function () {
      apptDialog.close();
      return refresh();
    }).catch(function (error) { dialogError(apptDialog, error.message); });
  }

  apptDialog.addEventListener("click", function (event) {
    var button = event.target.closest("[data-do]");
    if (button) act(button.dataset.do);
    if (event.target.closest("[data-close]")) apptDialog.close();
  });
  apptDialog.querySelectorAll("form[data-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var submit = form.querySelector("[type=submit]");
      delete submit.dataset.confirmed; // the next cancellation asks again
      if (form.dataset.form === "cancelar") act("cancelar", { reason: form.elements.reason.value });
      else act("mover", { start: form.elements.start.value }); // the brokerage's wall-clock time
    });
  });

  // --- booking a free slot ---------------------------------------------------------------------
  var picks = bookDialog.querySelector("[data-lead-results]");
  var search = bookDialog.querySelector("[data-lead-search]");
  var searchTimer = null;

  function openBooking(slot) {
    var form = bookDialog.querySelector("form");
    form.reset();
    form.elements.lead_id.value = "";
    form.elements.start.value = slot.dataset.start;
    picks.innerHTML = "";
    fill(bookDialog, { when: whenFormat.format(new Date(slot.dataset.start)) + " – " +
      timeFormat.format(new Date(slot.dataset.end)) });
    var types = form.elements.appointment_type;
    types.innerHTML = "";
    slot.dataset.types.split("|").forEach(function (pair) {
      var parts = pair.split("=");
      types.add(new Option(parts[1], parts[0]));
    });
    var agents = form.elements.agent_id;
    if (agents) {
      var free = slot.dataset.agents.split(",");
      Array.prototype.forEach.call(agents.options, function (option) {
        option.hidden = option.value !== "" && free.indexOf(option.value) === -1;
      });
    }
    bookDialog.showModal();
    search.focus();
  }

  search.addEventListener("input", function () {
    clearTimeout(searchTimer);
    bookDialog.querySelector("form").elements.lead_id.value = "";
    searchTimer = setTimeout(function () {
      var url = new URL(root.dataset.searchUrl, location.href);
      url.searchParams.set("q", search.value);
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
        picks.innerHTML = "";
        data.results.forEach(function (lead) {
          var item = document.createElement("li");
          var pick = document.createElement("button");
          pick.type = "button";
          pick.setAttribute("role", "option");
          pick.textContent = lead.name;
          pick.addEventListener("click", function () {
            bookDialog.querySelector("form").elements.lead_id.value = lead.id;
            search.value = lead.name;
            picks.innerHTML = "";
          });
          item.appendChild(pick);
          picks.appendChild(item);
        });
      });
    }, 200);
  });

  bookDialog.querySelector("form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var body = { lead_id: form.elements.lead_id.value, start: form.elements.start.value,
                 appointment_type: form.elements.appointment_type.value };
    if (form.elements.agent_id) body.agent_id = form.elements.agent_id.value;
    post(root.dataset.bookUrl, body).then(function () {
      bookDialog.close();
      return refresh();
    }).catch(function (error) { dialogError(bookDialog, error.message); });
  });
  bookDialog.addEventListener("click", function (event) {
    if (event.target.closest("[data-close]")) bookDialog.close();
  });

  // --- clicks and drags on the board ----------------------------------------------------------
  root.addEventListener("click", function (event) {
    var appointment = event.target.closest("[data-appointment]");
    if (appointment) return openAppointment(appointment);
    var slot = event.target.closest("[data-free]");
    if (slot) openBooking(slot);
  });

  function endDrag() {
    if (dragged) dragged.classList.remove("is-dragging");
    root.classList.remove("is-dragging");
    document.body.classList.remove("is-dragging-appt");
    root.querySelectorAll(".agenda-cell.is-over").forEach(function (c) { c.classList.remove("is-over"); });
    dragged = null;
    clearTimeout(edgeTimer);
    edgeTimer = null;
  }

  root.addEventListener("dragstart", function (event) {
    var block = event.target.closest("[data-appointment]");
    if (!block) return;
    dragged = block;
    block.classList.add("is-dragging");
    root.classList.add("is-dragging");
    document.body.classList.add("is-dragging-appt");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", block.dataset.appointment);
    // Showing another week replaces the board, this block included: its own dragend still ends the drag.
    block.addEventListener("dragend", endDrag, { once: true });
  });
  root.addEventListener("dragend", endDrag);

  // Held over an edge for a moment, the drag shows the next (or previous) week; held on, the one after.
  var edgeTimer = null;
  document.querySelectorAll("[data-edge]").forEach(function (edge) {
    edge.addEventListener("dragover", function (event) {
      if (!dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      edge.classList.add("is-over");
      if (edgeTimer) return;
      edgeTimer = setTimeout(function () {
        go(edge.dataset.edge).catch(function () {}).finally(function () { edgeTimer = null; });
      }, 700);
    });
    edge.addEventListener("dragleave", function () {
      edge.classList.remove("is-over");
      clearTimeout(edgeTimer);
      edgeTimer = null;
    });
    edge.addEventListener("drop", function (event) {
      event.preventDefault();  // not a time: nothing to move
      edge.classList.remove("is-over");
    });
  });

  // While dragging, everything on the board lets drops through to the cell beneath the pointer.
  function cellAt(event) {
    var cell = event.target.closest(".agenda-cell");
    if (cell) return cell;
    var day = event.target.closest(".agenda-day");
    if (!day) return null;
    var cells = day.querySelectorAll(".agenda-cell");
    var y = event.clientY;
    return Array.prototype.find.call(cells, function (c) {
      var box = c.getBoundingClientRect();
      return y >= box.top && y < box.bottom;
    }) || null;
  }

  root.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var cell = cellAt(event);
    if (!cell) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    root.querySelectorAll(".agenda-cell.is-over").forEach(function (c) { if (c !== cell) c.classList.remove("is-over"); });
    cell.classList.add("is-over");
  });

  root.addEventListener("drop", function (event) {
    if (!dragged) return;
    var cell = cellAt(event);
    if (!cell) return;
    event.preventDefault();
    var block = dragged;
    endDrag();
    if (new Date(cell.dataset.start).getTime() === new Date(block.dataset.start).getTime()) return;
    say("");
    block.setAttribute("aria-busy", "true");
    post(actionUrl(block.dataset.appointment, "mover"), { start: cell.dataset.start }).then(function () {
      say(root.dataset.moved, "ok");
      return refresh();
    }).catch(function (error) {
      block.removeAttribute("aria-busy");
      block.classList.add("is-refused");
      setTimeout(function () { block.classList.remove("is-refused"); }, 1200);
      say(error.message, "error");
    });
  });
})();
