// The rows of one tab that the grid has loaded, in chunks of CHUNK rows fetched as they come on
// screen. A chunk is `{generation, rows}`: a change event bumps the generation, and an outdated
// chunk stays on screen until its refetch arrives, so live updates never flash blank.
export const CHUNK = 100;

export const letters = (c) => {
  let s = '';
  for (let n = c + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
};
export const a1 = (r, c) => `${letters(c)}${r + 1}`;
export const quoted = (title) => `'${title.replace(/'/g, "''")}'`;
export const escapeHtml = (text) =>
  text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);

export class SheetWindow {
  /** `api` is /_grid/api/spreadsheets/{id}; `onLoaded` runs when a chunk arrives. */
  constructor(api, onLoaded) {
    this.api = api;
    this.onLoaded = onLoaded;
    this.sheetId = null;
    this.chunks = new Map();
    this.pending = new Set();
    this.generation = 0;
  }

  /** Switches to another tab; forgets the rows of the previous one. */
  show(sheetId) {
    if (sheetId === this.sheetId) return;
    this.sheetId = sheetId;
    this.chunks.clear();
  }

  /** The sheet changed: everything loaded is outdated. */
  invalidate() {
    this.generation++;
  }

  /** `[text]`, `[text, editText]`, `[text, editText, {widget?, note?, background?}]` or null. */
  cellAt(r, c) {
    return this.chunks.get(Math.floor(r / CHUNK))?.rows[r % CHUNK]?.[c] ?? null;
  }

  editText(r, c) {
    const cell = this.cellAt(r, c);
    return cell ? (cell[1] ?? cell[0]) : '';
  }

  /** Shows typed text at once; the change event that follows brings the rendered value. */
  setLocal(r, c, value) {
    const rows = this.chunks.get(Math.floor(r / CHUNK))?.rows;
    if (!rows) return;
    rows[r % CHUNK] ??= [];
    // A checkbox, dropdown, note or fill stays drawn while the change is on its way.
    const extras = rows[r % CHUNK][c]?.[2];
    if (extras) rows[r % CHUNK][c] = [String(value), String(value), extras];
    else rows[r % CHUNK][c] = value === '' ? null : [String(value)];
  }

  /** Fetches the chunks covering rows [first, last) that are missing or outdated. */
  ensure(first, last) {
    for (let chunk = Math.floor(first / CHUNK); chunk <= Math.floor((last - 1) / CHUNK); chunk++) {
      if ((this.chunks.get(chunk)?.generation ?? -1) < this.generation)
        void this.fetchChunk(chunk, this.generation);
    }
  }

  async fetchChunk(index, generation) {
    const sheetId = this.sheetId;
    const key = `${sheetId}:${index}:${generation}`;
    if (this.pending.has(key)) return;
    this.pending.add(key);
    try {
      const response = await fetch(
        `${this.api}/sheets/${sheetId}/rows?start=${index * CHUNK}&end=${(index + 1) * CHUNK}`,
      );
      if (!response.ok) return;
      const body = await response.json();
      if (generation !== this.generation || sheetId !== this.sheetId) return;
      this.chunks.set(index, { generation, rows: body.rows });
      this.onLoaded();
    } finally {
      this.pending.delete(key);
    }
  }
}
