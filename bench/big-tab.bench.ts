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
 * - inPlaceEditReadSeconds: what a flush reads after an in-place edit of the big tab (the
 *   `values` sheet epoch: the kept snapshot, and 10 rows spread over the tab read again with
 *   their ids checked, in one values.batchGet); baseline: reading the whole big tab.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { growToFit, writeValues } from '../emulator/src/model/values.ts';
import { createEmulator } from '../emulator/src/server.ts';
import { SheetTab, type TabSnapshot } from '../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../functions/src/adapters/sheets/sheets-api.ts';
import { silentLogger } from '../functions/src/log.ts';
import { type Benchmark, median } from './lib.ts';

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
        // After an in-place edit (the webhook's `values` epoch): the kept snapshot, and the rows
        // of a flush read again. A flush of 10 rows spread over the tab: 10 runs.
        const epochs = { rows: 0, values: 0 };
        const kept = new SheetTab(api, spreadsheetId, 'Big', { changeToken: async () => ({ ...epochs }) });
        const first = await kept.read();
        const ids = [...first.rows.keys()];
        const inPlace: number[] = [];
        for (let i = 0; i < READS; i++) {
          epochs.values++;
          const flush = Array.from(
            { length: 10 },
            (_, k) => ids[Math.floor(((k + i / READS) * ids.length) / 10)]!,
          );
          const started = performance.now();
          const snapshot = await kept.verify(await kept.read(), flush);
          inPlace.push((performance.now() - started) / 1000);
          if (snapshot !== first || kept.readCounts.apiReads !== 1) throw new Error('the tab was read again');
          if (kept.readCounts.verifiedRows !== 10 * (i + 1)) throw new Error('the rows were not read again');
        }
        emulator.model.delete(spreadsheetId);
        return { seconds: median(seconds), heapMb: median(heapMb), inPlaceSeconds: median(inPlace) };
      };
      const base = await measure('base', BASE_ROWS);
      const big = await measure('big', BIG_ROWS);
      return {
        tabReadSeconds: {
          value: big.seconds,
          unit: 's',
          baseline: base.seconds,
          ratio: big.seconds / base.seconds,
        },
        tabReadCellsPerSec: {
          value: ((BIG_ROWS + 1) * COLUMNS) / big.seconds,
          unit: 'cells/s',
          baseline: ((BASE_ROWS + 1) * COLUMNS) / base.seconds,
        },
        snapshotHeapMb: {
          value: big.heapMb,
          unit: 'MB',
          baseline: base.heapMb,
          ratio: big.heapMb / base.heapMb,
        },
        // The flush's read after an in-place edit, against reading the whole big tab again.
        inPlaceEditReadSeconds: {
          value: big.inPlaceSeconds,
          unit: 's',
          baseline: big.seconds,
          ratio: big.inPlaceSeconds / big.seconds,
        },
      };
    } finally {
      await emulator.close();
    }
  },
};
export default bench;
