// Confirmation before a lifecycle action its user cannot undo (transmit, hand back, finalise,
// archive). The form carries an empty « confirmation »: without JavaScript it posts so, and
// the server answers with a confirmation page saying what will happen. With it, a native
// <dialog> says the same thing first: Cancel has the focus, Escape cancels, the focus goes
// back to the button; Confirm sets « confirmation » and submits the form. A dialog whose
// checks fail offers no Confirm (its preview says why and links to the list).
(function () {
  "use strict";
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    const dialog = document.getElementById(form.dataset.confirm);
    const confirmed = form.querySelector("input[name=confirmation]");
    if (!dialog || !confirmed || typeof dialog.showModal !== "function") continue;
    confirmed.value = "";
    let opener = null;
    // the browser checks the form's other fields (a hand-back's reason) before this runs
    form.addEventListener("submit", function (event) {
      if (confirmed.value === "1") return;
      event.preventDefault();
      opener = event.submitter || form.querySelector("button[type=submit]");
      dialog.returnValue = "";
      dialog.showModal();
    });
    const yes = dialog.querySelector("[data-confirm-yes]");
    if (yes) {
      yes.addEventListener("click", function () {
        confirmed.value = "1";
        dialog.close("confirm");
        form.submit();
      });
    }
    dialog.querySelector("[data-confirm-no]").addEventListener("click", function () {
      dialog.close("cancel");
    });
    dialog.addEventListener("close", function () {
      if (dialog.returnValue !== "confirm" && opener) opener.focus();
    });
    // back to this page from the browser's cache: ask again
    window.addEventListener("pageshow", function () {
      confirmed.value = "";
    });
  }
})();
