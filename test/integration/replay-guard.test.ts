/**
 * The webhook's replay guard, Firestore (through Google's emulator) and in memory, held to one
 * contract: an event id may go on until it is completed, then every request with it is a replay.
 */
import { randomUUID } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { describe, expect, inject, it } from 'vitest';
import {
  firestoreReplayGuard,
  memoryReplayGuard,
  type ReplayGuard,
} from '../../functions/src/handlers/sheet-webhook/replay-guard.ts';
import { uniqueName } from '../support/names.ts';

const [host, port] = inject('firestoreEmulatorHost').split(':');
const firestore = new Firestore({ projectId: 'sheetsync-test', host, port: Number(port), ssl: false });
const root = uniqueName('replay');

describe.each([
  ['firestore (emulator)', () => firestoreReplayGuard(firestore, root)],
  ['memory', () => memoryReplayGuard()],
])('replay guard: %s', (_name, open: () => ReplayGuard) => {
  it('lets a pending event go on again, and refuses it once completed', async () => {
    const guard = open();
    const id = randomUUID();
    expect(await guard.claim(id, 1_000)).toBe(true);
    // The first request died before publishing: the retry goes on.
    expect(await guard.claim(id, 2_000)).toBe(true);
    await guard.complete(id, 3_000);
    expect(await guard.claim(id, 4_000)).toBe(false);
    expect(await guard.claim(randomUUID(), 4_000)).toBe(true);
  });

  it('refuses an event completed without a claim of its own (a concurrent request)', async () => {
    const guard = open();
    const id = randomUUID();
    await guard.complete(id, 1_000);
    expect(await guard.claim(id, 1_001)).toBe(false);
  });
});

it('takes a marker of the earlier version (no state) as a completed event', async () => {
  const id = randomUUID();
  await firestore
    .collection(root)
    .doc(id)
    .create({ expireAt: new Date(5_000) });
  expect(await firestoreReplayGuard(firestore, root).claim(id, 1_000)).toBe(false);
});
