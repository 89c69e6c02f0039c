/* Repeated trip rows on the on-site registration form: "添加一行" / "删除此行". Without JavaScript the form still
   works as the fixed set of rows the server rendered; the buttons stay hidden. */
(function () {
  "use strict";

  function renumber(container) {
    container.querySelectorAll("[data-trip-row]").forEach(function (row, index) {
      row.querySelectorAll("[id^='trip-']").forEach(function (el) {
        el.id = el.id.replace(/^trip-\d+-/, "trip-" + index + "-");
      });
      row.querySelectorAll("label[for^='trip-']").forEach(function (el) {
        el.htmlFor = el.htmlFor.replace(/^trip-\d+-/, "trip-" + index + "-");
      });
      row.querySelectorAll("[aria-describedby]").forEach(function (el) {
        el.setAttribute("aria-describedby", el.getAttribute("aria-describedby").replace(/trip-\d+-/g, "trip-" + index + "-"));
      });
      var remove = row.querySelector("[data-remove-trip]");
      if (remove) remove.setAttribute("aria-label", "删除此行（第" + (index + 1) + "行出入境记录）");  // names start with the visible text (WCAG 2.5.3)
    });
  }

  function clear(row) {
    row.querySelectorAll("select, input").forEach(function (el) {
      el.value = "";
      el.classList.remove("is-invalid");
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    row.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
  }

  function setUp(fieldset) {
    var container = fieldset.querySelector("[data-trip-rows]");
    var add = fieldset.querySelector("[data-add-trip]");
    if (!container || !add || fieldset.disabled) return;
    add.hidden = false;
    container.querySelectorAll("[data-remove-trip]").forEach(function (b) { b.hidden = false; });
    renumber(container);

    add.addEventListener("click", function () {
      var rows = container.querySelectorAll("[data-trip-row]");
      var copy = rows[rows.length - 1].cloneNode(true);
      clear(copy);
      container.appendChild(copy);
      renumber(container);
      copy.querySelector("select").focus();
    });

    container.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-trip]");
      if (!button) return;
      var row = button.closest("[data-trip-row]");
      if (container.querySelectorAll("[data-trip-row]").length > 1) {
        row.remove();
        renumber(container);
      } else {
        clear(row);  // the last row empties instead: there is always one to fill in
      }
      add.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("fieldset").forEach(function (fieldset) {
      if (fieldset.querySelector("[data-trip-rows]")) setUp(fieldset);
    });
  });
})();
