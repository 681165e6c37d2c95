import { randomBytes } from 'node:crypto';

/** A name unique to this run and test file, for topics, subscriptions and collections. */
export function uniqueName(base: string): string {
  return `${base}-${randomBytes(4).toString('hex')}`;
}
