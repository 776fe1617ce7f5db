// Online form: save a cell when it changes, refresh the computed cells the server returns,
// move like a spreadsheet (Enter, arrows, Tab). No framework: one small script.
// A refused entry stays in its cell as typed, marked invalid with its message beside it, and
// is never reported as saved; leaving the page while one is on screen (or a save is under
// way) asks for confirmation.
(function () {
  "use strict";
  const wrap = document.getElementById("sheet");
  if (!wrap) return;

  // a link to a cell (#NAME, from the verification page or the refusal of « Valider ») puts
  // the cursor in that cell, scrolled into the middle of the grid's frame; on a read-only
  // sheet the cell itself takes the focus. After the load, because the browser's own scroll
  // to the fragment would take the focus away.
  function focusTarget() {
    if (!location.hash) return;
    let name;
    try {
      name = decodeURIComponent(location.hash.slice(1));
    } catch (err) {
      return;
    }
    const cell = document.getElementById(name);
    if (!cell || !wrap.contains(cell)) return;
    const control = cell.querySelector("input, select");
    let target = control && !control.disabled ? control : null;
    if (!target) {
      cell.setAttribute("tabindex", "-1");
      target = cell;
    }
    target.focus({ preventScroll: true });
    cell.scrollIntoView({ block: "center", inline: "center" });
  }
  if (document.readyState === "complete") setTimeout(focusTarget, 0);
  else window.addEventListener("load", function () { setTimeout(focusTarget, 0); });
  window.addEventListener("hashchange", focusTarget);

  if (!wrap.dataset.editable) return; // read-only: nothing is saved from this page
  const url = wrap.dataset.saveUrl;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const status = document.getElementById("status");
  let revision = parseInt(wrap.dataset.revision, 10);
  const fieldsSelector = "td.i input, td.i select";

  const formats = {
    amount: /^[\s\u00a0\u202f]*[-+\u2212(]?[\d\s\u00a0\u202f.]*(,\d*)?\)?[\s\u00a0\u202f€]*$/,
    integer: /^[\s\u00a0\u202f]*[-+\u2212]?[\d\s\u00a0\u202f]*$/,
    percentage: /^[\s\u00a0\u202f]*[-+\u2212]?[\d\s\u00a0\u202f]*([.,]\d*)?[\s\u00a0\u202f]*%?[\s\u00a0\u202f]*$/,
    date: /^\s*(\d{1,2}[/.-]\d{1,2}[/.-](\d{2}|\d{4})|\d{4}-\d{2}-\d{2})?\s*$/,
  };
  const hints = {
    amount: "Montant attendu (ex. 1 234 567,89).",
    integer: "Nombre entier attendu (ex. 1 250).",
    percentage: "Pourcentage attendu (ex. 12,5 %).",
    date: "Date attendue au format jj/mm/aaaa.",
  };

  // cells whose entry on screen is not the stored value (refused, or the save failed)
  const unsaved = new Set();
  let pending = 0; // saves queued or under way
  // one save at a time, so that each carries the revision and stored value the previous returned
  let queue = Promise.resolve();
  let messageCount = 0;

  function say(message, isError) {
    status.textContent = message || "";
    status.className = isError ? "error" : "";
  }

  function unsavedNote() {
    const n = unsaved.size;
    if (!n) return "";
    return n === 1
      ? " Une saisie refusée n'est pas enregistrée : corrigez la cellule signalée."
      : " " + n + " saisies refusées ne sont pas enregistrées : corrigez les cellules signalées.";
  }

  function describedBy(el) {
    return (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
  }

  // the mark: aria-invalid, a style, and the message beside the cell, tied by aria-describedby
  function markInvalid(el, message, entryKept) {
    const cell = el.closest("td");
    let note = cell.querySelector(".cell-message");
    if (!note) {
      note = document.createElement("span");
      note.className = "cell-message";
      note.id = "cell-message-" + ++messageCount;
      cell.appendChild(note);
      el.setAttribute("aria-describedby", describedBy(el).concat(note.id).join(" "));
    }
    note.textContent = message;
    cell.classList.add("invalid");
    el.setAttribute("aria-invalid", "true");
    if (entryKept) unsaved.add(el);
    else unsaved.delete(el);
    say((entryKept ? "Non enregistré : " : "") + message, true);
  }

  function clearInvalid(el) {
    const cell = el.closest("td");
    const note = cell.querySelector(".cell-message");
    if (note) {
      const ids = describedBy(el).filter((id) => id !== note.id);
      if (ids.length) el.setAttribute("aria-describedby", ids.join(" "));
      else el.removeAttribute("aria-describedby");
      note.remove();
    }
    cell.classList.remove("invalid");
    el.removeAttribute("aria-invalid");
    unsaved.delete(el);
  }

  // the counts of required fields left empty (this sheet's tab, the dossier's gauge) follow
  // the saves; the blocking controls are counted again on the next page load
  function isEmpty(value) {
    return value === null || value === undefined || value === "";
  }
  function plural(n, word) {
    return n + " " + word + (n > 1 ? "s" : "");
  }
  function countRequired(wasEmpty, nowEmpty) {
    if (wasEmpty === nowEmpty) return;
    const delta = wasEmpty ? 1 : -1; // one more (or one less) filled
    const gauge = document.querySelector(".dossier-progress [data-testid=completion]");
    if (gauge && gauge.dataset.total) {
      const total = parseInt(gauge.dataset.total, 10);
      const filled = Math.max(0, Math.min(total, parseInt(gauge.dataset.filled, 10) + delta));
      const percent = total ? Math.floor((filled * 100) / total) : 100;
      gauge.dataset.filled = filled;
      const shownFilled = gauge.querySelector("[data-completion=filled]");
      const shownPercent = gauge.querySelector("[data-completion=percent]");
      const bar = gauge.querySelector("progress");
      if (shownFilled) shownFilled.textContent = filled;
      if (shownPercent) shownPercent.textContent = percent;
      if (bar) { bar.value = filled; bar.textContent = percent + " %"; }
    }
    const tab = document.querySelector("[data-testid=sheet-tabs] a[aria-current=page]");
    const count = tab && tab.querySelector("[data-count=required]");
    if (tab && count) {
      const left = Math.max(0, parseInt(tab.dataset.requiredEmpty, 10) - delta);
      tab.dataset.requiredEmpty = left;
      count.hidden = left === 0;
      count.textContent = " · " + plural(left, "obligatoire");
      const spoken = document.createElement("span");
      spoken.className = "fr-sr-only";
      spoken.textContent = " " + (left > 1 ? "vides" : "vide");
      count.appendChild(spoken);
    }
  }

  function flash(el) {
    el.classList.remove("updated");
    void el.offsetWidth;
    el.classList.add("updated");
  }

  function schedule(el) {
    pending++;
    queue = queue
      .then(() => save(el))
      .catch(() => markInvalid(el, "Enregistrement impossible : réessayez.", true))
      .finally(() => pending--);
  }

  async function save(el) {
    const name = el.dataset.n;
    const type = el.dataset.t;
    const value = el.value;
    if (type && formats[type] && !formats[type].test(value)) {
      markInvalid(el, hints[type], true);
      return;
    }
    const seen = JSON.parse(el.dataset.seen);
    el.classList.add("saving");
    let response, data;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ entries: { [name]: value }, seen: { [name]: seen }, revision: revision }),
        credentials: "same-origin",
      });
    } catch (err) {
      el.classList.remove("saving");
      markInvalid(el, "Enregistrement impossible (connexion interrompue) : réessayez.", true);
      return;
    }
    try {
      data = await response.json();
    } catch (err) {
      data = {}; // not JSON (a server error page): reported as a failed save below
    }
    el.classList.remove("saving");
    // typed again while this save ran: that newer entry is checked when the cell is left
    const stillShown = el.value === value;
    if (!response.ok) {
      if (!stillShown) return;
      const message =
        (data.errors && data.errors[name]) || data.message || "Enregistrement impossible : réessayez.";
      const current = data.current && data.current[name];
      if (current) {
        // a conflict: the colleague's value replaces the entry, which was not saved
        el.value = current.display;
        el.dataset.seen = JSON.stringify(current.seen);
        markInvalid(el, message, false);
      } else {
        markInvalid(el, message, true); // refused: the entry stays as typed, to be corrected
      }
      return;
    }
    const saved = data.saved[name];
    if (saved) {
      if (el.required) countRequired(isEmpty(seen), isEmpty(saved.seen));
      el.dataset.seen = JSON.stringify(saved.seen); // what is stored now, shown or not
      if (stillShown) el.value = saved.display;
    }
    if (stillShown) clearInvalid(el);
    const count = refresh(data);
    say(
      "Enregistré." + (count ? " " + count + " cellule(s) calculée(s) mise(s) à jour." : "") +
        (data.others ? " D'autres modifications ont été faites en même temps : rechargez la page pour les voir." : "") +
        unsavedNote(),
      unsaved.size > 0
    );
  }

  // what a save changed beyond the saved cells: computed cells (by name), the calculated
  // columns of multivalued tables (by table, row and column), the step; returns how many
  // cells were refreshed
  function refresh(data) {
    let count = 0;
    for (const [other, display] of Object.entries(data.computed || {})) {
      for (const cell of wrap.querySelectorAll('td.c[data-n="' + CSS.escape(other) + '"]')) {
        cell.textContent = display;
        flash(cell);
        count++;
      }
    }
    for (const [table, rows] of Object.entries(data.tables || {})) {
      const drawn = wrap.querySelectorAll('tr[data-tb="' + CSS.escape(table) + '"]:not([data-tool]):not([data-blank])');
      rows.forEach(function (row, index) {
        const tr = drawn[index];
        if (!tr) return;
        for (const [field, display] of Object.entries(row)) {
          const cell = tr.querySelector('td.c[data-f="' + CSS.escape(field) + '"]');
          if (cell && cell.textContent !== display) {
            cell.textContent = display;
            flash(cell);
            count++;
          }
        }
      });
    }
    if (data.revision !== undefined) revision = data.revision;
    const step = document.querySelector("[data-testid=step]");
    if (step && data.step) step.textContent = data.step;
    const stepper = document.querySelector("[data-testid=stepper]");
    if (stepper && data.stepper) stepper.outerHTML = data.stepper;
    return count;
  }

  // the multivalued tables' script (dossier_tables.js) and the paste of a block copied from
  // Excel (dossier_paste.js) save through the same queue
  wrap.sheet = {
    enqueue: function (task, el) {
      pending++;
      const run = queue.then(task);
      queue = run
        .catch(function () {
          if (el) markInvalid(el, "Enregistrement impossible : réessayez.", true);
          else say("Enregistrement impossible : réessayez.", true);
        })
        .finally(() => pending--);
      return run;
    },
    check: function (el) {
      const type = el.dataset.t;
      return type && formats[type] && !formats[type].test(el.value) ? hints[type] : null;
    },
    csrf: csrf,
    say: say,
    markInvalid: markInvalid,
    clearInvalid: clearInvalid,
    flash: flash,
    refresh: refresh,
    unsavedNote: unsavedNote,
    hasUnsaved: function () { return unsaved.size > 0; },
    revision: function () { return revision; },
    countRequired: countRequired,
    isEmpty: isEmpty,
    forget: function (el) { unsaved.delete(el); }, // a cell no longer on the page
  };

  // closing the page or following a link would lose an entry that is not stored
  window.addEventListener("beforeunload", function (event) {
    if (!unsaved.size && !pending) return;
    event.preventDefault();
    event.returnValue = ""; // Chromium shows its own text; returnValue is what asks for it
  });

  wrap.addEventListener("change", function (event) {
    // a table's cells are saved by dossier_tables.js
    if (event.target.matches(fieldsSelector) && !event.target.dataset.tb) schedule(event.target);
  });

  // spreadsheet-like moves between input cells
  function fields() {
    return Array.from(wrap.querySelectorAll(fieldsSelector)).filter((el) => !el.disabled);
  }
  function position(el) {
    return { r: parseInt(el.dataset.r, 10), c: parseInt(el.dataset.c, 10) };
  }
  function nearest(from, dr, dc) {
    const p = position(from);
    let best = null, bestScore = Infinity;
    for (const el of fields()) {
      const q = position(el);
      const r = q.r - p.r, c = q.c - p.c;
      if (dr && (Math.sign(r) !== dr)) continue;
      if (dc && (Math.sign(c) !== dc)) continue;
      const score = dr ? Math.abs(r) * 1000 + Math.abs(c) : Math.abs(c) * 1000 + Math.abs(r) * 100000;
      if (score < bestScore) { best = el; bestScore = score; }
    }
    return best;
  }
  wrap.addEventListener("keydown", function (event) {
    const el = event.target;
    if (!el.matches(fieldsSelector)) return;
    if (event.ctrlKey || event.altKey || event.metaKey) return; // a table's row shortcuts
    // a table's cell belongs to the table's form: Enter must not submit it
    if (event.key === "Enter" && el.form) event.preventDefault();
    let target = null;
    const atStart = el.selectionStart === 0 && el.selectionEnd === 0;
    const atEnd = el.value !== undefined && el.selectionStart === el.value.length;
    if (event.key === "Enter" || (event.key === "ArrowDown" && el.tagName !== "SELECT")) {
      target = nearest(el, event.shiftKey && event.key === "Enter" ? -1 : 1, 0);
    } else if (event.key === "ArrowUp" && el.tagName !== "SELECT") {
      target = nearest(el, -1, 0);
    } else if (event.key === "ArrowRight" && (el.tagName === "SELECT" || atEnd)) {
      target = nearest(el, 0, 1);
    } else if (event.key === "ArrowLeft" && (el.tagName === "SELECT" || atStart)) {
      target = nearest(el, 0, -1);
    } else if (event.key === "Escape") {
      el.blur();
      return;
    }
    if (target) {
      event.preventDefault();
      // moving the focus fires "change" on the cell just left, which saves it
      target.focus();
      if (target.select) target.select();
    }
  });
  wrap.addEventListener("focusin", function (event) {
    if (event.target.matches("td.i input")) event.target.select();
  });
})();
