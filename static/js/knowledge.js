// Knowledge page: documents being embedded show their progress, polled until they are done.
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.dataset.progressUrl;
  var POLL_MS = 1500;

  function pending() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-progress-of]"), function (cell) {
      return cell.dataset.status === "pending" || cell.dataset.status === "embedding";
    });
  }

  function update(row) {
    var cell = document.querySelector('[data-progress-of="' + row.id + '"]');
    if (!cell) return;
    cell.dataset.status = row.status;
    var label = cell.querySelector("[data-status-label]");
    label.textContent = row.status_label;
    label.className = "kb-status kb-status-" + row.status;
    var bar = cell.querySelector("progress");
    var chunks = cell.querySelector("[data-chunks]");
    if (row.status === "pending" || row.status === "embedding") {
      if (bar) bar.value = row.progress;
      if (chunks) chunks.textContent = row.chunks_done + "/" + row.chunks_total;
    } else {
      if (bar) bar.remove();
      if (chunks) chunks.remove();
    }
  }

  function poll() {
    var cells = pending();
    if (!url || !cells.length) return;
    var ids = cells.map(function (cell) { return cell.dataset.progressOf; }).join(",");
    fetch(url + "?ids=" + ids, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { documents: [] }; })
      .then(function (body) { body.documents.forEach(update); })
      .catch(function () {})
      .then(function () { setTimeout(poll, POLL_MS); });
  }

  setTimeout(poll, POLL_MS);
})();
