// Multivalued tables of the online form (« tableaux » drawn where they stand in the sheet):
// a cell saves when it is left, as a single cell does; the row buttons and shortcuts (Ctrl+Entrée
// inserts a row below, Ctrl+Maj+Entrée above, Ctrl+Suppr deletes, Alt+↑/↓ moves), « Ajouter
// une ligne » and a paste of lines copied from Excel each send one request to the table's
// endpoint (its form's action, the same the buttons post to without JavaScript). The answer
// redraws the table's rows from the first one the change touched, and the computed cells and
// calculated columns that changed. Saves go through dossier.js's queue (one at a time).
(function () {
  "use strict";
  const wrap = document.getElementById("sheet");
  if (!wrap || !wrap.sheet) return; // read-only, or dossier.js not run
  const api = wrap.sheet;
  document.documentElement.classList.add("tb-js"); // hides the buttons made for no JavaScript
  const status = document.getElementById("status");

  function q(table) {
    return '[data-tb="' + CSS.escape(table) + '"]';
  }
  function toolRow(table) {
    return wrap.querySelector("tr[data-tool]" + q(table));
  }
  function countOf(table) {
    return parseInt(toolRow(table).querySelector(".tb-room").dataset.count, 10);
  }
  function isCell(el) {
    return el && el.dataset && el.dataset.tb && (el.tagName === "INPUT" || el.tagName === "SELECT");
  }
  // the display of what is stored (what the server drew, then what each save returned)
  function savedOf(el) {
    if (el.dataset.saved !== undefined) return el.dataset.saved;
    if (el.tagName === "SELECT") {
      const option = Array.from(el.options).find((o) => o.defaultSelected);
      return option ? option.value : "";
    }
    return el.defaultValue;
  }
  function isDirty(el) {
    return el.value !== savedOf(el);
  }

  function showMessages(messages, isError) {
    status.textContent = "";
    status.className = isError ? "error" : "";
    if (messages.length === 1) {
      status.textContent = messages[0];
      return;
    }
    const list = document.createElement("ul");
    for (const text of messages) {
      const item = document.createElement("li");
      item.textContent = text;
      list.appendChild(item);
    }
    status.appendChild(list);
  }

  async function send(table, body) {
    body.seen_count = countOf(table);
    let response, data;
    try {
      response = await fetch(document.getElementById("tb-" + table).action, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": api.csrf },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (err) {
      return { error: ["Enregistrement impossible (connexion interrompue) : réessayez."] };
    }
    try {
      data = await response.json();
    } catch (err) {
      data = {};
    }
    if (response.status === 409 && data.confirm) return { confirm: data.confirm };
    if (!response.ok) {
      const messages = data.errors ? Object.values(data.errors) : [];
      if (!messages.length) messages.push(data.message || "Enregistrement impossible : réessayez.");
      return { error: messages, errors: data.errors || {} };
    }
    return data;
  }

  // --- drawing the answer ----------------------------------------------------------------
  // row numbers as Excel would show them (the rows below a table move with its row count):
  // the same walk as declarations/grid.py's _plan
  function renumber() {
    let lastSheetRow = 0, last = 0;
    for (const tr of wrap.querySelector("table.sheet").tBodies[0].rows) {
      if (tr.hasAttribute("data-tool")) {
        lastSheetRow = parseInt(tr.dataset.end, 10);
        continue;
      }
      const sheetRow = tr.dataset.sr;
      const number = sheetRow !== undefined ? last + (parseInt(sheetRow, 10) - lastSheetRow) : last + 1;
      if (sheetRow !== undefined) lastSheetRow = parseInt(sheetRow, 10);
      last = number;
      const head = tr.querySelector("th.rowhead");
      if (head && head.textContent !== String(number)) head.textContent = number;
      for (const el of tr.querySelectorAll("[data-r]")) el.dataset.r = number;
    }
  }

  // the table's rows from ``start`` on, and its buttons' row, replaced by the answer's
  function replaceRows(table, start, html) {
    const old = Array.from(wrap.querySelectorAll("tr" + q(table))).filter(
      (tr) => tr.hasAttribute("data-tool") || parseInt(tr.dataset.i, 10) >= start
    );
    const after = old[old.length - 1].nextSibling;
    const parent = old[0].parentNode;
    for (const tr of old) {
      for (const el of tr.querySelectorAll("input, select")) api.forget(el);
      tr.remove();
    }
    const template = document.createElement("template");
    template.innerHTML = html;
    parent.insertBefore(template.content, after);
    renumber();
  }

  function cellAt(table, index, field) {
    const tr = wrap.querySelector("tr" + q(table) + '[data-i="' + index + '"]:not([data-tool])');
    if (!tr) return null;
    return (
      (field && tr.querySelector('[data-f="' + CSS.escape(field) + '"]:is(input, select)')) ||
      tr.querySelector("input, select")
    );
  }

  function place(table, focus) {
    const count = countOf(table);
    const index = Math.max(0, Math.min(focus.index, count - 1));
    const el = cellAt(table, index, focus.field);
    if (el) {
      el.focus();
      if (el.select) el.select();
    }
  }

  function apply(table, data, focus, typed) {
    if (data.start !== null && data.start !== undefined) {
      replaceRows(table, data.start, data.html);
      // what was typed meanwhile in a redrawn row (a blank table's row becoming row 1)
      for (const entry of typed || []) {
        const el = cellAt(table, entry.index, entry.field);
        if (!el || el.dataset.f !== entry.field) continue;
        el.value = entry.value;
        if (entry.focused) el.focus();
        // left meanwhile, or Enter pressed: its save was asked for on the replaced cell
        if ((!entry.focused || entry.asked) && isDirty(el)) commit(el);
      }
    }
    const count = api.refresh(data);
    if (focus) place(table, focus);
    return count;
  }

  // --- a cell ------------------------------------------------------------------------------
  function commit(el) {
    if (el.dataset.sending === el.value) return; // this very entry is already on its way
    el.dataset.sending = el.value;
    api.enqueue(function () {
      return saveCell(el).finally(function () {
        delete el.dataset.sending;
      });
    }, el);
  }

  async function saveCell(el) {
    if (!el.isConnected || !isDirty(el)) return; // redrawn meanwhile, or saved already
    const hint = api.check(el);
    if (hint) {
      api.markInvalid(el, hint, true);
      return;
    }
    const tr = el.closest("tr");
    const table = el.dataset.tb, field = el.dataset.f, value = el.value;
    const blank = tr.hasAttribute("data-blank");
    const body = blank
      ? { action: "insert", index: 0, entries: { [field]: value } }
      : { action: "update", index: parseInt(tr.dataset.i, 10), entries: { [field]: value } };
    el.classList.add("saving");
    const data = await send(table, body);
    el.classList.remove("saving");
    const stillShown = el.value === value;
    if (data.error) {
      if (stillShown) api.markInvalid(el, data.error.join(" "), true);
      return;
    }
    if (stillShown) {
      if (data.cells && field in data.cells) el.value = data.cells[field];
      el.dataset.saved = el.value;
      api.clearInvalid(el);
    } else {
      el.dataset.saved = data.cells && field in data.cells ? data.cells[field] : value;
    }
    // typed meanwhile in the rows the answer redraws: carried over
    const typed = [];
    if (data.start !== null && data.start !== undefined) {
      for (const other of wrap.querySelectorAll("tr" + q(table) + " :is(input, select)")) {
        const index = parseInt(other.closest("tr").dataset.i, 10);
        const focused = other === document.activeElement;
        if (index >= data.start && (focused || (other !== el && isDirty(other)) || (other === el && !stillShown))) {
          typed.push({
            index: index, field: other.dataset.f, value: other.value, focused: focused,
            asked: other.dataset.sending !== undefined,
          });
        }
      }
    }
    const count = apply(table, data, null, typed);
    api.say(
      data.message + (count ? " " + count + " cellule(s) calculée(s) mise(s) à jour." : "") + api.unsavedNote(),
      api.hasUnsaved()
    );
  }

  wrap.addEventListener("focusout", function (event) {
    if (isCell(event.target) && event.target.tagName === "INPUT" && isDirty(event.target)) {
      commit(event.target);
    }
  });
  wrap.addEventListener("change", function (event) {
    if (isCell(event.target) && event.target.tagName === "SELECT") commit(event.target);
  });

  // --- row actions -------------------------------------------------------------------------
  function setBusy(table, busy) {
    for (const tr of wrap.querySelectorAll("tr" + q(table))) {
      tr.classList.toggle("saving", busy);
      for (const el of tr.querySelectorAll("input")) el.readOnly = busy;
      for (const el of tr.querySelectorAll("select, button")) el.disabled = busy || el.hasAttribute("data-off");
    }
  }

  function act(table, body, focus) {
    const active = document.activeElement;
    if (isCell(active) && isDirty(active)) commit(active); // what was typed goes first
    api.enqueue(async function () {
      setBusy(table, true);
      try {
        let data = await send(table, body);
        if (data.confirm) {
          if (!window.confirm(data.confirm)) {
            api.say("Suppression annulée : la ligne est conservée.");
            return;
          }
          body.confirmed = true;
          data = await send(table, body);
        }
        if (data.error) {
          showMessages(data.error, true);
          return;
        }
        const count = apply(table, data, focus);
        api.say(
          data.message + (count ? " " + count + " cellule(s) calculée(s) mise(s) à jour." : "") + api.unsavedNote(),
          api.hasUnsaved()
        );
      } finally {
        setBusy(table, false);
      }
    });
  }

  function firstField(table) {
    const el = wrap.querySelector("tr" + q(table) + ":not([data-tool]) :is(input, select)");
    return el ? el.dataset.f : null;
  }

  function rowAction(table, op, index, field) {
    const count = countOf(table);
    if (op === "add") {
      act(table, { action: "insert", index: count }, { index: count, field: firstField(table) });
    } else if (op === "insert") {
      act(table, { action: "insert", index: index }, { index: index, field: firstField(table) });
    } else if (op === "up" && index > 0) {
      act(table, { action: "move", index: index, to: index - 1 }, { index: index - 1, field: field });
    } else if (op === "down" && index < count - 1) {
      act(table, { action: "move", index: index, to: index + 1 }, { index: index + 1, field: field });
    } else if (op === "delete" && index < count) {
      act(table, { action: "delete", index: index }, { index: index, field: field });
    }
  }

  // the row buttons and « Ajouter une ligne » submit the table's form: sent here instead
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.classList.contains("tb-form")) return;
    event.preventDefault();
    const table = form.dataset.tb;
    const button = event.submitter;
    const [op, at] = (button && button.value ? button.value : "save").split(":");
    if (op === "save") {
      const active = document.activeElement;
      if (isCell(active) && isDirty(active)) commit(active);
      return;
    }
    rowAction(table, op, parseInt(at || "0", 10), null);
  });

  wrap.addEventListener("keydown", function (event) {
    const el = event.target;
    if (!isCell(el)) return;
    const tr = el.closest("tr");
    const table = el.dataset.tb, index = parseInt(tr.dataset.i, 10);
    const blank = tr.hasAttribute("data-blank");
    let op = null, at = index;
    if (event.key === "Enter" && !event.ctrlKey && !event.altKey && !event.metaKey) {
      // Enter saves the cell even where there is no cell below to go to
      if (isDirty(el)) commit(el);
      return;
    }
    if (event.ctrlKey && !event.altKey && event.key === "Enter") {
      op = "insert";
      at = event.shiftKey ? index : index + 1;
    } else if (event.ctrlKey && !event.altKey && event.key === "Delete") {
      op = blank ? null : "delete";
    } else if (event.altKey && !event.ctrlKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
      op = blank ? null : event.key === "ArrowUp" ? "up" : "down";
    }
    if (!op) return;
    event.preventDefault();
    if (op === "insert") {
      act(table, { action: "insert", index: at }, { index: at, field: firstField(table) });
    } else {
      rowAction(table, op, index, el.dataset.f);
    }
  });

  // lines copied from Excel (cells separated by tabs): one paste request from this cell
  wrap.addEventListener("paste", function (event) {
    const el = event.target;
    if (!isCell(el) || !event.clipboardData) return;
    const text = event.clipboardData.getData("text/plain");
    if (!text || !/[\t\r\n]/.test(text.replace(/(\r\n|\r|\n)$/, ""))) return; // one value
    event.preventDefault();
    const tr = el.closest("tr");
    const index = tr.hasAttribute("data-blank") ? 0 : parseInt(tr.dataset.i, 10);
    act(
      el.dataset.tb,
      { action: "paste", index: index, column: el.dataset.f, text: text },
      { index: index, field: el.dataset.f }
    );
  });
})();
