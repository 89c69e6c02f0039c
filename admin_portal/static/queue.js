/*
 * The review queue's 全选本页 (issue 11, lists slice): a header checkbox carrying data-select-all="NAME" ticks or
 * clears every checkbox named NAME in its form, shows "mixed" when only some are ticked, and announces the count in
 * the form's [data-selected-count]. A native checkbox, so Space toggles it from the keyboard. No inline script.
 */
(function () {
  "use strict";

  function boxes(all) {
    return Array.prototype.slice.call(all.form.querySelectorAll('input[type=checkbox][name="' + all.dataset.selectAll + '"]'));
  }

  function refresh(all) {
    var items = boxes(all);
    var ticked = items.filter(function (box) { return box.checked; }).length;
    all.checked = items.length > 0 && ticked === items.length;
    all.indeterminate = ticked > 0 && ticked < items.length;
    var counter = all.form.querySelector("[data-selected-count]");
    if (counter) counter.textContent = ticked ? "已选 " + ticked + " 条" : "";
  }

  function init() {
    document.querySelectorAll("input[data-select-all]").forEach(function (all) {
      if (!all.form) return;
      all.addEventListener("change", function () {
        boxes(all).forEach(function (box) { box.checked = all.checked; });
        refresh(all);
      });
      all.form.addEventListener("change", function (event) {
        if (event.target !== all && event.target.name === all.dataset.selectAll) refresh(all);
      });
      refresh(all);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
