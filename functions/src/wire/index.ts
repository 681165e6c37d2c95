/**
 * Every wire format of sheetsync, as valibot schemas with their inferred TypeScript types:
 * config, bus messages, webhook bodies. Input is parsed once, here at the edge; inside, the
 * types are trusted. Each concern has its own file; this module re-exports them all.
 */
export * from './config.ts';
export * from './dashboard.ts';
export * from './db-change.ts';
export * from './row-change.ts';
export * from './sheet-change.ts';
export * from './webhook.ts';
