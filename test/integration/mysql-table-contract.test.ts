/** The Table port's contract (test/support/table-contract.ts) on MariaDB (MySQL's adapter). */
import { describe, expect, it } from 'vitest';
import { installMysqlCapture, watchMysqlTable } from '../../functions/src/adapters/mysql/mysql-capture.ts';
import { readMysqlOutbox } from '../../functions/src/adapters/mysql/mysql-outbox.ts';
import { describeMysqlTable } from '../../functions/src/adapters/mysql/mysql-schema.ts';
import { createMysqlTable } from '../../functions/src/adapters/mysql/mysql-table.ts';
import { useMysqlDatabase } from '../support/mysql.ts';
import { tableContract } from '../support/table-contract.ts';

const db = useMysqlDatabase();
// sheetsync's own tables in the file's database, so files running at once share none.
const table = () => createMysqlTable(db.pool, { outboxDatabase: db.name });

async function createPeople(): Promise<string> {
  await installMysqlCapture(db.pool, db.name);
  await db.pool.query('drop table if exists people');
  await db.pool.query(`create table people (
    id int not null auto_increment primary key,
    name varchar(200) not null,
    note text null
  )`);
  await watchMysqlTable(db.pool, await describeMysqlTable(db.pool, 'people'), 'people-link', db.name);
  return 'people';
}

tableContract('MariaDB', () => ({ table: table(), createPeople }));

describe('MySQL Table: restore and reshow record rows for the sheet once more', () => {
  it('records a restored row as an INSERT of every column, and a reshown one as an UPDATE of the columns named, origin db', async () => {
    await createPeople();
    await db.pool.query("insert into people (id, name, note) values (7, 'Kept', 'n'), (8, 'Other', 'o')");
    await db.pool.query(`delete from \`${db.name}\`.outbox`);
    const t = table();
    const schema = await t.describe('people', { name: 'people-link' });
    await t.inSheetTransaction(async (tx) => {
      await tx.restore(schema, [{ id: 7 }]);
      await tx.reshow(schema, [{ id: 8 }], ['note']);
    });
    const watched = await describeMysqlTable(db.pool, 'people');
    const [[{ id }]] = (await db.pool.query(
      `select id from \`${db.name}\`.watched where table_name = 'people'`,
    )) as unknown as [[{ id: number }]];
    const changes = await readMysqlOutbox(db.pool, new Map([[id, watched]]), db.name);
    expect(changes.map(({ op, origin, dot, key, cells }) => ({ op, origin, dot, key, cells }))).toEqual([
      { op: 'INSERT', origin: 'db', dot: null, key: { id: 7 }, cells: { id: 7, name: 'Kept', note: 'n' } },
      { op: 'UPDATE', origin: 'db', dot: null, key: { id: 8 }, cells: { note: 'o' } },
    ]);
  });
});
