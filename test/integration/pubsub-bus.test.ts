import { inject } from 'vitest';
import { createPubSubBus } from '../../functions/src/adapters/pubsub-bus.ts';
import { busContract } from '../support/bus-contract.ts';

busContract('Google Pub/Sub emulator', () =>
  createPubSubBus({ projectId: 'sheetsync-test', apiEndpoint: inject('pubsubEmulatorHost') }),
);
