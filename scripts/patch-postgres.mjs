// Patches postgres.js 3.4.x at install (npm's postinstall): a write scheduled with setImmediate
// can run after the connection closed and nulled its socket, and `socket.write` on null then
// throws from the immediate callback, which no caller can catch: the whole process dies (a
// PostgreSQL restart took down the relay, applyToDb and `npm start` with it). Upstream:
// porsager/postgres#1154 and #1208, fix proposed in #1209 (not released). The guard settles the
// write instead: the query is rejected with CONNECTION_CLOSED, which callers retry.
//
// Idempotent; fails the install when the driver no longer has the line it patches (a new
// version: check whether it still needs the patch, then update or remove this script).
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const ORIGINAL = `  function nextWrite(fn) {
    const x = socket.write(chunk, fn)`;
const PATCHED = `  function nextWrite(fn) {
    if (!socket) { // sheetsync: scripts/patch-postgres.mjs (porsager/postgres#1208)
      nextWriteTimer !== null && clearImmediate(nextWriteTimer)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options))
      return false
    }
    const x = socket.write(chunk, fn)`;

// The package exports no package.json: find its root from its main entry (cjs/src/index.js).
const root = join(dirname(createRequire(import.meta.url).resolve('postgres')), '..', '..');
for (const file of ['src/connection.js', 'cjs/src/connection.js', 'cf/src/connection.js']) {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  if (text.includes(PATCHED)) continue;
  if (!text.includes(ORIGINAL)) {
    console.error(
      `patch-postgres: ${path} has no nextWrite as postgres.js 3.4.9 wrote it; see scripts/patch-postgres.mjs`,
    );
    process.exit(1);
  }
  writeFileSync(path, text.replace(ORIGINAL, PATCHED));
}
