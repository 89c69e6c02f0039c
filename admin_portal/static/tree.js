/*
 * The unit tree of the sidebar (issue 12, templates/macros/tree.html).
 *
 * A toggle (a.tree-toggle, role=button, aria-controls names its <ul>) shows and hides a unit's children. A collapsed
 * unit's first click is htmx's: it loads the children into the <ul> (hx-trigger "click once"); once they arrive the
 * list is shown and aria-expanded becomes true. Later clicks only show or hide. Space works like Enter, as on a
 * button. Without JavaScript the toggle is a plain link to the page with that unit selected. No inline script: the
 * Content-Security-Policy allows scripts from the portal's own origin only.
 */
(function () {
  "use strict";

  function listOf(toggle) {
    return document.getElementById(toggle.getAttribute("aria-controls"));
  }

  function show(toggle, open) {
    var list = listOf(toggle);
    if (list) list.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".unit-tree .tree-toggle");
    if (!toggle || !listOf(toggle)) return;
    event.preventDefault();
    if (toggle.hasAttribute("hx-get") && !toggle.hasAttribute("data-loaded")) return; // htmx is loading it
    show(toggle, toggle.getAttribute("aria-expanded") !== "true");
  });

  document.addEventListener("keydown", function (event) {
    var toggle = event.target.closest && event.target.closest(".unit-tree .tree-toggle");
    if (toggle && (event.key === " " || event.key === "Spacebar")) {
      event.preventDefault();
      toggle.click();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var list = event.detail && event.detail.target;
    if (!list || !list.id || !list.closest(".unit-tree")) return;
    var toggle = document.querySelector('.unit-tree .tree-toggle[aria-controls="' + list.id + '"]');
    if (!toggle) return;
    toggle.setAttribute("data-loaded", "1");
    show(toggle, true);
  });
})();
