/**
 * `npm run bench -- big-tab`: what a tab near Google's 10-million-cell cap costs applyToSheet's
 * read of it (functions/src/adapters/sheets/sheet-tab.ts): one `values.get` of the whole tab
 * through @googleapis/sheets from the local sheet, then the snapshot it keeps (row positions by
 * sync id and every row's values).
 *
 * - tabReadSeconds: the read of a 1,428,000-row × 7-column tab (9,996,007 cells, the grid cut to
 *   7 columns so it fits under the cap); baseline: the same read of a 100,000-row tab (700,007
 *   cells) in the same run. Median of READS reads each. The local sheet runs in this process, so
 *   the figure includes its serialising of the response (Google's side, in a deployment).
 * - snapshotHeapMb: the V8 heap the kept snapshot holds (after a full GC), big tab and baseline.
 * - rowsChangeReadSeconds: what a flush reads of the big tab after rows were inserted, deleted
 *   or sorted (the `rows` sheet epoch: applyToSheet's SheetTab reads a tab over 1M cells without
 *   its values, the header row and the id column, then 10 rows spread over the tab with their ids
 *   checked, in one values.batchGet); baseline: reading the whole big tab.
 * - inPlaceEditReadSeconds: the same after an in-place edit (the `values` sheet epoch: the kept
 *   positions, and the 10 rows read again); baseline: reading the whole big tab.
 * - keptHeapMb: the heap applyToSheet's SheetTab holds for the big tab after those flushes;
 *   baseline: a snapshot of all its values (snapshotHeapMb).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { growToFit, writeValues } from '../emulator/src/model/values.ts';
import { createEmulator } from '../emulator/src/server.ts';
import { SheetTab, type TabSnapshot } from '../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../functions/src/adapters/sheets/sheets-api.ts';
import { silentLogger } from '../functions/src/log.ts';
import { againstBaseline, type Benchmark, median } from './lib.ts';

const COLUMNS = 7;
const BIG_ROWS = 1_428_000;
const BASE_ROWS = 100_000;
const READS = 3;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const bench: Benchmark = {
  name: 'big-tab',
  description: "applyToSheet's read of a tab near the 10M-cell cap, against a 100k-row tab",
  async run({ progress }) {
    const emulator = await createEmulator({ port: 0 });
    try {
      const fill = (spreadsheetId: string, rows: number) => {
        const spreadsheet = emulator.model.create(
          { spreadsheetId, sheets: [{ title: 'Big', sheetId: 0 }] },
          'api',
        );
        const { sheet } = spreadsheet.resolveA1('Big!A1');
        sheet.deleteDimension('COLUMNS', COLUMNS, sheet.columnCount);
        growToFit(spreadsheet, sheet, rows + 1, COLUMNS);
        for (let start = 0; start <= rows; start += 50_000) {
          const lines: Array<Array<string | number>> = [];
          for (let r = start; r <= Math.min(rows, start + 49_999); r++) {
            lines.push(
              r === 0
                ? ['id', 'name', 'email', 'qty', 'price', 'note', '_sheetsync_id']
                : [
                    r,
                    `name ${r}`,
                    `user${r}@example.com`,
                    r % 100,
                    r * 1.25,
                    'a note of some length',
                    `00000000-0000-4000-8000-${String(r).padStart(12, '0')}`,
                  ],
            );
          }
          const { range } = spreadsheet.resolveA1(`Big!A${start + 1}`);
          writeValues(
            spreadsheet,
            { ...spreadsheet.bound(sheet, range), openRows: true, openColumns: true },
            lines,
            {
              valueInputOption: 'RAW',
            } as never,
          );
        }
      };
      const api = new SheetsApi({ rootUrl: emulator.url, logger: silentLogger, readsPerMinute: 6000 });
      const measure = async (spreadsheetId: string, rows: number) => {
        progress(`filling a ${rows}-row tab`);
        fill(spreadsheetId, rows);
        const seconds: number[] = [];
        const heapMb: number[] = [];
        for (let i = 0; i < READS; i++) {
          const tab = new SheetTab(api, spreadsheetId, 'Big');
          gc();
          const started = performance.now();
          let snapshot: TabSnapshot | undefined = await tab.read();
          seconds.push((performance.now() - started) / 1000);
          if (snapshot.rows.size !== rows) throw new Error(`read ${snapshot.rows.size} of ${rows} rows`);
          // What the snapshot holds: the heap with it, less the heap once it is dropped.
          gc();
          const withSnapshot = process.memoryUsage().heapUsed;
          snapshot = undefined;
          // The async frame keeps the last awaited value: await something else before the GC.
          await new Promise((resolve) => setImmediate(resolve));
          gc();
          heapMb.push((withSnapshot - process.memoryUsage().heapUsed) / 1e6);
          progress(
            `${rows} rows: read ${seconds.at(-1)!.toFixed(2)} s, snapshot ${heapMb.at(-1)!.toFixed(0)} MB`,
          );
        }
        // applyToSheet's tab (a change token): a tab over 1M cells is read without its values.
        // After a rows change (rows inserted, deleted, sorted: the `rows` epoch) and after an
        // in-place edit (the `values` epoch), a flush of 10 rows spread over the tab: the read,
        // and those rows read again with their ids checked (10 runs, one values.batchGet).
        const epochs = { rows: 0, values: 0 };
        let kept: SheetTab | undefined = new SheetTab(api, spreadsheetId, 'Big', {
          changeToken: async () => ({ ...epochs }),
        });
        const first = await kept.read();
        if (first.rows.size !== rows) throw new Error(`read ${first.rows.size} of ${rows} rows`);
        const ids = [...first.rows.keys()];
        const flushOf = (i: number) =>
          Array.from({ length: 10 }, (_, k) => ids[Math.floor(((k + i / READS) * ids.length) / 10)]!);
        const flush = async (epoch: 'rows' | 'values', i: number) => {
          epochs[epoch]++;
          const started = performance.now();
          await kept!.verify(await kept!.read(), flushOf(i));
          return (performance.now() - started) / 1000;
        };
        const rowsChange: number[] = [];
        const inPlace: number[] = [];
        for (let i = 0; i < READS; i++) rowsChange.push(await flush('rows', i));
        for (let i = 0; i < READS; i++) inPlace.push(await flush('values', i));
        const { apiReads, verifiedRows } = kept.readCounts;
        if (apiReads !== 1 + READS) throw new Error(`read the tab ${apiReads} times`);
        if (rows * COLUMNS > 1_000_000 && verifiedRows !== 2 * READS * 10)
          throw new Error(`verified ${verifiedRows} rows`);
        gc();
        const withKept = process.memoryUsage().heapUsed;
        kept = undefined;
        await new Promise((resolve) => setImmediate(resolve));
        gc();
        const keptHeapMb = (withKept - process.memoryUsage().heapUsed) / 1e6;
        progress(
          `${rows} rows kept: after a rows change ${median(rowsChange).toFixed(3)} s, after an in-place edit ${median(inPlace).toFixed(4)} s, ${keptHeapMb.toFixed(0)} MB`,
        );
        emulator.model.delete(spreadsheetId);
        return {
          seconds: median(seconds),
          heapMb: median(heapMb),
          rowsChangeSeconds: median(rowsChange),
          inPlaceSeconds: median(inPlace),
          keptHeapMb,
        };
      };
      const base = await measure('base', BASE_ROWS);
      const big = await measure('big', BIG_ROWS);
      return {
        tabReadSeconds: againstBaseline(big.seconds, 's', base.seconds),
        tabReadCellsPerSec: {
          value: ((BIG_ROWS + 1) * COLUMNS) / big.seconds,
          unit: 'cells/s',
          baseline: ((BASE_ROWS + 1) * COLUMNS) / base.seconds,
        },
        snapshotHeapMb: againstBaseline(big.heapMb, 'MB', base.heapMb),
        // A flush after rows were inserted, deleted or sorted in the big tab: its positions
        // read again, and the flush's rows; against reading the whole big tab.
        rowsChangeReadSeconds: againstBaseline(big.rowsChangeSeconds, 's', big.seconds),
        // What applyToSheet keeps of the big tab, against a copy of all its values.
        keptHeapMb: againstBaseline(big.keptHeapMb, 'MB', big.heapMb),
        // The flush's read after an in-place edit, against reading the whole big tab again.
        inPlaceEditReadSeconds: againstBaseline(big.inPlaceSeconds, 's', big.seconds),
      };
    } finally {
      await emulator.close();
    }
  },
};
export default bench;
