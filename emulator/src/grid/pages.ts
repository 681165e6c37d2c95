/** The two HTML pages of the grid. Every interpolated string is escaped. */
import type { Spreadsheet } from '../model/spreadsheet.ts';

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  );

const head = (title: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="stylesheet" href="/_grid/static/grid.css"></head>`;

export function indexPage(spreadsheets: Spreadsheet[]): string {
  const items = spreadsheets
    .map((s) => {
      const sheets = s.sheets.map((sheet) => escapeHtml(sheet.title)).join(', ');
      return `<li><a href="/spreadsheets/${encodeURIComponent(s.spreadsheetId)}"><span class="doc-icon"></span>
<span class="doc-title">${escapeHtml(s.properties.title)}</span></a><span class="doc-meta">${sheets}</span></li>`;
    })
    .join('\n');
  return `${head('Local Google Sheet')}
<body class="index"><header class="appbar"><span class="logo"></span><h1>Local Google Sheet</h1>
<span class="subtitle">sheetsync emulator</span></header>
<main class="doc-list"><div class="doc-list-head"><h2>Spreadsheets</h2>
<button id="new-spreadsheet" class="primary">New spreadsheet</button></div>
${items ? `<ul>${items}</ul>` : '<p class="empty">No spreadsheets yet.</p>'}</main>
<script>
document.getElementById('new-spreadsheet').addEventListener('click', async () => {
  const title = prompt('Title', 'Untitled spreadsheet');
  if (title === null) return;
  const response = await fetch('/_emulator/v1/spreadsheets', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title }) });
  const created = await response.json();
  location.href = '/spreadsheets/' + encodeURIComponent(created.spreadsheetId);
});
</script></body></html>`;
}

export function spreadsheetPage(spreadsheetId: string, title: string): string {
  return `${head(title)}
<body class="sheet-page" data-spreadsheet-id="${escapeHtml(spreadsheetId)}">
<header class="appbar"><a class="logo" href="/" title="All spreadsheets"></a>
<h1 id="doc-title">${escapeHtml(title)}</h1><span id="status" class="status">connecting…</span></header>
<nav class="toolbar">
<button data-action="insertAbove" title="Insert a row above the selection">Insert row above</button>
<button data-action="insertBelow" title="Insert a row below the selection">Insert row below</button>
<button data-action="deleteRow" title="Delete the selected row">Delete row</button>
<span class="sep"></span>
<button data-action="sortAsc" title="Sort the rows below the header by the selected column">Sort A → Z</button>
<button data-action="sortDesc" title="Sort the rows below the header by the selected column, descending">Sort Z → A</button>
<span class="sep"></span>
<button data-action="moveUp" title="Move the selected row up">Move row up</button>
<button data-action="moveDown" title="Move the selected row down">Move row down</button>
</nav>
<div class="formula-bar"><span id="cell-name" class="cell-name">A1</span><span class="fx">fx</span>
<input id="formula-input" aria-label="Cell contents" autocomplete="off" spellcheck="false"></div>
<div id="grid" class="grid" tabindex="0"><div id="grid-canvas" class="grid-canvas"></div></div>
<footer id="tabs" class="tabs"></footer>
<div id="toast" class="toast" hidden></div>
<script type="module" src="/_grid/static/grid.js"></script></body></html>`;
}
