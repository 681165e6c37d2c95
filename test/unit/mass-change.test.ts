import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SAFETY,
  exceedsSafety,
  heldChangeId,
  rowSetOrigin,
} from '../../functions/src/core/mass-change.ts';

describe('the mass-change guard', () => {
  it('holds more than 20 rows and more than 10% of them, by default', () => {
    expect(exceedsSafety(30, 40, DEFAULT_SAFETY)).toBe(true);
    expect(exceedsSafety(20, 40, DEFAULT_SAFETY)).toBe(false);
    expect(exceedsSafety(21, 210, DEFAULT_SAFETY)).toBe(false);
    expect(exceedsSafety(22, 210, DEFAULT_SAFETY)).toBe(true);
    expect(exceedsSafety(500, 100_000, DEFAULT_SAFETY)).toBe(false);
    // A total below the deletes (rows the count did not see) is taken as the deletes.
    expect(exceedsSafety(25, 0, DEFAULT_SAFETY)).toBe(true);
  });

  it("follows a link's own thresholds; 0 rows holds every delete above the share", () => {
    expect(exceedsSafety(1, 5, { maxDeleteRows: 0, maxDeleteShare: 0 })).toBe(true);
    expect(exceedsSafety(0, 5, { maxDeleteRows: 0, maxDeleteShare: 0 })).toBe(false);
    expect(exceedsSafety(3, 5, { maxDeleteRows: 2, maxDeleteShare: 0.5 })).toBe(true);
    expect(exceedsSafety(2, 5, { maxDeleteRows: 1, maxDeleteShare: 0.5 })).toBe(false);
  });

  it('gives one change one id, whatever the order of its rows', () => {
    const a = heldChangeId('leads', 'reconcile', rowSetOrigin('db', ['b', 'a']));
    expect(a).toBe(heldChangeId('leads', 'reconcile', rowSetOrigin('db', ['a', 'b'])));
    expect(a).not.toBe(heldChangeId('leads', 'reconcile', rowSetOrigin('sheet', ['a', 'b'])));
    expect(a).not.toBe(heldChangeId('other', 'reconcile', rowSetOrigin('db', ['a', 'b'])));
    expect(a).toMatch(/^h[0-9a-f]{15}$/);
  });
});
