/**
 * The deployed database connection verifies the server (issue 18, Build 6): the TLS options
 * adapters/postgres-tls.ts builds, spread into postgres.js as index.ts does, over a DATABASE_URL
 * that says `sslmode=require` (as terraform/secrets.tf writes it). A stand-in server answers
 * PostgreSQL's SSLRequest and shakes hands with certificates made here by openssl: one from the
 * instance's CA naming the instance as Cloud SQL does (CN `PROJECT:INSTANCE`, no IP SAN), one
 * from another CA, one from the right CA for another instance.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresTls } from '../../functions/src/adapters/postgres-tls.ts';

const INSTANCE = 'my-project:europe-west1:sheetsync';
let dir: string;
const pem = (name: string) => readFileSync(join(dir, name), 'utf8');

function openssl(...args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(name: string) {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '3650',
    '-subj',
    `/CN=${name}`,
  );
}

function makeServerCert(name: string, ca: string, commonName: string) {
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${commonName}`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '3650',
  );
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sheetsync-pg-tls-'));
  makeCa('instance-ca');
  makeCa('other-ca');
  makeServerCert('instance', 'instance-ca', 'my-project:sheetsync');
  makeServerCert('impostor', 'other-ca', 'my-project:sheetsync');
  makeServerCert('other-instance', 'instance-ca', 'my-project:other');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A server that says yes to SSLRequest ('S', PostgreSQL protocol 55.2.10 "SSL Session
 * Encryption"), shakes hands with `cert`, and answers the startup message with a FATAL
 * ErrorResponse naming itself, so the client stops there; `handshakes` counts completed ones.
 */
async function tlsPostgresStandIn(
  cert: string,
): Promise<{ port: number; handshakes: () => number; close(): Promise<void> }> {
  const key = pem(`${cert}.key`);
  const chain = pem(`${cert}.pem`);
  let handshakes = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('data', () => {
      socket.write('S');
      const secure = new TLSSocket(socket, { isServer: true, key, cert: chain });
      secure.on('error', () => secure.destroy());
      secure.on('secure', () => handshakes++);
      secure.once('data', () => secure.end(fatal(STAND_IN_GREETING)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    handshakes: () => handshakes,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const STAND_IN_GREETING = 'the stand-in got the startup message over TLS';

/** An ErrorResponse message: severity FATAL, SQLSTATE 28000, the given text. */
function fatal(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C28000\0M${message}\0\0`);
  const length = Buffer.alloc(4);
  length.writeInt32BE(fields.length + 4);
  return Buffer.concat([Buffer.from('E'), length, fields]);
}

/** Connects as index.ts does; resolves with the client's error (the stand-in never logs in). */
async function connect(port: number, env: Record<string, string | undefined>): Promise<Error> {
  const sql = postgres(`postgres://sheetsync:pw@127.0.0.1:${port}/sheetsync?sslmode=require`, {
    max: 1,
    connect_timeout: 3,
    onnotice: () => {},
    ...postgresTls(env),
  });
  try {
    await sql`select 1`;
    throw new Error('the stand-in answered a query');
  } catch (error) {
    return error as Error;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const deployed = () => ({
  SHEETSYNC_DATABASE_CA: pem('instance-ca.pem'),
  SHEETSYNC_DATABASE_INSTANCE: INSTANCE,
  K_SERVICE: 'sheetsync-apply-to-db',
});

describe('the Cloud SQL connection verifies the server', () => {
  it("completes the handshake with the instance's certificate", async () => {
    const server = await tlsPostgresStandIn('instance');
    try {
      expect((await connect(server.port, deployed())).message).toBe(STAND_IN_GREETING);
      expect(server.handshakes()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('refuses a certificate from another CA, which sslmode=require alone accepts', async () => {
    const server = await tlsPostgresStandIn('impostor');
    try {
      const refused = await connect(server.port, deployed());
      expect(refused.message).toMatch(/unable to verify|self.signed|unable to get local issuer/i);
      expect(server.handshakes()).toBe(0);
      // What the deployment did before: the URL's sslmode=require, no verification.
      expect((await connect(server.port, {})).message).toBe(STAND_IN_GREETING);
      expect(server.handshakes()).toBe(1);
    } finally {
      await server.close();
    }
  });

  it("refuses the same CA's certificate for another instance", async () => {
    const server = await tlsPostgresStandIn('other-instance');
    try {
      const refused = await connect(server.port, deployed());
      expect(refused.message).toContain(
        '"my-project:other", not the Cloud SQL instance my-project:sheetsync',
      );
      expect(server.handshakes()).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('trusts every CA of the bundle (a rotation: current and upcoming)', async () => {
    const server = await tlsPostgresStandIn('instance');
    try {
      const answer = await connect(server.port, {
        ...deployed(),
        SHEETSYNC_DATABASE_CA: `${pem('other-ca.pem')}\n${pem('instance-ca.pem')}`,
      });
      expect(answer.message).toBe(STAND_IN_GREETING);
      expect(server.handshakes()).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe('postgresTls options', () => {
  it('verifies with the CA, the chain and the instance name', () => {
    const { ssl } = postgresTls(deployed());
    expect(ssl?.rejectUnauthorized).toBe(true);
    expect(ssl?.ca).toEqual([pem('instance-ca.pem').trim()]);
    expect(typeof ssl?.checkServerIdentity).toBe('function');
  });

  it('names the instance as Cloud SQL does, also for a domain-scoped project', () => {
    const check = postgresTls({ ...deployed(), SHEETSYNC_DATABASE_INSTANCE: 'example.com:proj:us-east1:db' })
      .ssl!.checkServerIdentity!;
    const cert = (cn: string) => ({ subject: { CN: cn } }) as never;
    expect(check('10.0.0.3', cert('example.com:proj:db'))).toBeUndefined();
    expect(check('10.0.0.3', cert('proj:db'))?.message).toContain(
      'not the Cloud SQL instance example.com:proj:db',
    );
  });

  it('leaves a local connection to its DATABASE_URL, and refuses to run unverified on Cloud Run', () => {
    expect(postgresTls({})).toEqual({});
    expect(() => postgresTls({ K_SERVICE: 'sheetsync-reconcile' })).toThrow(
      expect.objectContaining({ code: 'SHEETSYNC_E108' }),
    );
  });

  it('refuses a CA that is not PEM and an instance that is not a connection name', () => {
    expect(() => postgresTls({ ...deployed(), SHEETSYNC_DATABASE_CA: 'not a certificate' })).toThrow(
      expect.objectContaining({ code: 'SHEETSYNC_E106' }),
    );
    const broken = pem('instance-ca.pem').replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!');
    expect(() => postgresTls({ ...deployed(), SHEETSYNC_DATABASE_CA: broken })).toThrow(
      expect.objectContaining({ code: 'SHEETSYNC_E106', message: expect.stringContaining('does not parse') }),
    );
    for (const instance of [undefined, 'sheetsync', 'my-project::sheetsync'])
      expect(() => postgresTls({ ...deployed(), SHEETSYNC_DATABASE_INSTANCE: instance })).toThrow(
        expect.objectContaining({ code: 'SHEETSYNC_E107' }),
      );
  });
});
