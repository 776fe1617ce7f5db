// "Historique des valeurs": once a cell has been focused or clicked, the link names it and
// opens that cell's history (who changed it, when, from which source).
(function () {
  "use strict";
  const link = document.getElementById("cell-history");
  const sheet = document.getElementById("sheet");
  if (!link || !sheet) return;
  const base = link.dataset.base;
  function follow(event) {
    // a read-only sheet's inputs are disabled and let clicks through to their cell (sheet.css)
    // a table's cell: the history of its table (its rows are saved as one value)
    const cell = event.target.closest("[data-n], [data-h], td[id]");
    if (!cell) return;
    const name = cell.dataset.n || cell.dataset.h || cell.id;
    link.href = base + "?champ=" + encodeURIComponent(name);
    link.textContent = (cell.dataset.h && !cell.dataset.n ? "Historique du tableau " : "Historique de la cellule ") + name;
  }
  sheet.addEventListener("focusin", follow);
  sheet.addEventListener("click", follow);
})();
