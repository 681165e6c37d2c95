import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fromMysql,
  fromSheetToMysql,
  placeholder,
  toMysqlParam,
} from '../../functions/src/adapters/mysql/mysql-coercion.ts';
import { declaredMembers, mysqlColumnType } from '../../functions/src/adapters/mysql/mysql-column-type.ts';
import {
  isMysqlRowRefusal,
  isTransientMysqlError,
  mysqlRowRefusalCode,
} from '../../functions/src/adapters/mysql/mysql-errors.ts';
import { toSheet } from '../../functions/src/core/coercion.ts';

/** A column type as information_schema.COLUMNS would give it. */
function t(columnType: string, extra: { precision?: number; scale?: number; maxLength?: number } = {}) {
  const dataType = /^\w+/.exec(columnType)![0];
  return mysqlColumnType({
    dataType,
    columnType,
    maxLength: extra.maxLength ?? null,
    precision: extra.precision ?? null,
    scale: extra.scale ?? null,
    json: false,
  });
}

const integerTypes: Array<[string, bigint, bigint]> = [
  ['tinyint(4)', -128n, 127n],
  ['tinyint(3) unsigned', 0n, 255n],
  ['smallint(6)', -32768n, 32767n],
  ['mediumint(8) unsigned', 0n, 16777215n],
  ['int(11)', -(2n ** 31n), 2n ** 31n - 1n],
  ['int(10) unsigned', 0n, 2n ** 32n - 1n],
  ['bigint(20)', -(2n ** 63n), 2n ** 63n - 1n],
  ['bigint(20) unsigned', 0n, 2n ** 64n - 1n],
  ['bit(1)', 0n, 1n],
  ['bit(64)', 0n, 2n ** 64n - 1n],
];

describe('MySQL integers and BIT: the whole range, exactly, and nothing outside it', () => {
  for (const [name, min, max] of integerTypes) {
    it(name, () => {
      const type = name.startsWith('bit') ? t(name, { precision: Number(/\d+/.exec(name)![0]) }) : t(name);
      fc.assert(
        fc.property(fc.bigInt({ min, max }), (value) => {
          const fromText = fromSheetToMysql(value.toString(), type);
          expect(fromText.ok).toBe(true);
          if (!fromText.ok) return;
          // Canonical: a number when every value of the type is exact in a double, else text.
          expect(String(fromText.value)).toBe(value.toString());
          expect(typeof fromText.value).toBe(max < 2n ** 53n ? 'number' : 'string');
          expect(fromSheetToMysql(toSheet(fromText.value, type.core), type)).toEqual(fromText);
          expect(fromMysql(toMysqlParam(fromText.value, type), type)).toEqual(fromText);
        }),
        { numRuns: 200 },
      );
      fc.assert(
        fc.property(fc.bigInt({ min: 1n, max: 2n ** 70n }), (excess) => {
          expect(fromSheetToMysql((max + excess).toString(), type).ok).toBe(false);
          expect(fromSheetToMysql((min - excess).toString(), type).ok).toBe(false);
        }),
        { numRuns: 50 },
      );
    });
  }

  it('reads BIT as mysql2 returns it, a big-endian Buffer, and casts its parameters', () => {
    const bit = t('bit(64)', { precision: 64 });
    expect(fromMysql(Buffer.from('ffffffffffffffff', 'hex'), bit)).toEqual({
      ok: true,
      value: '18446744073709551615',
    });
    expect(fromMysql(Buffer.from([0, 5]), t('bit(10)', { precision: 10 }))).toEqual({ ok: true, value: 5 });
    expect([placeholder(bit), placeholder(t('bigint(20)')), placeholder(t('int(11)'))]).toEqual([
      'cast(? as unsigned)',
      'cast(? as signed)',
      '?',
    ]);
  });
});

describe('round trip: a canonical MySQL value shown on the sheet reads back as itself', () => {
  const cases: Array<[string, ReturnType<typeof t>, fc.Arbitrary<unknown>]> = [
    ['tinyint(1)', t('tinyint(1)'), fc.boolean()],
    [
      'decimal(30,10)',
      t('decimal(30,10)', { precision: 30, scale: 10 }),
      fc
        .tuple(
          fc.bigInt({ min: -(10n ** 20n) + 1n, max: 10n ** 20n - 1n }),
          fc.bigInt({ min: 0n, max: 10n ** 10n - 1n }),
        )
        .map(([whole, fraction]) =>
          fromSheetToMysql(
            `${whole}.${fraction.toString().padStart(10, '0')}`,
            t('decimal(30,10)', { precision: 30, scale: 10 }),
          ),
        )
        .map((r) => (r.ok ? r.value : '0')),
    ],
    ['enum', t("enum('red','green','it''s')"), fc.constantFrom('red', 'green', "it's")],
    [
      'set',
      t("set('read','write','admin')"),
      fc.subarray(['read', 'write', 'admin'], { minLength: 1 }).map((members) => members.join(',')),
    ],
    [
      'datetime(6)',
      t('datetime(6)'),
      fc
        .tuple(
          fc.date({ min: new Date('1000-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
          fc.integer({ min: 0, max: 999 }),
        )
        .map(([d, micros]) =>
          fromSheetToMysql(d.toISOString().replace('Z', String(micros).padStart(3, '0')), t('datetime(6)')),
        )
        .map((r) => (r.ok ? r.value : null)),
    ],
    [
      'timestamp',
      t('timestamp'),
      fc
        .date({
          min: new Date('1970-01-01T00:00:01Z'),
          max: new Date('2038-01-19T03:14:07Z'),
          noInvalidDate: true,
        })
        .map((d) => `${d.toISOString().slice(0, 19)}Z`),
    ],
    ['json', t('json'), fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)))],
    [
      'varchar(20)',
      t('varchar(20)', { maxLength: 20 }),
      fc.string({ minLength: 1, maxLength: 20 }).filter((s) => s.trim() === s && s !== ''),
    ],
  ];
  for (const [name, type, arbitrary] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(arbitrary as fc.Arbitrary<never>, (value) => {
          expect(fromSheetToMysql(toSheet(value, type.core), type)).toEqual({ ok: true, value });
          // What the statement sends, read back in mysql2's text form, is the same value.
          expect(fromMysql(toMysqlParam(value, type), type)).toEqual({ ok: true, value });
        }),
        { numRuns: 200 },
      );
    });
  }
});

describe('MySQL members and values', () => {
  it('parses ENUM and SET members with doubled quotes and commas inside', () => {
    expect(declaredMembers("enum('a','it''s','x,y','')")).toEqual(['a', "it's", 'x,y', '']);
  });

  it('matches ENUM and SET members case-insensitively and orders SET members as declared', () => {
    const set = t("set('read','write','admin')");
    expect(fromSheetToMysql(' ADMIN , read,read', set)).toEqual({ ok: true, value: 'read,admin' });
    expect(fromSheetToMysql('Green', t("enum('red','green')"))).toEqual({ ok: true, value: 'green' });
  });

  it('keeps DECIMAL within its whole digits and refuses NaN, which MySQL lacks', () => {
    const money = t('decimal(5,2)', { precision: 5, scale: 2 });
    expect(fromSheetToMysql('999.99', money)).toEqual({ ok: true, value: '999.99' });
    expect(fromSheetToMysql('-1000', money).ok).toBe(false);
    expect(fromSheetToMysql('NaN', money).ok).toBe(false);
    expect(fromMysql('12.500', money)).toEqual({ ok: true, value: '12.5' });
  });

  it("reads TINYINT(1) as MySQL's truth and keeps a zero date as it is", () => {
    expect([0, 1, 2, -1].map((v) => fromMysql(v, t('tinyint(1)')))).toEqual([
      { ok: true, value: false },
      { ok: true, value: true },
      { ok: true, value: true },
      { ok: true, value: true },
    ]);
    expect(fromMysql('0000-00-00', t('date'))).toEqual({ ok: true, value: '0000-00-00' });
  });
});

describe('MySQL errors: whose they are', () => {
  const server = (errno: number, sqlState = 'HY000') =>
    Object.assign(new Error('x'), { errno, sqlState, sqlMessage: 'x' });

  it("treats the row's own errors as refusals, with PostgreSQL's codes", () => {
    const cases: Array<[number, string]> = [
      [1048, 'SHEETSYNC_E409'],
      [1062, 'SHEETSYNC_E409'],
      [1451, 'SHEETSYNC_E409'],
      [1644, 'SHEETSYNC_E409'],
      [3819, 'SHEETSYNC_E409'],
      [4025, 'SHEETSYNC_E409'],
      [1906, 'SHEETSYNC_E413'],
      [3105, 'SHEETSYNC_E413'],
      [1143, 'SHEETSYNC_E413'],
      [1118, 'SHEETSYNC_E414'],
    ];
    for (const [errno, code] of cases) {
      expect(isMysqlRowRefusal(server(errno)), String(errno)).toBe(true);
      expect(mysqlRowRefusalCode(errno), String(errno)).toBe(code);
    }
  });

  it('retries what passes with time and does not blame a row for a changed table', () => {
    for (const errno of [1205, 1213, 1040, 1053, 1290, 1969, 3024]) {
      expect([isTransientMysqlError(server(errno)), isMysqlRowRefusal(server(errno))], String(errno)).toEqual(
        [true, false],
      );
    }
    for (const errno of [1146, 1054]) {
      expect([isTransientMysqlError(server(errno)), isMysqlRowRefusal(server(errno))], String(errno)).toEqual(
        [false, false],
      );
    }
    const lost = Object.assign(new Error('Connection lost'), {
      code: 'PROTOCOL_CONNECTION_LOST',
      fatal: true,
    });
    const fatal = Object.assign(server(1153, '08S01'), { fatal: true });
    expect([lost, fatal].map((e) => [isTransientMysqlError(e), isMysqlRowRefusal(e)])).toEqual([
      [true, false],
      [true, false],
    ]);
  });
});
