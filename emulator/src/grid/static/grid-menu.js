// What a person does to a selection, offered on the grid's context menu (right click) and on
// keys: clear it (Delete), copy and paste it (Ctrl+C / Ctrl+V, or the menu), insert, delete and
// move its columns, rename the tab. Each sends one user action, so each fires the triggers the
// same action fires in Sheets.
import { boxA1, boxText, selectionBox } from './selection.js';
import { a1, quoted } from './sheet-window.js';

/**
 * `ctx`: `state` (sheet, sel, anchor, kind, clipboard), `rows` (the SheetWindow), `act(actions)`
 * (posts user actions; resolves to the response or null), `moveSelection(dc)` (shifts the
 * selection sideways after its columns moved).
 */
export function selectionActions(ctx) {
  const { state, rows, act } = ctx;
  const box = () => selectionBox(state);
  const width = () => box().c1 - box().c0 + 1;
  const sheetId = () => state.sheet.sheetId;
  const columns = (type, index, extra = {}) =>
    act([{ type, sheet: sheetId(), index, count: width(), ...extra }]);
  return {
    clear: () => act([{ type: 'clear', range: boxA1(state.sheet.title, box()) }]),
    /** Remembers what was copied; returns its text for the system clipboard. */
    copy() {
      const b = box();
      const text = boxText(rows, b, state.sheet.rowCount - 1, state.sheet.columnCount - 1);
      state.clipboard = { source: boxA1(state.sheet.title, b), text };
      return text;
    },
    /** Pastes what the grid copied: at the active cell, or over a selected block (repeated to fill it). */
    paste() {
      if (!state.clipboard) return null;
      const b = box();
      const block = b.kind === 'cells' && (b.r0 !== b.r1 || b.c0 !== b.c1);
      const destination = block
        ? boxA1(state.sheet.title, b)
        : `${quoted(state.sheet.title)}!${a1(b.r0, b.c0)}`;
      return act([{ type: 'copyPaste', source: state.clipboard.source, destination }]);
    },
    insertLeft: () => columns('insertColumns', box().c0),
    insertRight: () => columns('insertColumns', box().c1 + 1),
    deleteColumns: () => columns('deleteColumns', box().c0),
    async moveLeft() {
      if (box().c0 === 0) return null;
      const done = await columns('moveColumns', box().c0, { destinationIndex: box().c0 - 1 });
      if (done) ctx.moveSelection(-1);
      return done;
    },
    async moveRight() {
      if (box().c1 + 1 >= state.sheet.columnCount) return null;
      const done = await columns('moveColumns', box().c0, { destinationIndex: box().c1 + 2 });
      if (done) ctx.moveSelection(1);
      return done;
    },
    renameSheet() {
      const title = prompt('Rename sheet', state.sheet.title);
      if (title === null || title === '' || title === state.sheet.title) return null;
      return act([{ type: 'renameSheet', sheet: sheetId(), title }]);
    },
  };
}

/** The right-click menu over the grid, offering the selection actions; `beforeOpen` adjusts the selection. */
export function installContextMenu({ grid, state, actions, beforeOpen }) {
  const menu = document.createElement('div');
  menu.className = 'context-menu';
  menu.setAttribute('role', 'menu');
  menu.hidden = true;
  document.body.appendChild(menu);
  const plural = (n, word) => (n === 1 ? word : `${n} ${word}s`);
  const entries = () => {
    const b = selectionBox(state);
    const n = b.c1 - b.c0 + 1;
    return [
      ['copy', 'Copy', 'Ctrl+C'],
      ['paste', 'Paste', 'Ctrl+V', !state.clipboard],
      ['clear', 'Clear', 'Delete'],
      null,
      ['insertLeft', `Insert ${n} column${n === 1 ? '' : 's'} left`],
      ['insertRight', `Insert ${n} column${n === 1 ? '' : 's'} right`],
      ['deleteColumns', `Delete ${plural(n, 'column')}`],
      ['moveLeft', `Move ${plural(n, 'column')} left`, '', b.c0 === 0],
      ['moveRight', `Move ${plural(n, 'column')} right`, '', b.c1 + 1 >= state.sheet.columnCount],
      null,
      ['renameSheet', 'Rename sheet…'],
    ];
  };
  const close = () => {
    menu.hidden = true;
  };
  const open = (x, y) => {
    menu.replaceChildren(
      ...entries().map((entry) => {
        if (!entry) return Object.assign(document.createElement('hr'), { role: 'separator' });
        const [name, label, hint = '', disabled = false] = entry;
        const item = document.createElement('button');
        item.setAttribute('role', 'menuitem');
        item.disabled = disabled;
        item.innerHTML = `<span></span><kbd></kbd>`;
        item.firstChild.textContent = label;
        item.lastChild.textContent = hint;
        item.addEventListener('click', async () => {
          close();
          if (name === 'copy') actions.copy();
          else await actions[name]();
          grid.focus();
        });
        return item;
      }),
    );
    menu.hidden = false;
    menu.style.left = `${Math.min(x, window.innerWidth - menu.offsetWidth - 4)}px`;
    menu.style.top = `${Math.min(y, window.innerHeight - menu.offsetHeight - 4)}px`;
  };
  grid.addEventListener('contextmenu', (event) => {
    event.preventDefault();
    beforeOpen(event);
    open(event.clientX, event.clientY);
  });
  document.addEventListener('mousedown', (event) => {
    if (!menu.hidden && !menu.contains(event.target)) close();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') close();
  });
}

/**
 * Ctrl+C copies the selection (its shown text goes to the system clipboard). Ctrl+V pastes what
 * the grid copied as Sheets pastes cells (formulas, formats, hidden cells: a `copyPaste`), and
 * text from elsewhere as typed values at the active cell (`pasteText(lines of cells)`).
 */
export function installClipboard({ state, actions, busy, pasteText }) {
  document.addEventListener('copy', (event) => {
    if (busy()) return;
    event.clipboardData?.setData('text/plain', actions.copy());
    event.preventDefault();
  });
  document.addEventListener('paste', (event) => {
    if (busy()) return;
    const text = event.clipboardData?.getData('text/plain') ?? '';
    if (text === '') return;
    event.preventDefault();
    if (state.clipboard?.text === text) {
      void actions.paste();
      return;
    }
    pasteText(
      text
        .replace(/\r/g, '')
        .replace(/\n$/, '')
        .split('\n')
        .map((line) => line.split('\t')),
    );
  });
}
