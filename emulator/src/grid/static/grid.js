// The browser grid of the local Google Sheet. Plain JS modules, no framework, no build step.
// Reads through /_grid/api, changes the sheet only through the user actions endpoint (so every
// change fires the triggers a person's change fires), follows changes over server-sent events,
// and renders only the rows on screen (grid-view.js), so 100k rows scroll like 100.
import { COL_W, visibleColumns as gridColumns, ROW_H, renderGrid } from './grid-view.js';
import { a1, letters, quoted, SheetWindow } from './sheet-window.js';

const spreadsheetId = document.body.dataset.spreadsheetId;
const api = `/_grid/api/spreadsheets/${encodeURIComponent(spreadsheetId)}`;
const $ = (id) => document.getElementById(id);
const grid = $('grid');
const canvas = $('grid-canvas');
const formulaInput = $('formula-input');

const state = { meta: null, sheet: null, sel: { r: 1, c: 0 }, editor: null };
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
          state.sheet = s;
          state.sel = { r: 1, c: visibleColumns()[0] ?? 0 };
          renderTabs();
          render();
        });
        return tab;
      }),
  );
}

function render() {
  if (!state.sheet) return;
  rows.show(state.sheet.sheetId);
  renderGrid({ canvas, scroller: grid, sheet: state.sheet, rows, sel: state.sel });
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

function writeCells(r, c, values) {
  values.forEach((line, i) => {
    line.forEach((value, j) => {
      rows.setLocal(r + i, c + j, value);
    });
  });
  render();
  return act([{ type: 'edit', range: `${quoted(state.sheet.title)}!${a1(r, c)}`, values }]);
}

function select(r, c) {
  const cols = visibleColumns();
  const maxRow = state.sheet.rowCount - 1;
  state.sel = { r: Math.min(Math.max(r, 0), maxRow), c: cols.includes(c) ? c : state.sel.c };
  const top = ROW_H * (state.sel.r + 1);
  if (top < grid.scrollTop + ROW_H) grid.scrollTop = top - ROW_H;
  else if (top + ROW_H > grid.scrollTop + grid.clientHeight)
    grid.scrollTop = top + 2 * ROW_H - grid.clientHeight;
  render();
}

function moveColumn(delta) {
  const cols = visibleColumns();
  const at = cols.indexOf(state.sel.c) + delta;
  if (at >= 0 && at < cols.length) select(state.sel.r, cols[at]);
}

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
      else moveColumn(event.shiftKey ? -1 : 1);
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
  const cell = event.target.closest?.('.cell');
  if (!cell) return;
  commitEdit();
  select(Number(cell.dataset.r), Number(cell.dataset.c));
  grid.focus();
  event.preventDefault();
});
grid.addEventListener('dblclick', (event) => {
  if (event.target.closest?.('.cell')) startEditing();
});
grid.addEventListener('keydown', (event) => {
  if (state.editor || event.target !== grid) return;
  const { r, c } = state.sel;
  const keys = {
    ArrowUp: () => select(r - 1, c),
    ArrowDown: () => select(r + 1, c),
    ArrowLeft: () => moveColumn(-1),
    ArrowRight: () => moveColumn(1),
    Tab: () => moveColumn(event.shiftKey ? -1 : 1),
    Enter: () => startEditing(),
    F2: () => startEditing(),
    Delete: () => void writeCells(r, c, [['']]),
    Backspace: () => void writeCells(r, c, [['']]),
  };
  if (keys[event.key]) {
    event.preventDefault();
    keys[event.key]();
  } else if (event.key.length === 1 && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    startEditing(event.key);
  }
});
document.addEventListener('paste', (event) => {
  if (state.editor || document.activeElement === formulaInput) return;
  const text = event.clipboardData?.getData('text/plain') ?? '';
  if (text === '') return;
  event.preventDefault();
  const values = text
    .replace(/\r/g, '')
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => line.split('\t'));
  void writeCells(state.sel.r, state.sel.c, values);
});
document.addEventListener('copy', (event) => {
  if (state.editor || document.activeElement === formulaInput) return;
  event.clipboardData?.setData('text/plain', rows.cellAt(state.sel.r, state.sel.c)?.[0] ?? '');
  event.preventDefault();
});
formulaInput.addEventListener('keydown', (event) => {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  void writeCells(state.sel.r, state.sel.c, [[formulaInput.value]]);
  formulaInput.blur();
  select(state.sel.r + 1, state.sel.c);
  grid.focus();
});

const toolbar = {
  insertAbove: ({ r }) => ({ type: 'insertRows', sheet: state.sheet.sheetId, index: r, count: 1 }),
  insertBelow: ({ r }) => ({ type: 'insertRows', sheet: state.sheet.sheetId, index: r + 1, count: 1 }),
  deleteRow: ({ r }) => ({ type: 'deleteRows', sheet: state.sheet.sheetId, index: r, count: 1 }),
  sortAsc: ({ c }) => sortAction(c, 'ASCENDING'),
  sortDesc: ({ c }) => sortAction(c, 'DESCENDING'),
  moveUp: ({ r }) =>
    r > 0
      ? { type: 'moveRows', sheet: state.sheet.sheetId, index: r, count: 1, destinationIndex: r - 1 }
      : null,
  moveDown: ({ r }) =>
    r < state.sheet.rowCount - 1
      ? { type: 'moveRows', sheet: state.sheet.sheetId, index: r, count: 1, destinationIndex: r + 2 }
      : null,
};
// Sorting keeps row 1 in place: it is the header row of a synced table.
const sortAction = (c, sortOrder) => ({
  type: 'sortRange',
  range: `${quoted(state.sheet.title)}!A2:${letters(state.sheet.columnCount - 1)}${state.sheet.rowCount}`,
  sortSpecs: [{ dimensionIndex: c, sortOrder }],
});
for (const button of document.querySelectorAll('.toolbar button')) {
  button.addEventListener('click', async () => {
    commitEdit();
    const action = toolbar[button.dataset.action](state.sel);
    if (!action) return;
    const done = await act([action]);
    if (done && button.dataset.action === 'moveUp') select(state.sel.r - 1, state.sel.c);
    if (done && button.dataset.action === 'moveDown') select(state.sel.r + 1, state.sel.c);
    grid.focus();
  });
}

// Live updates: any change (API, script, user) refreshes what is on screen, batched per frame.
let refreshTimer = null;
function scheduleRefresh(structural) {
  if (structural) state.structural = true;
  if (refreshTimer) return;
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    if (state.structural) {
      state.structural = false;
      await loadMeta();
    }
    rows.invalidate();
    if (!state.editor) render();
  }, 40);
}
function connect() {
  const events = new EventSource(`${api}/events`);
  events.onopen = () => {
    $('status').textContent = 'live';
    $('status').className = 'status live';
    scheduleRefresh(true);
  };
  events.onerror = () => {
    $('status').textContent = 'reconnecting…';
    $('status').className = 'status';
  };
  events.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.kind === 'deleteSpreadsheet') {
      toast('This spreadsheet was deleted.');
      return;
    }
    scheduleRefresh(!['values', 'clear', 'sortRange', 'appsScript'].includes(event.kind));
  };
}

loadMeta()
  .then(() => {
    render();
    grid.focus();
    connect();
  })
  .catch((error) => toast(error.message));
