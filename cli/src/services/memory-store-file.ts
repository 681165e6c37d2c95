/**
 * The in-process version store of the stand-ins (SHEETSYNC_STANDINS=1, or no Cloud SDK), kept
 * across restarts in `.sheetsync/version-store.json`.
 *
 * MemoryVersionStore keeps its state private, so this wraps it: every document a write leaves
 * stored (commitRows answers with them; createRows's are read back), every conflict record and
 * every structure check is mirrored here, and a snapshot is the mirror as JSON. Loading puts the
 * documents back through createRows (deleted rows first, so the key of a row inserted again
 * names the live one) and the conflict records through commitRows. Sheet epochs are not kept: a
 * new process has no kept read of the tab to invalidate.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ConflictRecord } from '../../../functions/src/core/conflict-record.ts';
import type { RowDocument } from '../../../functions/src/core/row-document.ts';
import type { RowCommit, StructureCheck, VersionStore } from '../../../functions/src/ports.ts';
import type { Snapshots } from './store-snapshots.ts';

interface LinkMirror {
  rows: Record<string, RowDocument>;
  conflicts: Record<string, ConflictRecord>;
  structure: Record<string, StructureCheck>;
}

interface StoreFile {
  version: 1;
  links: Record<string, LinkMirror>;
}

const CHUNK = 1000;

/** `inner` (an empty store) with what `file` holds loaded, and the mirror that saves it. */
export async function openMemoryStore(
  inner: VersionStore,
  file: string,
): Promise<{ store: VersionStore; snapshots: Snapshots<string>; loaded: number }> {
  const mirror = new Map<string, LinkMirror>();
  const of = (link: string) => {
    let m = mirror.get(link);
    if (!m) {
      m = { rows: {}, conflicts: {}, structure: {} };
      mirror.set(link, m);
    }
    return m;
  };
  let loaded = 0;
  let saved: StoreFile | undefined;
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as StoreFile;
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
  for (const [link, state] of Object.entries(saved?.links ?? {})) {
    const docs = Object.values(state.rows).sort((a, b) => Number(!a.tombstone) - Number(!b.tombstone));
    for (let i = 0; i < docs.length; i += CHUNK) await inner.createRows(link, docs.slice(i, i + CHUNK));
    const conflicts = Object.values(state.conflicts).filter((c) => state.rows[c.rowId]);
    for (const conflict of conflicts) {
      await inner.commitRows(link, [{ next: state.rows[conflict.rowId]!, conflicts: [conflict] }]);
    }
    await inner.recordStructureChecks(link, state.structure);
    mirror.set(link, structuredClone(state));
    loaded += docs.length;
  }

  const overrides: Partial<VersionStore> = {};
  overrides.commitRows = async (link: string, commits: readonly RowCommit[]) => {
    const stored = await inner.commitRows(link, commits);
    const m = of(link);
    for (const [rowId, doc] of stored) m.rows[rowId] = doc;
    for (const conflict of commits.flatMap((c) => c.conflicts ?? [])) m.conflicts[conflict.id] ??= conflict;
    return stored;
  };
  overrides.createRows = async (link: string, docs: readonly RowDocument[]) => {
    const counts = await inner.createRows(link, docs);
    const m = of(link);
    for (const [rowId, doc] of await inner.readRows(
      link,
      docs.map((d) => d.rowId),
    ))
      m.rows[rowId] = doc;
    return counts;
  };
  overrides.resolveConflict = async (link, conflictId, choice, at) => {
    const resolved = await inner.resolveConflict(link, conflictId, choice, at);
    of(link).conflicts[resolved.id] = resolved;
    return resolved;
  };
  overrides.recordStructureChecks = async (link, checks) => {
    await inner.recordStructureChecks(link, checks);
    of(link).structure = await inner.structureChecks(link);
  };
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const own = overrides[property as keyof VersionStore];
      if (own) return own;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

  const snapshots: Snapshots<string> = {
    // The mirror as it is now, as text: later writes do not change a snapshot taken.
    async take() {
      const document: StoreFile = { version: 1, links: Object.fromEntries(mirror) };
      return JSON.stringify(document);
    },
    async promote(text) {
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, text, { mode: 0o600 });
      renameSync(temporary, file);
    },
    async discard() {},
  };
  return { store, snapshots, loaded };
}
