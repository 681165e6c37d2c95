// The browser grid of the local Google Sheet. Plain JS modules, no framework, no build step.
// Reads through /_grid/api, changes the sheet only through the user actions endpoint (so every
// change fires the triggers a person's change fires), follows changes over server-sent events
// (live-updates.js), and renders only the rows on screen (grid-view.js), so 100k rows scroll
// like 100. This module holds the page's state, selecting and typing; the selection's actions
// and the context menu are in grid-menu.js, the toolbar's in toolbar.js.
import { installClipboard, installContextMenu, selectionActions } from './grid-menu.js';
import { COL_W, visibleColumns as gridColumns, ROW_H, renderGrid } from './grid-view.js';
import { followChanges } from './live-updates.js';
import { boxContains, cellSelection, selectionBox } from './selection.js';
import { a1, quoted, SheetWindow } from './sheet-window.js';
import { toolbarAction } from './toolbar.js';

const spreadsheetId = document.body.dataset.spreadsheetId;
const api = `/_grid/api/spreadsheets/${encodeURIComponent(spreadsheetId)}`;
const $ = (id) => document.getElementById(id);
const grid = $('grid');
const canvas = $('grid-canvas');
const formulaInput = $('formula-input');

// sel, anchor and kind: the selection (selection.js); clipboard: what the grid copied.
const state = { meta: null, sheet: null, ...cellSelection(1, 0), editor: null, clipboard: null };
const rows = new SheetWindow(api, () => {
  if (!state.editor) render();
});
const visibleColumns = () => gridColumns(state.sheet);

function toast(message) {
  const el = $('toast');
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    el.hidden = true;
  }, 5000);
}

async function loadMeta() {
  const response = await fetch(api);
  if (!response.ok) throw new Error(`Cannot load the spreadsheet (${response.status})`);
  state.meta = await response.json();
  $('doc-title').textContent = state.meta.title;
  document.title = state.meta.title;
  const visible = state.meta.sheets.filter((s) => !s.hidden);
  state.sheet = visible.find((s) => s.sheetId === state.sheet?.sheetId) ?? visible[0] ?? state.meta.sheets[0];
  renderTabs();
}

function renderTabs() {
  const tabs = $('tabs');
  tabs.replaceChildren(
    ...state.meta.sheets
      .filter((s) => !s.hidden)
      .map((s) => {
        const tab = document.createElement('button');
        tab.className = `tab${s.sheetId === state.sheet.sheetId ? ' active' : ''}`;
        tab.textContent = s.title;
        tab.dataset.sheetId = s.sheetId;
        tab.addEventListener('click', () => {
          if (state.sheet.sheetId === s.sheetId) return;
          state.sheet = s;
          Object.assign(state, cellSelection(1, visibleColumns()[0] ?? 0));
          renderTabs();
          render();
        });
        tab.addEventListener('dblclick', () => void actions.renameSheet());
        return tab;
      }),
  );
}

function render() {
  if (!state.sheet) return;
  rows.show(state.sheet.sheetId);
  renderGrid({ canvas, scroller: grid, sheet: state.sheet, rows, sel: state.sel, box: selectionBox(state) });
  $('cell-name').textContent = a1(state.sel.r, state.sel.c);
  if (document.activeElement !== formulaInput) formulaInput.value = rows.editText(state.sel.r, state.sel.c);
}

async function act(actions) {
  const response = await fetch(
    `/_emulator/v1/spreadsheets/${encodeURIComponent(spreadsheetId)}/userActions`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ actions }),
    },
  );
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    toast(body.error?.message ?? `The action failed (${response.status})`);
    return null;
  }
  const failed = (body.results ?? []).flatMap((r) => r.triggers ?? []).filter((t) => t.status === 'FAILED');
  if (failed.length > 0) toast(`Script ${failed[0].functionName} failed: ${failed[0].error}`);
  return body;
}

async function writeCells(r, c, values) {
  values.forEach((line, i) => {
    line.forEach((value, j) => {
      rows.setLocal(r + i, c + j, value);
    });
  });
  render();
  const done = await act([{ type: 'edit', range: `${quoted(state.sheet.title)}!${a1(r, c)}`, values }]);
  // A refused entry (a strict validation rule) leaves the cell as it was: show that again.
  if (!done) {
    rows.invalidate();
    render();
  }
  return done;
}

/** Makes (r, c) the active cell; `extend` keeps the anchor, growing the selection to it. */
function select(r, c, extend = false) {
  const cols = visibleColumns();
  const maxRow = state.sheet.rowCount - 1;
  state.sel = { r: Math.min(Math.max(r, 0), maxRow), c: cols.includes(c) ? c : state.sel.c };
  if (!extend) Object.assign(state, { anchor: { ...state.sel }, kind: 'cells' });
  const top = ROW_H * (state.sel.r + 1);
  if (top < grid.scrollTop + ROW_H) grid.scrollTop = top - ROW_H;
  else if (top + ROW_H > grid.scrollTop + grid.clientHeight)
    grid.scrollTop = top + 2 * ROW_H - grid.clientHeight;
  render();
}

function stepColumn(delta, extend = false) {
  const cols = visibleColumns();
  const at = cols.indexOf(state.sel.c) + delta;
  if (at >= 0 && at < cols.length) select(state.sel.r, cols[at], extend);
}

/** Selects whole rows (from a row header) or whole columns (from a column header). */
function selectLines(kind, index, extend) {
  const keep = extend && state.kind === kind;
  if (kind === 'rows') {
    state.sel = { r: index, c: visibleColumns()[0] ?? 0 };
    state.anchor = { r: keep ? state.anchor.r : index, c: state.sheet.columnCount - 1 };
  } else {
    state.sel = { r: 0, c: index };
    state.anchor = { r: state.sheet.rowCount - 1, c: keep ? state.anchor.c : index };
  }
  state.kind = kind;
  render();
}

const actions = selectionActions({
  state,
  rows,
  act,
  moveSelection(dc) {
    state.sel = { ...state.sel, c: state.sel.c + dc };
    state.anchor = { ...state.anchor, c: state.anchor.c + dc };
    render();
  },
});

function startEditing(initial) {
  const { r, c } = state.sel;
  const target = canvas.querySelector(`[data-cell="${a1(r, c)}"]`);
  if (!target) return;
  const input = document.createElement('input');
  input.className = 'cell-editor';
  input.value = initial ?? rows.editText(r, c);
  input.style.top = `${target.parentElement.offsetTop}px`;
  input.style.left = `${target.offsetLeft}px`;
  input.style.width = `${Math.max(COL_W, target.offsetWidth)}px`;
  state.editor = { input, r, c };
  canvas.appendChild(input);
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === 'Tab') {
      event.preventDefault();
      commitEdit();
      if (event.key === 'Enter') select(state.sel.r + (event.shiftKey ? -1 : 1), state.sel.c);
      else stepColumn(event.shiftKey ? -1 : 1);
      grid.focus();
    } else if (event.key === 'Escape') {
      cancelEdit();
      grid.focus();
    }
  });
  input.addEventListener('blur', () => {
    if (state.editor?.input === input) commitEdit();
  });
}

function commitEdit() {
  const editor = state.editor;
  if (!editor) return;
  state.editor = null;
  editor.input.remove();
  if (editor.input.value !== rows.editText(editor.r, editor.c))
    void writeCells(editor.r, editor.c, [[editor.input.value]]);
  else render();
}

function cancelEdit() {
  state.editor?.input.remove();
  state.editor = null;
  render();
}

// One render per frame however many scroll events arrive.
let frame = 0;
grid.addEventListener('scroll', () => {
  if (state.editor || frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    render();
  });
});
grid.addEventListener('mousedown', (event) => {
  if (event.button !== 0) return;
  // A checkbox or dropdown in a cell takes the click itself (grid-view.js widgetHtml).
  if (event.target.closest?.('.cell-check, .cell-list')) return;
  const cell = event.target.closest?.('.cell');
  const rowHead = event.target.closest?.('.row-head');
  const colHead = event.target.closest?.('.col-head');
  if (!cell && !rowHead && !colHead) return;
  commitEdit();
  if (cell) select(Number(cell.dataset.r), Number(cell.dataset.c), event.shiftKey);
  else if (rowHead) selectLines('rows', Number(rowHead.dataset.r), event.shiftKey);
  else selectLines('columns', Number(colHead.dataset.c), event.shiftKey);
  grid.focus();
  event.preventDefault();
});
installContextMenu({
  grid,
  state,
  actions,
  // A right click outside the selection selects what was clicked, as in Sheets.
  beforeOpen(event) {
    commitEdit();
    const cell = event.target.closest?.('.cell');
    const rowHead = event.target.closest?.('.row-head');
    const colHead = event.target.closest?.('.col-head');
    const box = selectionBox(state);
    if (cell && !boxContains(box, Number(cell.dataset.r), Number(cell.dataset.c))) {
      select(Number(cell.dataset.r), Number(cell.dataset.c));
    } else if (rowHead && !(box.kind === 'rows' && boxContains(box, Number(rowHead.dataset.r), 0))) {
      selectLines('rows', Number(rowHead.dataset.r), false);
    } else if (colHead && !(box.kind === 'columns' && boxContains(box, 0, Number(colHead.dataset.c)))) {
      selectLines('columns', Number(colHead.dataset.c), false);
    }
  },
});
grid.addEventListener('change', (event) => {
  const widget = event.target.closest?.('.cell-check, .cell-list');
  if (!widget) return;
  const r = Number(widget.dataset.r);
  const c = Number(widget.dataset.c);
  const checkbox = rows.cellAt(r, c)?.[2]?.widget?.checkbox;
  let value = widget.value;
  if (checkbox) {
    const chosen = widget.checked ? checkbox[0] : checkbox[1];
    // The default TRUE/FALSE pair is sent as booleans, as a click in Sheets stores them.
    value = checkbox[0] === 'TRUE' && checkbox[1] === 'FALSE' ? widget.checked : chosen;
  }
  select(r, c);
  void writeCells(r, c, [[value]]);
});
grid.addEventListener('dblclick', (event) => {
  if (event.target.closest?.('.cell')) startEditing();
});
grid.addEventListener('keydown', (event) => {
  if (state.editor || event.target !== grid) return;
  const { r, c } = state.sel;
  const extend = event.shiftKey;
  const keys = {
    ArrowUp: () => select(r - 1, c, extend),
    ArrowDown: () => select(r + 1, c, extend),
    ArrowLeft: () => stepColumn(-1, extend),
    ArrowRight: () => stepColumn(1, extend),
    Tab: () => stepColumn(event.shiftKey ? -1 : 1),
    Enter: () => startEditing(),
    F2: () => startEditing(),
    Delete: () => void actions.clear(),
    Backspace: () => void actions.clear(),
  };
  if (keys[event.key]) {
    event.preventDefault();
    keys[event.key]();
  } else if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    startEditing(event.key);
  }
});
installClipboard({
  state,
  actions,
  // Not while typing in a cell or the formula bar: the browser's own copy and paste work there.
  busy: () => state.editor !== null || document.activeElement === formulaInput,
  pasteText: (values) => void writeCells(state.sel.r, state.sel.c, values),
});
formulaInput.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  void writeCells(state.sel.r, state.sel.c, [[formulaInput.value]]);
  formulaInput.blur();
  select(state.sel.r + 1, state.sel.c);
  grid.focus();
});

for (const button of document.querySelectorAll('.toolbar button')) {
  button.addEventListener('click', async () => {
    commitEdit();
    const action = toolbarAction(button.dataset.action, state);
    if (!action) return;
    const done = await act([action]);
    if (done && button.dataset.action === 'moveUp') select(state.sel.r - 1, state.sel.c);
    if (done && button.dataset.action === 'moveDown') select(state.sel.r + 1, state.sel.c);
    grid.focus();
  });
}

function connect() {
  followChanges({
    api,
    status: $('status'),
    reloadMeta: loadMeta,
    refresh() {
      rows.invalidate();
      if (!state.editor) render();
    },
    onDeleted: () => toast('This spreadsheet was deleted.'),
  });
}

loadMeta()
  .then(() => {
    render();
    grid.focus();
    connect();
  })
  .catch((error) => toast(error.message));
