/*
 * Confirm what cannot be undone (issue 11, confirm slice).
 *
 * A POST form (or one of its submit buttons) carrying data-confirm-title is intercepted on submit and asks in a modal
 * <dialog> first. The submit button's own data-confirm-* attributes win over the form's, so one form can have buttons
 * with different consequences. Attributes (written by the Jinja macro templates/macros/confirm.html):
 *
 *   data-confirm-title       the dialog's heading, which also labels it
 *   data-confirm-body        names the object and the consequence; "{count}" is replaced by the count below
 *   data-confirm-ok          the confirming button's label (default 确认)
 *   data-confirm-count-from  a CSS selector; the count is how many of the form's controls match it (e.g. checked boxes)
 *   data-confirm-empty       shown instead of the body when that count is 0, with no confirming button
 *
 * Without JavaScript the form submits directly and the server's rules are unchanged. No inline script or handler:
 * the Content-Security-Policy allows scripts from the portal's own origin only.
 */
(function () {
  "use strict";

  var dialog = null;
  var parts = {};
  var bypass = null; // the form being re-submitted after a confirmation
  var pending = null; // {form, submitter} waiting for an answer

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function build() {
    dialog = el("dialog", "confirm-dialog border-0 rounded-3 shadow p-4");
    dialog.id = "confirm-dialog";
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    dialog.setAttribute("aria-describedby", "confirm-dialog-body");
    dialog.setAttribute("data-testid", "confirm-dialog");
    dialog.style.width = "min(34rem, calc(100vw - 2rem))";
    parts.title = el("h2", "h5 mb-3");
    parts.title.id = "confirm-dialog-title";
    parts.body = el("p", "mb-4");
    parts.body.id = "confirm-dialog-body";
    var buttons = el("div", "d-flex flex-wrap justify-content-end gap-2");
    parts.cancel = el("button", "btn btn-outline-secondary", "取消");
    parts.cancel.type = "button";
    parts.ok = el("button", "btn btn-danger", "确认");
    parts.ok.type = "button";
    buttons.appendChild(parts.cancel);
    buttons.appendChild(parts.ok);
    dialog.appendChild(parts.title);
    dialog.appendChild(parts.body);
    dialog.appendChild(buttons);
    document.body.appendChild(dialog);

    parts.cancel.addEventListener("click", function () {
      dialog.close();
    });
    parts.ok.addEventListener("click", function () {
      var job = pending;
      pending = null;
      dialog.close();
      if (job) resubmit(job.form, job.submitter); // at once, within the click
    });
    // Cancel, Esc (the dialog's "cancel" event) or any other close: nothing is sent; the focus goes back.
    dialog.addEventListener("close", function () {
      var job = pending;
      pending = null;
      if (job && job.submitter && job.submitter.focus) job.submitter.focus();
    });
  }

  function attr(form, submitter, name) {
    if (submitter && submitter.hasAttribute("data-confirm-" + name)) {
      return submitter.getAttribute("data-confirm-" + name);
    }
    return form.getAttribute("data-confirm-" + name);
  }

  function countOf(form, selector) {
    var n = 0;
    for (var i = 0; i < form.elements.length; i += 1) {
      if (form.elements[i].matches(selector)) n += 1;
    }
    return n;
  }

  function resubmit(form, submitter) {
    bypass = form;
    try {
      if (submitter && form.requestSubmit) {
        form.requestSubmit(submitter);
      } else if (form.requestSubmit) {
        form.requestSubmit();
      } else {
        form.submit();
      }
    } finally {
      bypass = null;
    }
  }

  function ask(form, submitter, title) {
    var body = attr(form, submitter, "body") || "";
    var selector = attr(form, submitter, "count-from");
    var empty = false;
    if (selector) {
      var count = countOf(form, selector);
      body = body.split("{count}").join(String(count));
      if (count === 0 && attr(form, submitter, "empty")) {
        body = attr(form, submitter, "empty");
        empty = true;
      }
    }
    if (typeof HTMLDialogElement !== "function") {
      // A browser without <dialog>: the platform's own confirm box, still naming the object and the consequence.
      if (!empty && window.confirm(title + "\n\n" + body)) resubmit(form, submitter);
      if (empty) window.alert(body);
      return;
    }
    if (!dialog) build();
    parts.title.textContent = title;
    parts.body.textContent = body;
    parts.ok.textContent = attr(form, submitter, "ok") || "确认";
    parts.ok.hidden = empty;
    parts.cancel.textContent = empty ? "知道了" : "取消";
    pending = { form: form, submitter: submitter };
    dialog.showModal();
    parts.cancel.focus(); // the safe choice has the focus: Enter or Space alone never confirms
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || form === bypass) return;
      var submitter = event.submitter || null;
      var title = attr(form, submitter, "title");
      if (!title) return;
      event.preventDefault();
      event.stopImmediatePropagation(); // nothing else (htmx) acts on a submission that is not confirmed yet
      ask(form, submitter, title);
    },
    true
  );
})();
