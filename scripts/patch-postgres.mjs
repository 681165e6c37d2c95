// Patches postgres.js 3.4.x at install (npm's postinstall). Each patch is idempotent; the install
// fails when the driver no longer has a line it patches (a new version: check whether it still
// needs the patch, then update or remove it here).
//
// 1. A write scheduled with setImmediate can run after the connection closed and nulled its
//    socket, and `socket.write` on null then throws from the immediate callback, which no caller
//    can catch: the whole process dies (a PostgreSQL restart took down the relay, applyToDb and
//    `npm start` with it). Upstream: porsager/postgres#1154 and #1208, fix proposed in #1209 (not
//    released). The guard settles the write instead: the query is rejected with
//    CONNECTION_CLOSED, which callers retry.
// 2. ReadyForQuery discards the promise of the array-types query every new connection runs first:
//    when that query fails (the backend terminated, 57P01, or cancelled, 57014) the rejection is
//    unhandled and ends the process. Upstream: porsager/postgres#1192, #1205, #1223 (open). The
//    failure needs no handling of its own: the connection closes, its queued queries are
//    rejected or run again on the reconnect, and the reconnect fetches the types again.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const WRITE_ORIGINAL = `  function nextWrite(fn) {
    const x = socket.write(chunk, fn)`;
const WRITE_PATCHED = `  function nextWrite(fn) {
    if (!socket) { // sheetsync: scripts/patch-postgres.mjs (porsager/postgres#1208)
      nextWriteTimer !== null && clearImmediate(nextWriteTimer)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options))
      return false
    }
    const x = socket.write(chunk, fn)`;

const TYPES_ORIGINAL = `        return fetchArrayTypes()
`;
const TYPES_PATCHED = `        return fetchArrayTypes().catch(() => {}) // sheetsync: scripts/patch-postgres.mjs (porsager/postgres#1192)
`;

const PATCHES = [
  [WRITE_ORIGINAL, WRITE_PATCHED, 'nextWrite'],
  [TYPES_ORIGINAL, TYPES_PATCHED, 'fetchArrayTypes in ReadyForQuery'],
];

// The package exports no package.json: find its root from its main entry (cjs/src/index.js).
const root = join(dirname(createRequire(import.meta.url).resolve('postgres')), '..', '..');
for (const file of ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js']) {
  const path = join(root, file);
  let text = readFileSync(path, 'utf8');
  for (const [original, patched, what] of PATCHES) {
    if (text.includes(patched)) continue;
    if (!text.includes(original)) {
      console.error(
        `patch-postgres: ${path} has no ${what} as postgres.js 3.4.9 wrote it; see scripts/patch-postgres.mjs`,
      );
      process.exit(1);
    }
    text = text.replace(original, patched);
  }
  writeFileSync(path, text);
}
