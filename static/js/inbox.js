// Corredora CRM — the live inbox. app.js turns WebSocket events into "crm:<event>" DOM events;
// here they move the conversation list and fill the open chat without reloading the page.
(function () {
  "use strict";

  var list = document.getElementById("conversation-list");
  if (!list) return;
  var chat = document.getElementById("chat");
  var log = document.getElementById("chat-log");
  var empty = document.getElementById("inbox-empty");
  var statusLabels = JSON.parse(document.getElementById("message-status-labels").textContent);
  var clock = new Intl.DateTimeFormat("es-CL", {
    timeZone: "America/Santiago", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  var PREVIEW_LENGTH = 90;
  var loading = Promise.resolve(); // chat fetches run one after another: no bubble twice, none skipped

  function on(event, handler) {
    document.addEventListener("crm:" + event, function (e) { handler(e.detail.data, e.detail.ts); });
  }

  function openId() { return chat ? Number(chat.dataset.conversationId) : null; }

  function rowOf(id) { return list.querySelector('[data-conversation-id="' + id + '"]'); }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function fetchHtml(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.status === 200 ? response.text() : "";
    });
  }

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content;
  }

  // --- conversation list ----------------------------------------------------------------
  function preview(text) {
    if (!text) return "—";
    return text.length > PREVIEW_LENGTH ? text.slice(0, PREVIEW_LENGTH - 1) + "…" : text;
  }

  function touchRow(row, data, ts) {
    row.querySelector(".conv-preview").textContent = preview(data.text);
    var time = row.querySelector(".conv-time");
    time.dateTime = ts;
    time.textContent = clock.format(new Date(ts));
    if (data.sender === "lead" && data.conversation_id !== openId()) {
      var unread = row.querySelector(".unread-count");
      var count = unread.querySelector(".count");
      count.textContent = Number(count.textContent) + 1;
      unread.hidden = false;
      row.classList.add("is-unread");
    }
    list.prepend(row);
  }

  // One fetch per `key` at a time: asked again while it is on its way (the assistant's reply right
  // after the lead's message), it fetches once more afterwards, so the page never keeps a rendering
  // older than the last event (and responses cannot overtake each other).
  var fetching = {}; // key → "once" | "again"

  function fetchLatest(key, url, apply) {
    if (fetching[key]) { fetching[key] = "again"; return; }
    fetching[key] = "once";
    fetchHtml(url).then(apply).catch(function () {}).then(function () {
      var again = fetching[key] === "again";
      delete fetching[key];
      if (again) fetchLatest(key, url, apply);
    });
  }

  // A conversation this page does not show yet: the server renders its row if it matches the filters
  // and the user may see it (204 otherwise). Only the first page takes new rows.
  function insertRow(id) {
    if (list.dataset.liveInsert !== "true") return;
    fetchLatest("row-" + id, list.dataset.rowUrl.replace("/0/", "/" + id + "/") + location.search, function (html) {
      if (!html) return;
      var shown = rowOf(id);
      if (shown) shown.replaceWith(fragment(html)); else list.prepend(fragment(html));
      empty.hidden = true;
    });
  }

  // --- open chat --------------------------------------------------------------------------
  function scrollToEnd() { log.scrollTop = log.scrollHeight; }

  function lastMessageId() {
    var bubbles = log.querySelectorAll("[data-message-id]");
    return bubbles.length ? bubbles[bubbles.length - 1].dataset.messageId : 0;
  }

  function loadNewMessages() {
    loading = loading.then(function () {
      return fetchHtml(chat.dataset.messagesUrl + "?after=" + lastMessageId()).then(function (html) {
        fragment(html).querySelectorAll("[data-message-id]").forEach(function (bubble) {
          if (!log.querySelector('[data-message-id="' + bubble.dataset.messageId + '"]')) log.appendChild(bubble);
        });
        scrollToEnd();
      });
    }).catch(function () {});
  }

  // Every bubble again, with the statuses of now (after the page loaded or the socket reconnected).
  function syncChat() {
    loading = loading.then(function () {
      return fetchHtml(chat.dataset.messagesUrl).then(function (html) {
        if (!html) return;
        log.replaceChildren(fragment(html));
        scrollToEnd();
      });
    }).catch(function () {});
  }

  function markRead() {
    fetch(chat.dataset.readUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } });
  }

  function applyStatus(data) {
    var status = document.querySelector('[data-message-id="' + data.message_id + '"] .msg-status');
    if (!status) return;
    status.dataset.status = data.status;
    status.textContent = statusLabels[data.status] || data.status;
  }

  // --- events -----------------------------------------------------------------------------
  // --- "el asistente está escribiendo…" -----------------------------------------------------
  var typing = document.getElementById("chat-typing");
  var TYPING_GIVES_UP_MS = 30000; // a turn that fails sends no reply event: do not type forever
  var typingTimer = null;

  function showTyping(shown) {
    if (!typing) return;
    typing.hidden = !shown;
    clearTimeout(typingTimer);
    if (shown) typingTimer = setTimeout(function () { typing.hidden = true; }, TYPING_GIVES_UP_MS);
  }

  function onMessage(data, ts) {
    if (data.conversation_id === openId() && data.sender !== "lead") showTyping(false);
    var row = rowOf(data.conversation_id);
    if (row) touchRow(row, data, ts); else insertRow(data.conversation_id);
    if (data.conversation_id !== openId()) return;
    loadNewMessages();
    if (data.sender === "lead") markRead();
  }

  if (chat) document.addEventListener("crm:connected", syncChat);
  on("new_message", onMessage);
  on("ai_response", onMessage);
  on("typing", function (data) { if (data.conversation_id === openId()) showTyping(true); });

  // A receipt may overtake the bubble it belongs to: apply it once pending fetches are done.
  on("message_status", function (data) { loading.then(function () { applyStatus(data); }); });

  // --- the tabs' badges ---------------------------------------------------------------------
  // What did not go out (and, for an ADMIN, what failed) is counted again when a reply goes out, lands
  // in the outbox or fails, and after a reconnect. Only the badges change: the current tab stays.
  var tabs = document.querySelector("[data-tabs-url]");
  var COUNTED_STATUSES = ["sent", "outbox", "needs_template", "failed"];

  function refreshTabs() {
    fetchLatest("tabs", tabs.dataset.tabsUrl, function (html) {
      if (!html) return;
      fragment(html).querySelectorAll("a[href]").forEach(function (fresh) {
        var shown = tabs.querySelector('a[href="' + fresh.getAttribute("href") + '"]');
        if (shown) shown.innerHTML = fresh.innerHTML;
      });
    });
  }

  if (tabs) {
    document.addEventListener("crm:connected", refreshTabs);
    on("message_status", function (data) {
      if (COUNTED_STATUSES.indexOf(data.status) === -1) return;
      // A reply going out lowers a count only when one is shown (one leaving the outbox or retried):
      // every ordinary reply would otherwise have every open inbox count again.
      if (data.status === "sent" && !tabs.querySelector(".badge")) return;
      refreshTabs();
    });
  }

  on("human_mode_changed", function (data) {
    var row = rowOf(data.conversation_id);
    if (row) row.querySelector(".badge-human").hidden = !data.human_mode;
    if (data.conversation_id !== openId()) return;
    chat.dataset.humanMode = String(data.human_mode);
    var takenBy = chat.querySelector("[data-taken-by]");
    if (takenBy && takenBy.dataset.takenBy !== String(data.by)) takenBy.remove();
  });

  // The lead's data beside the chat follows what the assistant learns and what agents change.
  function refreshLead(data) {
    if (!chat || String(data.lead_id) !== chat.dataset.leadId) return;
    fetchLatest("lead", chat.dataset.leadUrl, function (html) {
      var panel = document.querySelector(".lead-panel");
      if (html && panel) panel.replaceWith(fragment(html));
    });
  }

  on("lead_updated", refreshLead);
  on("stage_changed", refreshLead);

  // --- chat controls ----------------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-open-dialog]");
    if (opener) document.getElementById(opener.dataset.openDialog).showModal();
  });

  if (chat) {
    scrollToEnd();
    var reply = chat.querySelector(".chat-reply textarea");
    reply.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && reply.value.trim()) {
        event.preventDefault();
        reply.form.requestSubmit();
      }
    });
    if (chat.dataset.humanMode === "true") reply.focus();
  }
})();
