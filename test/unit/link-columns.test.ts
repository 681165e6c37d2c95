import { describe, expect, it } from 'vitest';
import { allowedColumns, onlyAllowed } from '../../functions/src/core/link-columns.ts';

describe("a link's columns", () => {
  it('keeps the listed columns and the key, and everything without a list', () => {
    const allowed = allowedColumns(['name', 'email'], ['id']);
    expect(onlyAllowed({ id: 1, name: 'Ada', email: 'a@x', password_hash: 'x' }, allowed)).toEqual({
      id: 1,
      name: 'Ada',
      email: 'a@x',
    });
    expect(onlyAllowed({ id: 1, secret: 's' }, allowedColumns(undefined, ['id']))).toEqual({
      id: 1,
      secret: 's',
    });
  });
});
