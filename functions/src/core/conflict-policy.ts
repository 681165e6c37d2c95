/**
 * Conflict policies (DESIGN.md §2, "Conflicts"). A conflict is one cell changed on both sides
 * concurrently; the policy names the value both sides converge to. Policies are per link with
 * per-column overrides. A custom resolver must be deterministic: a redelivered change is decided
 * again and must be decided the same way.
 */
import type { CellValue } from './cell-value.ts';
import { compareHlc, type Hlc } from './hlc.ts';

export type PolicyName = 'last-writer-wins' | 'sheet-wins' | 'db-wins' | 'manual';

export const policyNames: readonly PolicyName[] = ['last-writer-wins', 'sheet-wins', 'db-wins', 'manual'];

/** One side of a conflict. */
export interface ConflictSide {
  value: CellValue;
  dot: string;
  time: Hlc;
}

export interface ConflictInput {
  rowId: string;
  column: string;
  sheet: ConflictSide;
  db: ConflictSide;
}

/** Which value wins: one side's, or a value the resolver computed (e.g. a merge of both). */
export type ConflictChoice = 'sheet' | 'db' | { value: CellValue };

/**
 * What a custom resolver returns when it could not decide (it threw, or returned something that
 * is not a choice): the DB value is kept and the conflict stays open for a person, as `manual`
 * leaves it, under the resolver's own label.
 */
export const UNDECIDED = Object.freeze({ undecided: true as const });
export type Undecided = typeof UNDECIDED;

export type ConflictResolver = (conflict: ConflictInput) => ConflictChoice | Undecided;

/** A decision: the winner, and whether the conflict stays open for a person. */
export interface ConflictDecision {
  choice: ConflictChoice;
  open: boolean;
}

export interface CustomPolicy {
  /** Shown in conflict records, e.g. `custom:concat-notes`. */
  name: string;
  resolve: ConflictResolver;
}

export type ColumnPolicy = PolicyName | CustomPolicy;

export interface ConflictPolicy {
  default: ColumnPolicy;
  columns?: Record<string, ColumnPolicy>;
}

export const defaultConflictPolicy: ConflictPolicy = { default: 'last-writer-wins' };

export function policyFor(policy: ConflictPolicy, column: string): ColumnPolicy {
  return policy.columns?.[column] ?? policy.default;
}

export function policyLabel(policy: ColumnPolicy): string {
  return typeof policy === 'string' ? policy : policy.name;
}

/**
 * The winner under `policy`. Last-writer-wins compares HLC times; on equal times the DB wins
 * (the origin tie break: the table is the system of record and its constraints already hold).
 * `manual` keeps the DB value until a person resolves the conflict.
 */
export function decideConflict(policy: ColumnPolicy, conflict: ConflictInput): ConflictDecision {
  if (typeof policy !== 'string') {
    const choice = policy.resolve(conflict);
    return isUndecided(choice) ? { choice: 'db', open: true } : { choice, open: false };
  }
  return { choice: chooseWinner(policy, conflict), open: policy === 'manual' };
}

function isUndecided(choice: ConflictChoice | Undecided): choice is Undecided {
  return typeof choice === 'object' && choice !== null && 'undecided' in choice;
}

/** The winner under a built-in policy. */
function chooseWinner(policy: PolicyName, conflict: ConflictInput): ConflictChoice {
  switch (policy) {
    case 'sheet-wins':
      return 'sheet';
    case 'db-wins':
    case 'manual':
      return 'db';
    case 'last-writer-wins':
      return compareHlc(conflict.sheet.time, conflict.db.time) > 0 ? 'sheet' : 'db';
  }
}
