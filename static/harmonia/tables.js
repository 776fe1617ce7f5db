// A table wider than the page scrolls inside its own frame (app.css). A keyboard user must be
// able to scroll it too: while it overflows, the table takes the focus (RGAA 7.3, axe's
// scrollable-region-focusable) and says so; when it fits again, it leaves the tab order.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll("main table:not(.sheet)").forEach(function (table) {
      if (table.closest(".fr-table")) return;
      var overflows = table.scrollWidth > table.clientWidth + 1;
      if (overflows && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
        table.dataset.scrollFrame = "";
      } else if (!overflows && table.dataset.scrollFrame !== undefined) {
        table.removeAttribute("tabindex");
        delete table.dataset.scrollFrame;
      }
    });
  }
  var pending;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(mark, 150);
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mark);
  else mark();
})();
