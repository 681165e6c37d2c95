/**
 * A database of its own for each test file, dropped afterwards, so files run in parallel and a
 * re-run on a dirty machine starts clean.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, inject } from 'vitest';

export interface TestDatabase {
  /** Connection URL of the file's own database. */
  url: string;
  /** A client on it (max 10 connections). */
  sql: postgres.Sql;
}

/** Registers beforeAll/afterAll hooks that create and drop a fresh database for this file. */
export function useTestDatabase(prefix = 'sheetsync_test'): TestDatabase {
  const handle = {} as TestDatabase;
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const adminUrl = inject('databaseUrl');
  beforeAll(async () => {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    try {
      await admin`create database ${admin(name)}`;
    } finally {
      await admin.end();
    }
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    handle.url = url.toString();
    handle.sql = postgres(handle.url, { max: 10, onnotice: () => {} });
  });
  afterAll(async () => {
    await handle.sql?.end({ timeout: 5 });
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    try {
      await admin`drop database if exists ${admin(name)} with (force)`;
    } finally {
      await admin.end();
    }
  });
  return handle;
}
