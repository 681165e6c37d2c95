// The dashboard's script: renders each StatusReport from /api/events (server-sent events), the
// open conflicts from /api/conflicts with a button per side that resolves through the API, and
// the held mass changes with approve and discard buttons (POST /api/approve, /api/discard).
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
  renderHeld(report.held ?? []);
}

let shownHeld = '';

function renderHeld(held) {
  const ids = held.map((h) => h.id).join(',');
  if (ids === shownHeld) return;
  shownHeld = ids;
  $('held').hidden = held.length === 0;
  document.querySelector('#held-table tbody').replaceChildren(
    ...held.map((h) => {
      const tr = document.createElement('tr');
      tr.dataset.held = h.id;
      const sample = h.sample.slice(0, 3).map((s) => (s.key ? JSON.stringify(s.key) : s.rowId.slice(0, 8)));
      tr.append(cell(h.link), cell(`${h.count} of ${h.total}`), cell(h.reason), cell(sample.join(', ')));
      const td = document.createElement('td');
      for (const [decision, label] of [
        ['approve', h.side === 'db' ? 'delete them from the table' : 'delete them from the sheet'],
        ['discard', h.side === 'db' ? 'put them back on the sheet' : 'put them back in the table'],
      ]) {
        const button = Object.assign(document.createElement('button'), { textContent: label });
        button.dataset.decision = decision;
        button.addEventListener('click', () => decide(h, decision, td));
        td.append(button);
      }
      tr.append(td);
      return tr;
    }),
  );
}

async function decide(held, decision, td) {
  for (const button of td.querySelectorAll('button')) button.disabled = true;
  const response = await fetch(`/api/${decision}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: held.id, link: held.link }),
  });
  if (!response.ok) {
    const { error } = await response.json();
    alert(`${error.code ?? ''} ${error.message}`);
    for (const button of td.querySelectorAll('button')) button.disabled = false;
    return;
  }
  shownHeld = '';
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
