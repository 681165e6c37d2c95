import { createMemoryBus } from '../../functions/src/adapters/memory-bus.ts';
import { busContract } from '../support/bus-contract.ts';

busContract('in-process', () => createMemoryBus());
