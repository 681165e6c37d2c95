// Live updates: any change (API, script, user) shows without a reload. Changes arrive over
// server-sent events and are applied at most once per 40 ms; a change of shape (rows, columns,
// tabs) reloads the spreadsheet's description before the rows.
const CELL_ONLY = new Set(['values', 'clear', 'sortRange', 'appsScript']);

/** Follows `api`/events; `reloadMeta` re-reads tabs and sizes, `refresh` re-reads the rows shown. */
export function followChanges({ api, status, reloadMeta, refresh, onDeleted }) {
  let timer = null;
  let shapeChanged = false;
  const schedule = (shape) => {
    if (shape) shapeChanged = true;
    if (timer) return;
    timer = setTimeout(async () => {
      timer = null;
      if (shapeChanged) {
        shapeChanged = false;
        await reloadMeta();
      }
      refresh();
    }, 40);
  };
  const events = new EventSource(`${api}/events`);
  events.onopen = () => {
    status.textContent = 'live';
    status.className = 'status live';
    schedule(true);
  };
  events.onerror = () => {
    status.textContent = 'reconnecting…';
    status.className = 'status';
  };
  events.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.kind === 'deleteSpreadsheet') onDeleted();
    else schedule(!CELL_ONLY.has(event.kind));
  };
}
