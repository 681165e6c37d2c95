// The dashboard's script: renders each StatusReport from /api/events (server-sent events), and
// the open conflicts from /api/conflicts with a button per side that resolves through the API.
const $ = (id) => document.getElementById(id);
const SERIES = ['sheetToDb', 'dbToSheet', 'lagMs', 'conflicts', 'errors'];
/** The plots show the last two minutes. */
const WINDOW = 120;

function plot(svg, points) {
  const last = points.slice(-WINDOW);
  const max = Math.max(1, ...last);
  const coords = last.map((y, x) => `${(x * 300) / (WINDOW - 1)},${58 - (y / max) * 56}`).join(' ');
  svg.innerHTML = `<polyline points="${coords}"></polyline>`;
}

function render(report) {
  for (const name of SERIES) {
    const points = report.series[name] ?? [];
    // A rate shows the last complete second; a gauge its current value.
    const value = name === 'lagMs' || name === 'conflicts' ? points.at(-1) : points.at(-2);
    $(name).textContent = String(value ?? 0);
    plot(document.querySelector(`[data-series="${name}"] svg`), points);
  }
  $('conflicts').textContent = String(report.openConflicts);
  $('sheetToDbTotal').textContent = `${report.totals.sheetToDb} total`;
  $('dbToSheetTotal').textContent = `${report.totals.dbToSheet} total`;
  $('errorsTotal').textContent = `${report.totals.errors} total`;
  $('outbox').textContent = report.outbox ? `outbox ${report.outbox.changes}` : 'outbox n/a';
  $('links').textContent = `links: ${report.links.join(', ')} · bus: ${report.bus}`;
  const errors = $('errors-list');
  errors.replaceChildren(
    ...(report.lastErrors.length === 0
      ? [Object.assign(document.createElement('li'), { textContent: 'None.' })]
      : report.lastErrors
          .slice()
          .reverse()
          .map((e) =>
            Object.assign(document.createElement('li'), {
              textContent: `${new Date(e.at).toLocaleTimeString()} ${e.code ?? ''} ${e.message}`,
            }),
          )),
  );
  if (report.openConflicts !== shownConflicts) void loadConflicts();
}

let shownConflicts = -1;

const cell = (text) => Object.assign(document.createElement('td'), { textContent: text });
const show = (value) =>
  value === null ? '(empty)' : typeof value === 'string' ? value : JSON.stringify(value);

function sideCell(conflict, side) {
  const td = document.createElement('td');
  td.append(Object.assign(document.createElement('code'), { textContent: show(conflict[side].value) }));
  const button = Object.assign(document.createElement('button'), {
    textContent: side === 'sheet' ? 'keep sheet' : 'keep DB',
  });
  button.dataset.conflict = conflict.id;
  button.dataset.take = side;
  button.addEventListener('click', () => resolveConflict(conflict.id, side, button));
  td.append(button);
  return td;
}

async function loadConflicts() {
  const conflicts = await (await fetch('/api/conflicts')).json();
  shownConflicts = conflicts.length;
  $('no-conflicts').hidden = conflicts.length > 0;
  $('conflict-table').hidden = conflicts.length === 0;
  document.querySelector('#conflict-table tbody').replaceChildren(
    ...conflicts.map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.conflict = c.id;
      tr.append(cell(c.link), cell(c.rowId.slice(0, 8)), cell(c.column), cell(c.reason));
      tr.append(sideCell(c, 'sheet'), sideCell(c, 'db'));
      return tr;
    }),
  );
}

async function resolveConflict(id, take, button) {
  button.disabled = true;
  const response = await fetch(`/api/conflicts/${id}/resolve`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ take }),
  });
  if (!response.ok) {
    const { error } = await response.json();
    alert(`${error.code ?? ''} ${error.message}`);
    button.disabled = false;
  }
  await loadConflicts();
}

const feed = new EventSource('/api/events');
feed.onopen = () => {
  $('feed').textContent = 'live';
};
feed.onerror = () => {
  $('feed').textContent = 'disconnected: is `npm start` still running?';
};
feed.onmessage = (event) => render(JSON.parse(event.data));
void loadConflicts();
