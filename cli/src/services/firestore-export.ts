/**
 * The Firestore emulator's documents, kept across restarts of the local stack in
 * `.sheetsync/firestore/`.
 *
 * The emulator holds documents in memory only. It writes an export on request,
 * `POST /emulator/v1/projects/{project}:export` with `{database, export_directory, export_name}`
 * (the emulator docs, "Export entities in the emulator"; the directory must exist, and an empty
 * database writes no files), and loads one at start with
 * `gcloud emulators firestore start --import-data=DIR/NAME.overall_export_metadata`. Its
 * `--export-on-exit` runs on Ctrl-C in its own terminal only (not on the SIGTERM or SIGKILL the
 * stack would send; measured with Cloud SDK 528), so the stack exports itself, periodically and
 * when it stops (store-snapshots.ts).
 *
 * Layout: `exports/N/` holds the Nth export; `current` (written by rename, so it is one whole
 * file) names the one to import, or `empty`. Older exports are deleted once a newer one is current.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SheetsyncError } from '../../../functions/src/errors.ts';
import type { Snapshots } from './store-snapshots.ts';

const EXPORT_NAME = 'sheetsync';

/** The export `current` names, as `--import-data` wants it, or undefined (none, or empty). */
export function currentExport(dir: string): string | undefined {
  let current: string;
  try {
    current = readFileSync(join(dir, 'current'), 'utf8').trim();
  } catch {
    return undefined;
  }
  const metadata = join(dir, 'exports', current, EXPORT_NAME, `${EXPORT_NAME}.overall_export_metadata`);
  return /^\d+$/.test(current) && existsSync(metadata) ? metadata : undefined;
}

/** Exports of the emulator at `host` into `dir`: a Snapshots for store-snapshots.ts. */
export function firestoreExports(dir: string, host: string, projectId: string): Snapshots<string> {
  const exportsDir = join(dir, 'exports');
  mkdirSync(exportsDir, { recursive: true });
  let next = Math.max(0, ...readdirSync(exportsDir).map(Number).filter(Number.isInteger)) + 1;
  return {
    async take() {
      const name = String(next++);
      const target = join(exportsDir, name);
      rmSync(target, { recursive: true, force: true });
      mkdirSync(target);
      const response = await fetch(`http://${host}/emulator/v1/projects/${projectId}:export`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          database: `projects/${projectId}/databases/(default)`,
          export_directory: target,
          export_name: EXPORT_NAME,
        }),
        signal: AbortSignal.timeout(60_000),
      });
      if (!response.ok) {
        throw new SheetsyncError(
          'SHEETSYNC_E756',
          `the Firestore emulator at ${host} did not export its documents (HTTP ${response.status}: ${(await response.text()).slice(0, 300)})`,
          'retry',
        );
      }
      return existsSync(join(target, EXPORT_NAME)) ? name : 'empty';
    },
    async promote(name) {
      const temporary = join(dir, `current.${process.pid}.tmp`);
      writeFileSync(temporary, `${name}\n`);
      renameSync(temporary, join(dir, 'current'));
      for (const entry of readdirSync(exportsDir)) {
        if (entry !== name && (name === 'empty' || Number(entry) < Number(name)))
          rmSync(join(exportsDir, entry), { recursive: true });
      }
    },
    async discard(name) {
      if (name !== 'empty') rmSync(join(exportsDir, name), { recursive: true, force: true });
    },
  };
}
