/**
 * A small pure simulation of sheetsync for the property tests: two replicas (the sheet and the
 * DB table, one row), the two at-least-once queues between them (sheet changes; the outbox
 * relay's DB changes and echoes), the row document store, and the two apply functions built on
 * the core, each in two phases (apply to its side, then commit the row document) so that a crash
 * between the commits, interleavings and redeliveries can all be expressed as steps.
 *
 * Pub/Sub as modelled: per ordering key (here: the row) the first delivery is in publish order;
 * a nack or crash redelivers from the unacked message on; a rewind replays already acked older
 * messages (in order) and a duplicate publish appends a copy of an older message.
 *
 * Ground truth for the properties: every edit writes a unique value (its id) and each replica
 * cell carries the causal past of its value (the edits its author had seen).
 *
 * A person may resolve an open conflict (as from the dashboard or `sheetsync conflicts resolve`):
 * the choice travels to applyToDb as the change `resolutionChange` builds. The person saw both
 * values, so the chosen value's past holds both.
 */
import type { Cells, CellValue } from '../../functions/src/core/cell-value.ts';
import type { ConflictPolicy } from '../../functions/src/core/conflict-policy.ts';
import type { ConflictRecord } from '../../functions/src/core/conflict-record.ts';
import { applyResolution, resolutionChange } from '../../functions/src/core/conflict-resolution.ts';
import { mergeDbChange, stampSheetWrites } from '../../functions/src/core/merge-db-change.ts';
import { mergeSheetChange } from '../../functions/src/core/merge-sheet-change.ts';
import { mergeRowDocuments, type RowDocument } from '../../functions/src/core/row-document.ts';
import type { RowChange } from '../../functions/src/wire/row-change.ts';

export const editable = ['a', 'b', 'c'] as const;
/** Set by a DB trigger on every write of the row, so echoes carry cells the DB itself added. */
export const dbManaged = 'rev';
export const rowId = '00000000-0000-4000-8000-000000000001';

export type Step =
  | { kind: 'sheetEdit'; columns: number[]; duplicate: boolean }
  | { kind: 'dbEdit'; columns: number[]; duplicate: boolean }
  | { kind: 'sheetDelete'; duplicate: boolean }
  | { kind: 'dbDelete' }
  | { kind: 'deliver'; queue: Queue }
  | { kind: 'commit'; queue: Queue }
  | { kind: 'crash'; queue: Queue }
  | { kind: 'rewind'; queue: Queue; back: number }
  | { kind: 'replay'; queue: Queue; index: number }
  | { kind: 'resolve'; index: number; take: 'sheet' | 'db' | 'value' }
  /** Both queues drain (a calm moment, after which people resolve what is still open). */
  | { kind: 'quiesce' };

type Queue = 'toDb' | 'toSheet';

interface Cell {
  value: CellValue;
  past: ReadonlySet<string>;
}

interface Message {
  change: RowChange;
  /** The causal past of each carried value (ground truth). */
  pasts: Record<string, ReadonlySet<string>>;
}

interface Consumer {
  messages: Message[];
  cursor: number;
  attempts: number;
  pending: { next: RowDocument; conflicts: ConflictRecord[]; key: string } | null;
}

export interface Edit {
  id: string;
  side: 'sheet' | 'db';
  column: string;
  time: number;
  past: ReadonlySet<string>;
}

export class Simulation {
  clock = 10;
  sheet: Record<string, Cell> = {};
  db: Record<string, Cell> = {};
  sheetDeleted = false;
  dbDeleted = false;
  doc: RowDocument;
  conflicts = new Map<string, ConflictRecord>();
  edits: Edit[] = [];
  /** Values a custom resolver computed, as the DB-side writes they became (ground truth). */
  derived = new Map<string, Edit>();
  /** How often each sheet event id and each outbox id was committed as applied. */
  applied = new Map<string, number>();
  /** Crashes of applyToSheet between its sheet write and its document commit. */
  sheetCrashes = 0;
  /** DB values applyToDb sent to the sheet again at the deferral cap (sheetsync.reshow). */
  reshows = 0;
  /** Ids of the conflicts a person resolved (the records in `conflicts` stay as decided). */
  resolved = new Set<string>();
  /** Resolutions that sent a change (taking the DB value sends none). */
  resolutionChanges = 0;
  /** Per column, what the person resolving conflicts has seen (their earlier choices too). */
  private deskPast = new Map<string, Set<string>>();
  private outboxId = 1;
  private eventSeq = 0;
  private consumers: Record<Queue, Consumer> = {
    toDb: { messages: [], cursor: 0, attempts: 1, pending: null },
    toSheet: { messages: [], cursor: 0, attempts: 1, pending: null },
  };

  constructor(readonly policy: ConflictPolicy) {
    const initial: Record<string, CellValue> = { a: 'a0', b: 'b0', c: 'c0', [dbManaged]: 0 };
    const cells: RowDocument['cells'] = {};
    for (const [column, value] of Object.entries(initial)) {
      this.sheet[column] = { value, past: new Set() };
      this.db[column] = { value, past: new Set() };
      const time = { wall: 1, logical: 0 };
      cells[column] = { value, dot: 'db:1', time, echoed: true, sheetValue: value, sheetWrittenAt: 1 };
    }
    this.doc = {
      rowId,
      key: { id: 1 },
      vv: { sheet: 0, db: 1 },
      cells,
      tombstone: null,
      events: {},
      eventsFloor: 0,
    };
  }

  run(step: Step): void {
    switch (step.kind) {
      case 'sheetEdit':
        this.sheetEdit(step.columns, step.duplicate);
        return;
      case 'dbEdit':
        this.dbEdit(step.columns, step.duplicate);
        return;
      case 'sheetDelete':
        this.sheetDelete(step.duplicate);
        return;
      case 'dbDelete':
        if (this.dbDeleted) return;
        this.dbDeleted = true;
        this.publishOutbox('delete', {}, {}, 'db', null, this.tick());
        return;
      case 'deliver':
        if (step.queue === 'toDb') this.deliverToDb();
        else this.deliverToSheet();
        return;
      case 'commit':
        this.commit(step.queue);
        return;
      case 'crash':
        this.crash(step.queue);
        return;
      case 'rewind': {
        const consumer = this.consumers[step.queue];
        if (consumer.pending) return;
        consumer.cursor = Math.max(0, consumer.cursor - step.back);
        return;
      }
      case 'replay': {
        const consumer = this.consumers[step.queue];
        if (consumer.messages.length === 0) return;
        const copy = consumer.messages[step.index % consumer.messages.length]!;
        consumer.messages.push(copy);
        return;
      }
      case 'resolve':
        this.resolve(step.index, step.take);
        return;
      case 'quiesce':
        this.quiesce();
        return;
    }
  }

  /**
   * A person resolves one of the open conflicts whose cell still holds what the conflict left
   * (the dashboard shows that value; a resolution is not judged against changes made after the
   * conflict, see docs/design/sync-core.md), seeing both of its values.
   */
  private resolve(index: number, take: 'sheet' | 'db' | 'value'): void {
    const open = [...this.conflicts.values()].filter(
      (c) =>
        c.status === 'open' &&
        !this.resolved.has(c.id) &&
        this.doc.cells[c.column]?.value === c.value &&
        this.db[c.column]?.value === c.value,
    );
    if (open.length === 0) return;
    const conflict = open[index % open.length]!;
    this.resolved.add(conflict.id);
    const time = this.tick();
    const { column } = conflict;
    // One desk resolves one conflict after another: it has seen its own earlier choices.
    const seen = new Set([
      ...this.pastOf(conflict.sheet.value, column),
      ...this.pastOf(conflict.db.value, column),
      ...(this.deskPast.get(column) ?? []),
    ]);
    let choice: 'sheet' | 'db' | { value: CellValue } = take === 'value' ? 'db' : take;
    if (take === 'value') {
      const id = `r${time}`;
      this.edits.push({ id, side: 'sheet', column, time, past: seen });
      seen.add(id);
      choice = { value: id };
    }
    this.deskPast.set(column, seen);
    const change = resolutionChange(applyResolution(conflict, choice, time), time);
    if (!change) return;
    this.resolutionChanges += 1;
    this.consumers.toDb.messages.push({ change, pasts: { [column]: seen } });
  }

  /** An edit's value with the edits its author had seen; empty for a value no edit wrote. */
  private pastOf(value: CellValue, column: string): Set<string> {
    const edit = this.edits.find((e) => e.id === value && e.column === column);
    return edit ? new Set([...edit.past, edit.id]) : new Set();
  }

  /** Delivers and commits until both queues are drained; false if that does not end. */
  quiesce(limit = 2000): boolean {
    for (let round = 0; round < limit; round++) {
      if (this.idle()) return true;
      for (const queue of ['toDb', 'toSheet'] as const) {
        this.commit(queue);
        if (queue === 'toDb') this.deliverToDb();
        else this.deliverToSheet();
        this.commit(queue);
      }
    }
    return this.idle();
  }

  private idle(): boolean {
    return Object.values(this.consumers).every((c) => !c.pending && c.cursor >= c.messages.length);
  }

  private tick(): number {
    this.clock += 1;
    return this.clock;
  }

  private sheetDelete(duplicate: boolean): void {
    if (this.sheetDeleted) return;
    this.sheetDeleted = true;
    const time = this.tick();
    const change: RowChange = {
      link: 'sim',
      rowId,
      op: 'delete',
      cells: {},
      origin: 'sheet',
      time: { wall: time, logical: 0 },
      eventId: `event-${++this.eventSeq}`,
    };
    this.consumers.toDb.messages.push({ change, pasts: {} });
    if (duplicate) this.consumers.toDb.messages.push({ change, pasts: {} });
  }

  private sheetEdit(columnIndexes: number[], duplicate: boolean): void {
    if (this.sheetDeleted) return;
    const time = this.tick();
    const id = `s${time}`;
    const cells: Cells = {};
    const pasts: Record<string, ReadonlySet<string>> = {};
    for (const column of pick(columnIndexes)) {
      const past = this.sheet[column]!.past;
      this.edits.push({ id, side: 'sheet', column, time, past });
      const cell = { value: id, past: new Set([...past, id]) };
      this.sheet[column] = cell;
      cells[column] = id;
      pasts[column] = cell.past;
    }
    const change: RowChange = {
      link: 'sim',
      rowId,
      op: 'upsert',
      cells,
      origin: 'sheet',
      time: { wall: time, logical: 0 },
      eventId: `event-${++this.eventSeq}`,
    };
    this.consumers.toDb.messages.push({ change, pasts });
    if (duplicate) this.consumers.toDb.messages.push({ change, pasts });
  }

  private dbEdit(columnIndexes: number[], duplicate: boolean): void {
    if (this.dbDeleted) return;
    const time = this.tick();
    const id = `d${time}`;
    const written: Record<string, Cell> = {};
    for (const column of pick(columnIndexes)) {
      const past = this.db[column]!.past;
      this.edits.push({ id, side: 'db', column, time, past });
      written[column] = { value: id, past: new Set([...past, id]) };
    }
    this.writeDb(written, 'db', null, time, duplicate);
  }

  /** One DB write: the capture trigger records the changed cells in the outbox. */
  private writeDb(
    written: Record<string, Cell>,
    origin: 'db' | 'sheet',
    dot: string | null,
    time: number,
    duplicate = false,
  ) {
    written[dbManaged] = { value: (this.db[dbManaged]!.value as number) + 1, past: new Set() };
    const cells: Cells = {};
    const pasts: Record<string, ReadonlySet<string>> = {};
    for (const [column, cell] of Object.entries(written)) {
      if (this.db[column]!.value === cell.value) continue;
      this.db[column] = cell;
      cells[column] = cell.value;
      pasts[column] = cell.past;
    }
    this.publishOutbox('upsert', cells, pasts, origin, dot, time, duplicate);
  }

  private publishOutbox(
    op: RowChange['op'],
    cells: Cells,
    pasts: Message['pasts'],
    origin: 'db' | 'sheet',
    dot: string | null,
    time: number,
    duplicate = false,
  ) {
    const outboxId = ++this.outboxId;
    const change: RowChange = {
      link: 'sim',
      rowId,
      op,
      cells,
      origin,
      dot: dot ?? `db:${outboxId}`,
      outboxId,
      time: { wall: time, logical: 0 },
    };
    this.consumers.toSheet.messages.push({ change, pasts });
    if (duplicate) this.consumers.toSheet.messages.push({ change, pasts });
  }

  private deliverToDb(): void {
    const consumer = this.consumers.toDb;
    const message = consumer.messages[consumer.cursor];
    if (consumer.pending || !message) return;
    const dbRow = this.dbDeleted
      ? null
      : Object.fromEntries(Object.entries(this.db).map(([k, cell]) => [k, cell.value]));
    const now = this.tick();
    const decision = mergeSheetChange(this.doc, message.change, {
      policy: this.policy,
      dbRow,
      now,
      attempt: consumer.attempts,
    });
    if (decision.kind === 'duplicate') {
      this.ack(consumer);
      return;
    }
    if (decision.kind === 'defer') {
      consumer.attempts += 1;
      return;
    }
    if (decision.write === 'delete') {
      this.dbDeleted = true;
      this.publishOutbox('delete', {}, {}, 'sheet', decision.dot, now);
    }
    if (decision.write === 'upsert') {
      if (this.dbDeleted) throw new Error('the core re-inserted a deleted row');
      const written: Record<string, Cell> = {};
      for (const [column, value] of Object.entries(decision.cells)) {
        const fromSheet = value === message.change.cells[column];
        const past = fromSheet
          ? message.pasts[column]!
          : new Set([...message.pasts[column]!, ...this.db[column]!.past]);
        written[column] = { value, past };
        // A value a custom resolver computed is written by the DB: later conflicts may name it.
        if (!fromSheet)
          this.derived.set(`${value}/${column}`, { id: String(value), side: 'db', column, time: now, past });
      }
      this.writeDb(written, 'sheet', decision.dot, now);
    }
    if (decision.reshow.length > 0 && !this.dbDeleted) {
      // sheetsync.reshow: the kept DB values go to the outbox again, as a DB change.
      const cells: Cells = {};
      const pasts: Record<string, ReadonlySet<string>> = {};
      for (const column of decision.reshow) {
        cells[column] = this.db[column]!.value;
        pasts[column] = this.db[column]!.past;
      }
      this.reshows += 1;
      this.publishOutbox('upsert', cells, pasts, 'db', null, now);
    }
    consumer.pending = { next: decision.next, conflicts: decision.conflicts, key: message.change.eventId! };
  }

  private deliverToSheet(): void {
    const consumer = this.consumers.toSheet;
    const message = consumer.messages[consumer.cursor];
    if (consumer.pending || !message) return;
    const sheetRow = this.sheetDeleted
      ? null
      : Object.fromEntries(Object.entries(this.sheet).map(([k, cell]) => [k, cell.value]));
    const now = this.tick();
    const decision = mergeDbChange(this.doc, message.change, { sheetRow, now });
    if (decision.kind === 'duplicate') {
      this.ack(consumer);
      return;
    }
    if (decision.kind === 'defer') {
      consumer.attempts += 1;
      return;
    }
    if (decision.write === 'delete') this.sheetDeleted = true;
    if (decision.write === 'append') throw new Error('the core appended a known row');
    for (const [column, value] of Object.entries(decision.cells)) {
      if (this.sheetDeleted) throw new Error('the core wrote cells of a deleted sheet row');
      this.sheet[column] = { value, past: message.pasts[column] ?? new Set() };
    }
    const next = stampSheetWrites(decision.next, Object.keys(decision.cells), now);
    consumer.pending = { next, conflicts: [], key: `outbox-${message.change.outboxId}` };
  }

  private commit(queue: Queue): void {
    const consumer = this.consumers[queue];
    if (!consumer.pending) return;
    this.doc = mergeRowDocuments(this.doc, consumer.pending.next);
    for (const conflict of consumer.pending.conflicts) this.conflicts.set(conflict.id, conflict);
    this.applied.set(consumer.pending.key, (this.applied.get(consumer.pending.key) ?? 0) + 1);
    consumer.pending = null;
    this.ack(consumer);
  }

  /** The apply function dies after writing its side and before committing the document. */
  private crash(queue: Queue): void {
    const consumer = this.consumers[queue];
    if (!consumer.pending) return;
    if (queue === 'toSheet') this.sheetCrashes += 1;
    consumer.pending = null;
    consumer.attempts += 1;
  }

  private ack(consumer: Consumer): void {
    consumer.cursor += 1;
    consumer.attempts = 1;
  }
}

function pick(indexes: number[]): string[] {
  return [...new Set(indexes.map((i) => editable[i % editable.length]!))];
}
