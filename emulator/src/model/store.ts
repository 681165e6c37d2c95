/**
 * All spreadsheets of one emulator, and the change feed. Every mutation goes through
 * `mutate`, which runs it as a transaction (all or nothing, as a Sheets batchUpdate is) and then
 * emits its change events, tagged with who made them: `'api'` for the Sheets API, `'user'` for
 * user actions and the grid. Apps Script triggers fire for `'user'` changes only, because
 * "Script executions and API requests do not cause triggers to run"
 * (https://developers.google.com/apps-script/guides/triggers/installable#restrictions).
 */
import { randomBytes } from 'node:crypto';
import type { GridRange } from './a1.ts';
import type { CellValue } from './cell.ts';
import { spreadsheetNotFound } from './errors.ts';
import type { Dimension } from './sheet.ts';
import { Spreadsheet, type SpreadsheetProperties } from './spreadsheet.ts';

export type ChangeSource = 'api' | 'user';

export type ChangeKind =
  /** Cell values written (values.update/append, updateCells, a user edit or paste). */
  | 'values'
  /** Values cleared (values.clear, batchClear). */
  | 'clear'
  | 'insertDimension'
  | 'deleteDimension'
  | 'moveDimension'
  | 'sortRange'
  /** Hidden or resized rows or columns. */
  | 'dimensionProperties'
  | 'addSheet'
  | 'deleteSheet'
  | 'sheetProperties'
  | 'protectedRange'
  | 'createSpreadsheet'
  | 'deleteSpreadsheet'
  /** The bound Apps Script's saved properties or triggers changed (no cell changed). */
  | 'appsScript';

export interface ChangeEvent {
  spreadsheetId: string;
  source: ChangeSource;
  kind: ChangeKind;
  /** The sheet changed; absent for spreadsheet-level events. */
  sheetId?: number;
  /** The cells or dimension span changed, zero-based end-exclusive like a GridRange. */
  range?: GridRange;
  dimension?: Dimension;
  /** moveDimension: the destination index as the request gave it. */
  destinationIndex?: number;
  /** For a write to exactly one cell: the effective values before and after. */
  oldValue?: CellValue;
  newValue?: CellValue;
}

/** What an operation reports; `mutate` adds spreadsheetId and source. */
export type ChangeNote = Omit<ChangeEvent, 'spreadsheetId' | 'source'>;
export type Emit = (note: ChangeNote) => void;
export type ChangeListener = (event: ChangeEvent) => void;

export interface CreateSpreadsheetOptions {
  spreadsheetId?: string;
  title?: string;
  sheets?: { title?: string; sheetId?: number; rowCount?: number; columnCount?: number }[];
}

export class SpreadsheetStore {
  private readonly spreadsheets = new Map<string, Spreadsheet>();
  private readonly listeners = new Set<ChangeListener>();

  list(): Spreadsheet[] {
    return [...this.spreadsheets.values()];
  }

  /** Throws Google's 404 when there is no such spreadsheet. */
  get(spreadsheetId: string): Spreadsheet {
    const spreadsheet = this.spreadsheets.get(spreadsheetId);
    if (!spreadsheet) throw spreadsheetNotFound();
    return spreadsheet;
  }

  has(spreadsheetId: string): boolean {
    return this.spreadsheets.has(spreadsheetId);
  }

  create(options: CreateSpreadsheetOptions = {}, source: ChangeSource = 'api'): Spreadsheet {
    // Google's ids are 44 characters of base64url; any unique string works for the client.
    const spreadsheetId = options.spreadsheetId ?? randomBytes(33).toString('base64url');
    const properties: SpreadsheetProperties = {
      title: options.title ?? 'Untitled spreadsheet',
      locale: 'en_US',
      timeZone: 'Etc/GMT',
      autoRecalc: 'ON_CHANGE',
    };
    const spreadsheet = new Spreadsheet(spreadsheetId, properties);
    const sheets = options.sheets?.length ? options.sheets : [{ sheetId: 0, title: 'Sheet1' }];
    for (const sheet of sheets) spreadsheet.addSheet(sheet);
    this.spreadsheets.set(spreadsheetId, spreadsheet);
    this.emit({ spreadsheetId, source, kind: 'createSpreadsheet' });
    return spreadsheet;
  }

  /** Puts a spreadsheet in place as is (loading persisted state). Emits nothing. */
  adopt(spreadsheet: Spreadsheet): void {
    this.spreadsheets.set(spreadsheet.spreadsheetId, spreadsheet);
  }

  delete(spreadsheetId: string, source: ChangeSource = 'api'): void {
    this.get(spreadsheetId);
    this.spreadsheets.delete(spreadsheetId);
    this.emit({ spreadsheetId, source, kind: 'deleteSpreadsheet' });
  }

  reset(): void {
    for (const spreadsheetId of [...this.spreadsheets.keys()]) this.delete(spreadsheetId);
  }

  /** Subscribes to every change; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs `operation` on one spreadsheet as a transaction. If it throws, every sheet is restored
   * and no event is emitted; otherwise its events are emitted in order, after the change is
   * complete, so a listener reading the model sees the new state.
   */
  mutate<T>(
    spreadsheetId: string,
    source: ChangeSource,
    operation: (spreadsheet: Spreadsheet, emit: Emit) => T,
  ): T {
    const spreadsheet = this.get(spreadsheetId);
    const notes: ChangeNote[] = [];
    spreadsheet.begin();
    let result: T;
    try {
      result = operation(spreadsheet, (note) => notes.push(note));
    } catch (error) {
      spreadsheet.rollback();
      throw error;
    }
    spreadsheet.commit();
    for (const note of notes) this.emit({ spreadsheetId, source, ...note });
    return result;
  }

  private emit(event: ChangeEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        // A failing listener (a trigger, a grid connection) must not undo or block the change.
        console.error('emulator: change listener failed', error);
      }
    }
  }
}
