/**
 * `npm run bench -- attach-1m [--rows N]` (issue 24, item 2): the 10-million-cell case. A table
 * of 999,999 rows × 9 columns, attached into an empty tab (with the id column sheetsync adds: 10
 * columns, 10,000,000 cells with the header row, Google's cap for a spreadsheet), then 1,000
 * drifted cells spread over it (500 in PostgreSQL with the triggers bypassed, 500 in the sheet)
 * repaired by a reconcile. Both run in a child process (test/support/sync-child.ts), so their
 * peak RSS (process.resourceUsage().maxRSS) is theirs alone, against PostgreSQL, Google's
 * Firestore emulator and the local sheet (with Google's quota of 60 writes a minute).
 *
 * Baseline, same run: the local sheet's bare ingest of the same cells, the table's rows sent as
 * values.batchUpdate calls of under 2 MB each, one after another, without quota (each call its
 * own quota user): what the sheet itself allows.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../cli/src/services/gcloud-emulator.ts';
import { startPostgres } from '../cli/src/services/postgres-server.ts';
import { createEmulator } from '../emulator/src/server.ts';
import { runSyncChild } from '../test/support/big-link.ts';
import { benchDatabase } from './database.ts';
import type { Benchmark } from './lib.ts';

const DEFAULT_ROWS = 999_999;
const COLUMNS = ['id', 'name', 'email', 'amount', 'qty', 'flag', 'day', 'city', 'note'];
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;
const DRIFT = 1_000;

const bench: Benchmark = {
  name: 'attach-1m',
  description: `attach of ${DEFAULT_ROWS.toLocaleString('en-US')} rows × 10 columns (--rows N: N rows) and a reconcile of ${DRIFT} drifted cells`,
  async run({ progress, rows: asked }) {
    const rows = asked ?? DEFAULT_ROWS;
    const stops: Array<() => Promise<void>> = [];
    try {
      progress('starting PostgreSQL, the Firestore emulator and the local sheet');
      const dataDir = mkdtempSync(join(tmpdir(), 'sheetsync-bench-pg-'));
      const [pg, firestoreEmulator] = await Promise.all([
        startPostgres({ databaseUrl: process.env.DATABASE_URL, dataDir }),
        startEmulator('firestore'),
      ]);
      stops.push(
        () => pg.stop(),
        () => firestoreEmulator.stop(),
      );
      const database = await benchDatabase(pg.url);
      stops.unshift(() => database.drop());
      const { sql } = database;
      const emulator = await createEmulator({ port: 0 });
      stops.unshift(() => emulator.close());

      progress(`loading ${rows} rows`);
      await sql.unsafe(
        `create table public.wide (id bigint primary key, name text, email text, amount numeric(12,2),
          qty int, flag boolean, day date, city text, note text)`,
      );
      await sql.unsafe(
        `insert into public.wide
          select i, 'name ' || i, 'user' || i || '@example.com', (i % 1000) * 1.25, i % 97, i % 3 = 0,
                 date '2020-01-01' + (i % 2000), 'city ' || (i % 500), md5(i::text)
          from generate_series(1, $1::int) i`,
        [rows],
      );

      // ── baseline: the sheet's bare ingest of the same cells ──
      progress('bare ingest of the same cells into the local sheet');
      const bareId = `bench-bare-${randomUUID().slice(0, 8)}`;
      emulator.model.create(
        {
          spreadsheetId: bareId,
          sheets: [{ title: 'Bare', sheetId: 0, rowCount: rows + 1, columnCount: 10 }],
        },
        'api',
      );
      const bareStarted = performance.now();
      let requests = 0;
      let pending: unknown[][] = [[...COLUMNS, '_sheetsync_id']];
      let pendingBytes = 0;
      let nextRow = 1;
      const send = async () => {
        const body = JSON.stringify({
          valueInputOption: 'RAW',
          data: [{ range: `Bare!A${nextRow}`, values: pending }],
        });
        const response = await fetch(
          `${emulator.url}/v4/spreadsheets/${bareId}/values:batchUpdate?quotaUser=bare-${requests++}`,
          { method: 'POST', headers: { 'content-type': 'application/json' }, body },
        );
        if (!response.ok) throw new Error(`bare ingest: HTTP ${response.status} ${await response.text()}`);
        nextRow += pending.length;
        pending = [];
        pendingBytes = 0;
      };
      const cursor = sql`select * from public.wide order by id`.cursor(10_000);
      for await (const batch of cursor) {
        for (const r of batch) {
          const row = [
            ...COLUMNS.map((c) => (r[c] instanceof Date ? r[c].toISOString().slice(0, 10) : r[c])),
            randomUUID(),
          ];
          const bytes = JSON.stringify(row).length + 1;
          if (pendingBytes + bytes > MAX_REQUEST_BYTES - 1_024) await send();
          pending.push(row);
          pendingBytes += bytes;
        }
      }
      if (pending.length > 0) await send();
      const bareSeconds = (performance.now() - bareStarted) / 1000;
      emulator.model.delete(bareId);
      progress(`bare ingest: ${bareSeconds.toFixed(1)} s in ${requests} requests`);

      // ── attach and reconcile in child processes ──
      const spreadsheetId = `bench-attach-1m-${randomUUID().slice(0, 8)}`;
      emulator.model.create({ spreadsheetId, sheets: [{ title: 'Wide', sheetId: 0 }] }, 'api');
      const input = {
        databaseUrl: database.url,
        sheetsApiUrl: emulator.url,
        firestoreHost: firestoreEmulator.host,
        root: `bench-${randomUUID().slice(0, 8)}`,
        link: { name: 'wide', spreadsheetId, sheet: 'Wide', table: 'public.wide' },
      };
      progress(`attach of ${rows} rows`);
      const attach = await runSyncChild({ command: 'attach', ...input });
      progress(
        `attach: ${attach.seconds} s, peak RSS ${Math.round(attach.maxRssMb)} MB (${JSON.stringify(attach.result)})`,
      );

      // 1,000 drifted cells spread over the tab: 500 in the table (name), 500 in the sheet (city, column H).
      const ids = Array.from({ length: DRIFT }, (_, i) => 1 + Math.floor((i * rows) / DRIFT));
      await sql.begin(async (tx) => {
        await tx`set local session_replication_role = replica`;
        await tx`update public.wide set name = 'db drift ' || id where id = any(${ids.filter((_, i) => i % 2 === 0)}::bigint[])`;
      });
      const data = ids
        .filter((_, i) => i % 2 === 1)
        .map((id) => ({ range: `Wide!H${id + 1}`, values: [[`sheet drift ${id}`]] }));
      const drifted = await fetch(
        `${emulator.url}/v4/spreadsheets/${spreadsheetId}/values:batchUpdate?quotaUser=bench-drift`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ valueInputOption: 'RAW', data }),
        },
      );
      if (!drifted.ok) throw new Error(`drift: HTTP ${drifted.status} ${await drifted.text()}`);
      progress(`reconcile of ${rows} rows with ${DRIFT} drifted cells`);
      const repair = await runSyncChild({ command: 'reconcile', ...input });
      const found = repair.result as { cellsToDb: number; cellsToSheet: number };
      const repaired = found.cellsToDb + found.cellsToSheet;
      progress(
        `reconcile: ${repair.seconds} s, peak RSS ${Math.round(repair.maxRssMb)} MB (${JSON.stringify(repair.result)})`,
      );

      return {
        attach1mRows: { value: rows, unit: 'rows' },
        attach1mSeconds: {
          value: attach.seconds,
          unit: 's',
          baseline: bareSeconds,
          ratio: attach.seconds / bareSeconds,
        },
        attach1mPeakRssMb: { value: attach.maxRssMb, unit: 'MB', target: '≤ 512 MB' },
        attach1mRatioToBare: { value: attach.seconds / bareSeconds, unit: '×', target: '≤ 3×' },
        reconcile1mSeconds: {
          value: repair.seconds,
          unit: 's',
          baseline: bareSeconds,
          ratio: repair.seconds / bareSeconds,
        },
        reconcile1mRepaired: {
          value: repaired,
          unit: 'cells',
          baseline: DRIFT,
          ratio: repaired / DRIFT,
          target: `${DRIFT}`,
        },
        reconcile1mPeakRssMb: { value: repair.maxRssMb, unit: 'MB', target: '≤ 512 MB' },
      };
    } finally {
      for (const stop of stops) await stop().catch(() => {});
    }
  },
};

export default bench;
