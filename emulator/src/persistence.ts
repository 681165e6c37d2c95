/**
 * The optional state file. Loaded once at start; after each change a save is scheduled
 * (debounced, so a burst of writes costs one save) and written atomically: to a temporary file
 * in the same directory, then renamed over the old one, so a crash leaves the old or the new
 * state, never half of one.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { restoreSpreadsheet, type SpreadsheetState, serializeSpreadsheet } from './model/serialization.ts';
import type { SpreadsheetStore } from './model/store.ts';

interface StateDocument {
  version: 1;
  spreadsheets: SpreadsheetState[];
}

export class StateFile {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;

  constructor(
    readonly path: string,
    private readonly store: SpreadsheetStore,
    private readonly debounceMs = 200,
  ) {}

  async load(): Promise<void> {
    if (existsSync(this.path)) {
      let document: StateDocument;
      try {
        document = JSON.parse(await readFile(this.path, 'utf8')) as StateDocument;
      } catch (error) {
        throw new Error(
          `state file ${this.path} is not valid JSON (${(error as Error).message}); move it away to start empty`,
        );
      }
      if (document.version !== 1) throw new Error(`emulator: unknown state file version in ${this.path}`);
      for (const state of document.spreadsheets) this.store.adopt(restoreSpreadsheet(state));
    }
    this.unsubscribe = this.store.onChange(() => this.schedule());
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.debounceMs);
  }

  /** Writes the current state now (after any write in progress). */
  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const document: StateDocument = {
        version: 1,
        spreadsheets: this.store.list().map(serializeSpreadsheet),
      };
      await mkdir(dirname(this.path), { recursive: true });
      const temporary = `${this.path}.${process.pid}.tmp`;
      await writeFile(temporary, JSON.stringify(document));
      await rename(temporary, this.path);
    });
    return this.writing;
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      await this.flush();
    }
    await this.writing;
  }
}
