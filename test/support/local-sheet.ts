/**
 * Set-up shared by the tests of attach and reconcile: the local sheet with one spreadsheet, a
 * Sheets API client on it, and a version store on the Firestore emulator of the global setup.
 */
import { Firestore } from '@google-cloud/firestore';
import { inject } from 'vitest';
import { createEmulator, type Emulator } from '../../emulator/src/server.ts';
import { FirestoreVersionStore } from '../../functions/src/adapters/firestore-version-store.ts';
import { SheetsApi } from '../../functions/src/adapters/sheets/sheets-api.ts';
import { silentLogger } from '../../functions/src/log.ts';
import { uniqueName } from './names.ts';

/**
 * The local sheet holding spreadsheet `spreadsheetId` with tabs `titles` (sheet ids 0, 1, ...),
 * and a client with a quota of 600 reads and writes a minute (these tests are not about it).
 */
export async function startLocalSheet(
  spreadsheetId: string,
  titles: readonly string[],
): Promise<{ emulator: Emulator; api: SheetsApi }> {
  const emulator = await createEmulator({ port: 0 });
  emulator.model.create(
    { spreadsheetId, sheets: titles.map((title, sheetId) => ({ title, sheetId })) },
    'api',
  );
  const api = new SheetsApi({
    rootUrl: emulator.url,
    logger: silentLogger,
    writesPerMinute: 600,
    readsPerMinute: 600,
  });
  return { emulator, api };
}

/** A version store on the Firestore emulator, under a root of its own; terminate `firestore` after. */
export function emulatorVersionStore(): { firestore: Firestore; store: FirestoreVersionStore } {
  const [host, port] = inject('firestoreEmulatorHost').split(':');
  const firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
  return { firestore, store: new FirestoreVersionStore({ firestore, root: uniqueName('links') }) };
}
