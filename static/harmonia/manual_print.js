/* The « Imprimer » button of the manual's printable version (no inline handler: CSP). */
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
