/**
 * TLS for the deployed database connection: Cloud SQL by private IP (terraform/sql.tf), verified
 * against the instance's own server CAs rather than merely encrypted (`sslmode=require` checks
 * no certificate, so anyone on the path could answer as the database and read the password).
 *
 * Terraform passes the instance's trusted server CAs (data `google_sql_ca_certs`: the current
 * one and, during a rotation, the upcoming one) as SHEETSYNC_DATABASE_CA, and its connection
 * name as SHEETSYNC_DATABASE_INSTANCE. Cloud SQL's server certificate names the instance, not
 * the IP we connect to: with the default per-instance CA its subject CN is `PROJECT:INSTANCE`
 * and it has no IP SAN (Cloud SQL, "Authorize with SSL/TLS certificates"; the Cloud SQL
 * connectors check the same CN), so the usual host name check cannot pass and the CN is checked
 * instead. A certificate whose SANs do match the host (a DNS-named instance) passes too.
 *
 * Why not the Cloud SQL Node connector: it needs `roles/cloudsql.client`, the Admin API on every
 * cold start (an ephemeral certificate per instance) and a dependency tree of its own, to verify
 * what a CA bundle verifies here.
 */
import { X509Certificate } from 'node:crypto';
import { type ConnectionOptions, checkServerIdentity, type PeerCertificate } from 'node:tls';
import { SheetsyncError } from '../errors.ts';

/** The environment variables this module reads; terraform sets them for the database functions. */
export const POSTGRES_TLS_ENV = ['SHEETSYNC_DATABASE_CA', 'SHEETSYNC_DATABASE_INSTANCE'] as const;

/** The options to spread into `postgres(url, {...})`: `ssl` when the server is to be verified. */
export interface PostgresTls {
  ssl?: ConnectionOptions;
}

/**
 * Builds the TLS options from `env`. With SHEETSYNC_DATABASE_CA: verify the chain against it and
 * the server's identity against SHEETSYNC_DATABASE_INSTANCE. Without it, off Cloud Run: nothing
 * (the DATABASE_URL's own `sslmode` decides, as for a local database). Without it on Cloud Run
 * (K_SERVICE set): refused, so a deployment can never fall back to an unverified connection.
 */
export function postgresTls(env: Readonly<Record<string, string | undefined>>): PostgresTls {
  const bundle = env.SHEETSYNC_DATABASE_CA?.trim();
  if (!bundle) {
    if (env.K_SERVICE)
      throw new SheetsyncError(
        'SHEETSYNC_E108',
        'SHEETSYNC_DATABASE_CA is not set, so the database server could not be verified; deploy with terraform apply (terraform/sql.tf passes the Cloud SQL server CAs)',
        'permanent',
      );
    return {};
  }
  const ca = certificatesOf(bundle);
  const expectedName = serverNameOf(env.SHEETSYNC_DATABASE_INSTANCE);
  return {
    ssl: {
      ca,
      rejectUnauthorized: true,
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        if (cert.subject?.CN === expectedName) return undefined;
        if (checkServerIdentity(host, cert) === undefined) return undefined;
        return new Error(
          `the database server's certificate names ${JSON.stringify(cert.subject?.CN ?? '')}, not the Cloud SQL instance ${expectedName}`,
        );
      },
    },
  };
}

/** Each PEM certificate of the bundle, checked to parse. */
function certificatesOf(bundle: string): string[] {
  const pems = bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const refuse = (why: string) =>
    new SheetsyncError(
      'SHEETSYNC_E106',
      `SHEETSYNC_DATABASE_CA ${why}; it must hold the Cloud SQL instance's server CA certificates in PEM (terraform/sql.tf sets it)`,
      'permanent',
    );
  if (pems.length === 0) throw refuse('holds no PEM certificate');
  for (const [i, pem] of pems.entries()) {
    try {
      new X509Certificate(pem);
    } catch {
      throw refuse(`certificate ${i + 1} of ${pems.length} does not parse`);
    }
  }
  return pems;
}

/** `PROJECT:REGION:INSTANCE` → the CN Cloud SQL's server certificate carries, `PROJECT:INSTANCE`. */
function serverNameOf(connectionName: string | undefined): string {
  const parts = (connectionName ?? '').trim().split(':');
  // A domain-scoped project id has a colon of its own: `example.com:project:region:instance`.
  if (parts.length < 3 || parts.some((part) => part === ''))
    throw new SheetsyncError(
      'SHEETSYNC_E107',
      `SHEETSYNC_DATABASE_INSTANCE must be the Cloud SQL connection name PROJECT:REGION:INSTANCE (got ${JSON.stringify(connectionName ?? '')}); terraform/sql.tf sets it`,
      'permanent',
    );
  const instance = parts.pop()!;
  parts.pop();
  return `${parts.join(':')}:${instance}`;
}
