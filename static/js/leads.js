// Corredora CRM — the lead list: select rows for bulk assignment (the button asks to confirm, app.js).
(function () {
  "use strict";

  var bar = document.querySelector("[data-bulk]");
  if (!bar) return;
  var form = bar.closest("form");
  var all = form.querySelector("[data-select-all]");
  var submit = bar.querySelector("[data-bulk-submit]");
  var count = bar.querySelector("[data-bulk-count]");
  var prompt = count.textContent;
  var boxes = form.querySelectorAll('input[name="leads"]');

  function update() {
    var checked = form.querySelectorAll('input[name="leads"]:checked').length;
    submit.disabled = checked === 0;
    all.checked = checked === boxes.length;
    all.indeterminate = checked > 0 && checked < boxes.length;
    count.textContent = checked ? checked + " " + (checked === 1 ? bar.dataset.one : bar.dataset.many) : prompt;
    form.classList.toggle("has-selection", checked > 0);
  }

  all.addEventListener("change", function () {
    boxes.forEach(function (box) { box.checked = all.checked; });
    update();
  });
  boxes.forEach(function (box) { box.addEventListener("change", update); });
  update();
})();
