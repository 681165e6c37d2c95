/** The Table port's contract (test/support/table-contract.ts) on MariaDB (MySQL's adapter). */
import { installMysqlCapture, watchMysqlTable } from '../../functions/src/adapters/mysql/mysql-capture.ts';
import { describeMysqlTable } from '../../functions/src/adapters/mysql/mysql-schema.ts';
import { createMysqlTable } from '../../functions/src/adapters/mysql/mysql-table.ts';
import { useMysqlDatabase } from '../support/mysql.ts';
import { tableContract } from '../support/table-contract.ts';

const db = useMysqlDatabase();

tableContract('MariaDB', () => ({
  // sheetsync's own tables in the file's database, so files running at once share none.
  table: createMysqlTable(db.pool, { outboxDatabase: db.name }),
  async createPeople() {
    await installMysqlCapture(db.pool, db.name);
    await db.pool.query('drop table if exists people');
    await db.pool.query(`create table people (
      id int not null auto_increment primary key,
      name varchar(200) not null,
      note text null
    )`);
    await watchMysqlTable(db.pool, await describeMysqlTable(db.pool, 'people'), 'people-link', db.name);
    return 'people';
  },
}));
