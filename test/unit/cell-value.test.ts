import { describe, expect, it } from 'vitest';
import { sameValueOrRetyped } from '../../functions/src/core/cell-value.ts';

describe('sameValueOrRetyped', () => {
  it('takes a number and its decimal text in another type as the same value', () => {
    expect(sameValueOrRetyped(20, '20.00')).toBe(true);
    expect(sameValueOrRetyped('-3.5', -3.5)).toBe(true);
    expect(sameValueOrRetyped(20, 20)).toBe(true);
  });
  it('tells different values apart', () => {
    expect(sameValueOrRetyped(20, '20.01')).toBe(false);
    expect(sameValueOrRetyped(20, '20 units')).toBe(false);
    expect(sameValueOrRetyped(20, '2e1')).toBe(false);
    expect(sameValueOrRetyped('20', '20.00')).toBe(false);
    expect(sameValueOrRetyped(0, null)).toBe(false);
  });
});
