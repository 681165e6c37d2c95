/**
 * The browser grid: `/` lists the spreadsheets, `/spreadsheets/{id}` opens one. Plain HTML,
 * CSS and JS from ./static (no build step). The page reads through the JSON routes below,
 * changes the sheet only through the user actions endpoint (so it fires the same triggers a
 * test's actions fire), and follows changes live over server-sent events.
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import type { RouteContext } from '../http/router.ts';
import type { SpreadsheetStore } from '../model/store.ts';
import { describeForGrid, readWindow } from './grid-data.ts';
import { indexPage, spreadsheetPage } from './pages.ts';

export interface GridHost {
  model: SpreadsheetStore;
  addRoute(method: string, pattern: string, handler: (context: RouteContext) => unknown): void;
}

const STATIC: Record<string, string> = {
  'grid.js': 'text/javascript',
  'grid-menu.js': 'text/javascript',
  'grid-view.js': 'text/javascript',
  'live-updates.js': 'text/javascript',
  'selection.js': 'text/javascript',
  'toolbar.js': 'text/javascript',
  'sheet-window.js': 'text/javascript',
  'grid.css': 'text/css',
};
/** A comment line every 15 s keeps proxies and idle timeouts from closing the event stream. */
const HEARTBEAT_MS = 15_000;

export function mountGrid(host: GridHost): void {
  const { model, addRoute } = host;
  addRoute('GET', '/', ({ res }) => sendHtml(res, indexPage(model.list())));
  addRoute('GET', '/spreadsheets/{spreadsheetId}', ({ res, params }) => {
    const spreadsheet = model.get(params.spreadsheetId ?? '');
    sendHtml(res, spreadsheetPage(spreadsheet.spreadsheetId, spreadsheet.properties.title));
  });
  addRoute('GET', '/_grid/static/{file}', ({ res, params }) => {
    const type = STATIC[params.file ?? ''];
    if (!type) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    // Read on each request so an edited file shows on reload; the files are small.
    const body = readFileSync(new URL(`./static/${params.file}`, import.meta.url));
    res.writeHead(200, { 'content-type': `${type}; charset=UTF-8`, 'cache-control': 'no-cache' }).end(body);
  });
  addRoute('GET', '/_grid/api/spreadsheets/{spreadsheetId}', ({ params }) =>
    describeForGrid(model, params.spreadsheetId ?? ''),
  );
  addRoute('GET', '/_grid/api/spreadsheets/{spreadsheetId}/sheets/{sheetId}/rows', ({ params, query }) =>
    readWindow(
      model,
      params.spreadsheetId ?? '',
      Number(params.sheetId),
      Number(query.get('start') ?? 0),
      Number(query.get('end') ?? 100),
    ),
  );
  addRoute('GET', '/_grid/api/spreadsheets/{spreadsheetId}/events', ({ req, res, params }) => {
    const spreadsheetId = params.spreadsheetId ?? '';
    model.get(spreadsheetId);
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write('retry: 1000\n\n');
    const unsubscribe = model.onChange((event) => {
      if (event.spreadsheetId !== spreadsheetId) return;
      const { kind, sheetId, source, range, dimension } = event;
      res.write(`data: ${JSON.stringify({ kind, sheetId, source, range, dimension })}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    req.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
    return undefined;
  });
}

function sendHtml(res: ServerResponse, html: string): undefined {
  res.writeHead(200, { 'content-type': 'text/html; charset=UTF-8', 'cache-control': 'no-cache' }).end(html);
  return undefined;
}
