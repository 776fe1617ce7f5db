// A block copied from Excel (lines of tab-separated cells) pasted in an input cell of the
// sheet: the clipboard's text and the cell's field go to the server as they are, which places
// the block over the sheet's cells, saves the valid values in one request and answers with
// them, the computed cells that changed and a report of what was not pasted (computed or
// read-only cells, refused values, cells a colleague changed since the page was drawn — they
// keep the colleague's value —, what lies beyond the sheet). The report is shown above the
// grid, in a live region (announced), and each refused cell points to its line of the report.
// A single value pastes as usual (typed in the cell, saved when the cell is left).
// The multivalued tables' cells have their own paste (dossier_tables.js).
(function () {
  "use strict";
  const wrap = document.getElementById("sheet");
  if (!wrap || !wrap.sheet || !wrap.dataset.pasteUrl) return; // read-only, or dossier.js not run
  const api = wrap.sheet;
  const url = wrap.dataset.pasteUrl;
  const report = document.getElementById("paste-report");
  const marked = new Set(); // cells marked by the last paste's refusals
  let reportCount = 0;

  function cellOf(name) {
    return wrap.querySelector('td.i [data-n="' + CSS.escape(name) + '"]:not([data-tb])');
  }

  function unmark(el) {
    const ids = (el.getAttribute("aria-describedby") || "").split(/\s+/)
      .filter((id) => id && !id.startsWith("paste-line-"));
    if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
    else el.removeAttribute("aria-describedby");
    if (!el.closest("td").classList.contains("invalid")) el.removeAttribute("aria-invalid");
    el.closest("td").classList.remove("pasted-refused");
    marked.delete(el);
  }

  // lines: [{text, field}]; returns the id of each field's line
  function show(summary, lines, isError) {
    report.textContent = "";
    report.className = "paste-report" + (isError ? " paste-report--error" : lines.length ? " paste-report--warning" : "");
    const title = document.createElement("p");
    title.className = "paste-report__title";
    title.textContent = summary;
    report.appendChild(title);
    const ids = {};
    if (lines.length) {
      const list = document.createElement("ul");
      for (const line of lines) {
        const item = document.createElement("li");
        item.id = "paste-line-" + ++reportCount;
        item.textContent = line.text;
        list.appendChild(item);
        if (line.field) ids[line.field] = item.id;
      }
      report.appendChild(list);
    }
    const close = document.createElement("button");
    close.type = "button";
    close.className = "fr-btn fr-btn--sm fr-btn--tertiary-no-outline";
    close.textContent = "Masquer ce compte rendu";
    close.addEventListener("click", function () {
      for (const el of Array.from(marked)) unmark(el);
      report.textContent = "";
      report.className = "paste-report";
    });
    report.appendChild(close);
    return ids;
  }

  // what each input cell of the sheet shows as stored: a cell a colleague changed since is
  // not pasted over (the server answers with its value now)
  function seenOnScreen() {
    const seen = {};
    for (const el of wrap.querySelectorAll("td.i [data-n][data-seen]")) {
      if (!el.dataset.tb) seen[el.dataset.n] = JSON.parse(el.dataset.seen);
    }
    return seen;
  }

  async function send(el, text) {
    let response, data;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": api.csrf },
        body: JSON.stringify({ cell: el.dataset.n, text: text, revision: api.revision(), seen: seenOnScreen() }),
        credentials: "same-origin",
      });
    } catch (err) {
      return { error: "Collage impossible (connexion interrompue) : réessayez." };
    }
    try {
      data = await response.json();
    } catch (err) {
      data = {};
    }
    if (!response.ok) return { error: data.message || "Collage impossible : réessayez." };
    return data;
  }

  async function pasteBlock(el, text) {
    for (const other of Array.from(marked)) unmark(other);
    el.classList.add("saving");
    const data = await send(el, text);
    el.classList.remove("saving");
    api.say("");
    if (data.error) {
      show("Rien n'a été collé : " + data.error, [], true);
      return;
    }
    for (const [name, saved] of Object.entries(data.saved || {})) {
      const cell = cellOf(name);
      if (!cell) continue;
      const before = JSON.parse(cell.dataset.seen);
      if (cell.required) api.countRequired(api.isEmpty(before), api.isEmpty(saved.seen));
      cell.dataset.seen = JSON.stringify(saved.seen);
      cell.value = saved.display;
      api.clearInvalid(cell);
      api.flash(cell.closest("td"));
    }
    for (const [name, current] of Object.entries(data.current || {})) {
      const cell = cellOf(name);
      if (!cell) continue;
      cell.value = current.display; // the colleague's value, kept
      cell.dataset.seen = JSON.stringify(current.seen);
      api.flash(cell.closest("td"));
    }
    const count = api.refresh(data);
    const lines = (data.report || []).slice();
    if (data.others) {
      lines.push({ text: "D'autres modifications ont été faites en même temps : rechargez la page pour les voir." });
    }
    const summary = data.message + (count ? " " + count + " cellule(s) calculée(s) mise(s) à jour." : "");
    const ids = show(summary, lines, false);
    // each refused cell is described by its line of the report
    for (const [name, id] of Object.entries(ids)) {
      const cell = cellOf(name);
      if (!cell) continue;
      const described = (cell.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
      cell.setAttribute("aria-describedby", described.concat(id).join(" "));
      cell.setAttribute("aria-invalid", "true");
      cell.closest("td").classList.add("pasted-refused");
      marked.add(cell);
    }
  }

  wrap.addEventListener("paste", function (event) {
    const el = event.target;
    if (!el.matches("td.i input") || el.dataset.tb || el.disabled || !event.clipboardData) return;
    const text = event.clipboardData.getData("text/plain");
    // one value (Excel ends even a single cell with a line break): pasted as typed
    if (!text || !/[\t\r\n]/.test(text.replace(/(\r\n|\r|\n)$/, ""))) return;
    event.preventDefault();
    api.enqueue(function () {
      return pasteBlock(el, text);
    }, null);
  });

  // a refused cell typed again: its mark goes with the new entry (dossier.js saves it)
  wrap.addEventListener("input", function (event) {
    if (marked.has(event.target)) unmark(event.target);
  });
})();
