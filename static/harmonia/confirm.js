// Confirmation before a lifecycle action its user cannot undo (transmit, hand back, finalise,
// archive). Without JavaScript the form carries a required checkbox saying what will happen;
// with it, that box is hidden and a native <dialog> says the same thing: Cancel has the
// focus, Escape cancels, the focus goes back to the button; Confirm submits the form.
(function () {
  "use strict";
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    const dialog = document.getElementById(form.dataset.confirm);
    const fallback = form.querySelector(".confirm-fallback");
    const box = fallback && fallback.querySelector("input[type=checkbox]");
    if (!dialog || !box || typeof dialog.showModal !== "function") continue;
    fallback.hidden = true;
    box.required = false;
    box.checked = false;
    let opener = null;
    // the browser checks the form's other fields (a hand-back's reason) before this runs
    form.addEventListener("submit", function (event) {
      if (box.checked) return;
      event.preventDefault();
      opener = event.submitter || form.querySelector("button[type=submit]");
      dialog.returnValue = "";
      dialog.showModal();
    });
    dialog.querySelector("[data-confirm-yes]").addEventListener("click", function () {
      box.checked = true;
      dialog.close("confirm");
      form.submit();
    });
    dialog.querySelector("[data-confirm-no]").addEventListener("click", function () {
      dialog.close("cancel");
    });
    dialog.addEventListener("close", function () {
      if (dialog.returnValue !== "confirm" && opener) opener.focus();
    });
    // back to this page from the browser's cache: ask again
    window.addEventListener("pageshow", function () {
      box.checked = false;
    });
  }
})();
