/**
 * Database → sheet under Google's write quota and transient failures: the local sheet allows 60
 * writes a minute per user and answers 20% of requests with 503. A 10,000-row table is loaded,
 * then updated twice in a row; the sheet must end with every row's second value (complete, and
 * in order per row), and the client must never send more than 60 writes in any 60 s window.
 */
import { Firestore } from '@google-cloud/firestore';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { installSchema, watchTable } from '../../functions/src/adapters/postgres-schema.ts';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import { SheetTab } from '../../functions/src/adapters/sheets/sheet-tab.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { createApplyToSheet } from '../../functions/src/handlers/apply-to-sheet.ts';
import { silentLogger } from '../../functions/src/log.ts';
import type { Bus, Subscription } from '../../functions/src/ports.ts';
import { type RunningRelay, startRelay } from '../../functions/src/relay/outbox-relay.ts';
import { startSubscriber } from '../../functions/src/runtime/subscriber.ts';
import { parseDbChanges } from '../../functions/src/wire/db-change.ts';
import { uniqueName } from '../support/names.ts';
import { useTestDatabase } from '../support/postgres.ts';
import { tabValues } from '../support/sheet-state.ts';
import { waitFor } from '../support/wait.ts';

const ROWS = 10_000;

describe('database → sheet under quota and faults', () => {
  const db = useTestDatabase();
  let emulator: Emulator;
  let firestore: Firestore;
  let bus: Bus;
  let relay: RunningRelay;
  let subscription: Subscription;
  const spreadsheetId = uniqueName('db-to-sheet-quota');
  /** Send times of every write request attempt (ms), recorded around SheetsApi.call. */
  const writes: number[] = [];
  let api: SheetsApi;

  beforeAll(async () => {
    emulator = await createEmulator({ port: 0, quotas: { writePerUser: 60 } });
    emulator.model.create({ spreadsheetId, sheets: [{ title: 'Leads', sheetId: 0 }] }, 'api');
    api = new SheetsApi({ rootUrl: emulator.url, logger: silentLogger, writesPerMinute: 60 });
    const call = api.call.bind(api);
    api.call = (kind, what, request) =>
      call(kind, what, () => {
        if (kind === 'write') writes.push(Date.now());
        return request();
      });
    await api.client.spreadsheets.values.update({
      spreadsheetId,
      range: 'Leads!A1',
      valueInputOption: 'RAW',
      requestBody: { values: [['id', 'score']] },
    });
    const [host, port] = inject('firestoreEmulatorHost').split(':');
    firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });

    await installSchema(db.sql);
    await db.sql`create table public.leads (id int primary key, score int)`;
    await watchTable(db.sql, 'public.leads', 'leads');
    bus = createPubSubBus({ projectId: 'sheetsync-test', apiEndpoint: inject('pubsubEmulatorHost') });
    const topic = uniqueName('sheetsync-db-changes');
    const sub = uniqueName('apply-to-sheet');
    await bus.ensureTopic(topic);
    await bus.ensureSubscription(sub, { topic, ackDeadlineSeconds: 600 });
    relay = startRelay({ sql: db.sql, bus, topic, logger: silentLogger, pollIntervalMs: 200 });
    const store = new FirestoreVersionStore({ firestore, root: uniqueName('links') });
    const applyToSheet = createApplyToSheet({
      store,
      links: new Map([
        [
          'leads',
          {
            tab: new SheetTab(api, spreadsheetId, 'Leads', { changeToken: () => store.sheetEpochs('leads') }),
            addMissingHeaders: false,
          },
        ],
      ]),
      logger: silentLogger,
    });
    subscription = startSubscriber({
      bus,
      subscription: sub,
      parse: parseDbChanges,
      flush: applyToSheet.flush,
      ready: applyToSheet.ready,
      windowMs: 200,
      logger: silentLogger,
    });
  });

  afterAll(async () => {
    await subscription?.close();
    await relay?.stop();
    await bus?.close();
    await firestore?.terminate();
    await emulator?.close();
  });

  const scoresAre = (value: number) => async () => {
    const rows = tabValues(emulator, spreadsheetId, 'Leads!A2:B');
    return rows.length === ROWS && rows.every((r) => r[1] === value);
  };

  it('a 10,000-row table updated twice lands completely with the second values, never over 60 writes a minute', async () => {
    await db.sql`insert into leads select g, 0 from generate_series(1, ${ROWS}) g`;
    await waitFor('the inserted rows', scoresAre(0), 240_000);
    // 20% of requests fail at random; the bulk updates need only a handful of requests, so the
    // first two also fail for certain, and the retry path is always exercised.
    emulator.faults.configure({ errorRate: 0.2, errorStatus: 503, failNext: 2 });
    await db.sql`update leads set score = 1`;
    await db.sql`update leads set score = 2`;
    await waitFor('the second update everywhere', scoresAre(2), 240_000);
    expect(api.counts.retries).toBeGreaterThan(0); // the faults were hit and retried
    // No 60 s window (starting at any request) holds more than 60 write requests.
    const busiest = Math.max(...writes.map((t) => writes.filter((u) => u >= t && u < t + 60_000).length));
    expect(busiest).toBeLessThanOrEqual(60);
    const ids = tabValues(emulator, spreadsheetId, 'Leads!A2:A').map((r) => r[0]);
    expect(new Set(ids).size).toBe(ROWS);
  });
});
